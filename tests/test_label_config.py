"""The labeling interface generated from schemas/labels.yaml, and what the server makes of it."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

from toolkit.dataset.schema import label_names, label_set
from toolkit.errors import SchemaError, StudioError
from toolkit.studio.label_config import (
    ENTITY_CONTROL,
    ENTITY_STANCE_CONTROL,
    TEXT_NAME,
    build_label_config,
    control_for_target,
    target_controls,
    target_for_control,
)
from toolkit.studio.push import ensure_project

if TYPE_CHECKING:
    from conftest import StudioServer


def controls(xml: str) -> dict[str, ET.Element]:
    return {
        el.get("name"): el for el in ET.fromstring(xml).iter() if el.tag in ("Labels", "Choices")
    }


def test_config_holds_every_entity_type_stance_and_target() -> None:
    xml = build_label_config()
    found = controls(xml)
    entity = found[ENTITY_CONTROL]
    assert entity.get("toName") == TEXT_NAME
    assert [el.get("value") for el in entity] == list(label_names("entity_types"))
    assert [el.get("hotkey") for el in entity] == [t["hotkey"] for t in label_set()["entity_types"]]
    stances = list(label_names("stances"))
    per_region = found[ENTITY_STANCE_CONTROL]
    assert per_region.get("perRegion") == "true"
    assert [el.get("value") for el in per_region] == stances
    for target in label_names("stance_targets"):
        choices = found[control_for_target(target)]
        assert choices.get("perRegion") is None  # document level
        assert [el.get("value") for el in choices] == stances
    text = [el for el in ET.fromstring(xml).iter("Text")]
    assert [(t.get("name"), t.get("value")) for t in text] == [(TEXT_NAME, "$text")]
    headers = [h.get("value") for h in ET.fromstring(xml).iter("Header")]
    assert headers[:3] == ["$title", "$publisher", "$published_at"]


def test_config_is_deterministic() -> None:
    assert build_label_config() == build_label_config()
    assert build_label_config(copy.deepcopy(label_set())) == build_label_config()


def test_control_names_map_back_to_targets() -> None:
    mapping = target_controls()
    assert sorted(mapping.values()) == sorted(label_names("stance_targets"))
    assert control_for_target("Korea Utara") == "stance_korea_utara"
    for control, target in mapping.items():
        assert control_for_target(target) == control
        assert target_for_control(control) == target
    with pytest.raises(SchemaError, match="not a stance-target control"):
        target_for_control("stance_mars")


def _labels(**changes: object) -> dict:
    labels = copy.deepcopy(label_set())
    labels.update(changes)
    return labels


def test_every_value_is_xml_escaped() -> None:
    nasty = "A&B <x> \"q\" 's'"
    labels = _labels(
        entity_types=[{"name": nasty, "hotkey": "&", "guide": "</Label><Evil/>"}],
        stances=[{"name": "<FAVOR>", "guide": 'say "yes" & mean it'}],
        stance_targets=[{"name": nasty, "guide": "]]><!--"}],
    )
    xml = build_label_config(labels)
    root = ET.fromstring(xml)  # parses: nothing broke out of its attribute
    assert not list(root.iter("Evil"))
    label = next(root.iter("Label"))
    assert (label.get("value"), label.get("hotkey"), label.get("hint")) == (
        nasty,
        "&",
        "</Label><Evil/>",
    )
    target = controls(xml)[control_for_target(nasty)]
    assert target.get("hint") == "]]><!--"
    assert [c.get("value") for c in target] == ["<FAVOR>"]
    assert control_for_target(nasty) == "stance_a_b_x_q_s"


def test_ambiguous_or_unnameable_targets_and_hotkey_clashes_are_refused() -> None:
    twins = _labels(stance_targets=[{"name": "Korea Utara"}, {"name": "korea-utara"}])
    with pytest.raises(SchemaError, match="both become control name 'stance_korea_utara'"):
        build_label_config(twins)
    with pytest.raises(SchemaError, match="no letters or digits"):
        build_label_config(_labels(stance_targets=[{"name": "???"}]))
    clash = _labels(entity_types=[{"name": "PER", "hotkey": "p"}, {"name": "ORG", "hotkey": "p"}])
    with pytest.raises(SchemaError, match="hotkey"):
        build_label_config(clash)


@pytest.mark.studio
def test_server_accepts_the_config_and_sees_every_type_and_target(studio: StudioServer) -> None:
    client = studio.client()
    pid, created, updated = ensure_project(client, "label-config-check", build_label_config())
    assert created and not updated
    parsed = client.sdk.projects.get(pid).parsed_label_config
    assert parsed[ENTITY_CONTROL]["type"] == "Labels"
    assert parsed[ENTITY_CONTROL]["labels"] == list(label_names("entity_types"))
    assert parsed[ENTITY_STANCE_CONTROL]["labels"] == list(label_names("stances"))
    for control, target in target_controls().items():
        assert parsed[control]["type"] == "Choices", target
        assert parsed[control]["labels"] == list(label_names("stances"))
        assert parsed[control]["to_name"] == [TEXT_NAME]
    # Same title again: found, not re-created, config already current.
    assert ensure_project(client, "label-config-check", build_label_config()) == (pid, False, False)


@pytest.mark.studio
def test_an_invalid_config_fails_loudly_at_project_creation(studio: StudioServer) -> None:
    client = studio.client()
    broken = '<View><Labels name="entity" toName="nowhere"><Label value="PER"/></Labels></View>'
    with pytest.raises(
        StudioError, match=r"refused to create project 'broken-config' \(HTTP 400\)"
    ):
        ensure_project(client, "broken-config", broken)
    assert client.sdk.projects.list(title="broken-config").items == []
