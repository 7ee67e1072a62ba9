"""The labeling interface generated from schemas/labels.yaml, and what the server makes of it."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

from toolkit.dataset.schema import label_names, label_set
from toolkit.errors import SchemaError, StudioError
from toolkit.studio.display import display_date
from toolkit.studio.label_config import (
    ENTITY_CONTROL,
    ENTITY_STANCE_CONTROL,
    RESERVED_KEYS,
    TEXT_NAME,
    build_label_config,
    control_for_target,
    hotkeys,
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
    region_stances = [s["name"] for s in label_set()["stances"] if not s.get("document_only")]
    assert region_stances == ["FAVOR", "AGAINST", "NONE"]
    assert stances == [*region_stances, "NOT_DISCUSSED"]
    per_region = found[ENTITY_STANCE_CONTROL]
    assert per_region.get("perRegion") == "true" and per_region.get("required") == "true"
    assert [el.get("value") for el in per_region] == region_stances
    for target in label_names("stance_targets"):
        choices = found[control_for_target(target)]
        assert choices.get("perRegion") is None  # document level
        assert choices.get("required") == "true"  # a missing row means "not annotated"
        assert [el.get("value") for el in choices] == stances
    text = [el for el in ET.fromstring(xml).iter("Text")]
    assert [(t.get("name"), t.get("value")) for t in text] == [(TEXT_NAME, "$text")]
    headers = [h.get("value") for h in ET.fromstring(xml).iter("Header")]
    assert headers[:3] == ["$title", "$publisher", "$published_display"]


def parents(root: ET.Element) -> dict[ET.Element, ET.Element]:
    return {child: parent for parent in root.iter() for child in parent}


def test_layout_keeps_labels_and_stances_in_view_and_tells_them_apart() -> None:
    root = ET.fromstring(build_label_config())
    up = parents(root)
    labels = next(el for el in root.iter("Labels"))
    assert "position: sticky" in up[labels].get("style", "")  # the label bar stays in view
    text = next(root.iter("Text"))
    assert "overflow-y: auto" in up[text].get("style", "")  # the article scrolls in its box
    named = {el.get("name"): el for el in root.iter() if el.tag in ("Labels", "Choices")}
    box = up[named[ENTITY_STANCE_CONTROL]]
    assert box.get("visibleWhen") == "region-selected"
    hint = next(v for v in root.iter("View") if v.get("visibleWhen") == "no-region-selected")
    assert "click a marked entity" in next(hint.iter("Header")).get("value")
    # the entity stance and the document stances sit in the same sticky column, in boxes
    # that look different (amber vs blue)
    column = up[box]
    assert "position: sticky" in column.get("style", "")
    target_box = up[named["stance_rusia"]]
    assert up[target_box] is column
    assert "#E69F00" in box.get("style") and "#0072B2" in target_box.get("style")


def test_every_control_has_its_own_explicit_hotkey() -> None:
    root = ET.fromstring(build_label_config())
    keys = [el.get("hotkey") for el in root.iter() if el.tag in ("Label", "Choice")]
    assert all(keys) and len(keys) == len(set(keys)), keys
    assert not set(keys) & RESERVED_KEYS
    region = [c.get("hotkey") for c in controls(ET.tostring(root, encoding="unicode"))[
        ENTITY_STANCE_CONTROL]]  # fmt: skip
    assert region == ["1", "2", "3"]
    keys_of = hotkeys()
    assert keys_of.targets[("Rusia", "FAVOR")] == "4"
    assert keys_of.targets[("Rusia", "NOT_DISCUSSED")] == "7"
    # A label set with more targets than keys: the rest get none (never a duplicate).
    many = _labels(stance_targets=[{"name": f"T{i}"} for i in range(12)])
    got = [v for v in hotkeys(many).targets.values() if v]
    assert len(got) == len(set(got)) and None in hotkeys(many).targets.values()
    with pytest.raises(SchemaError, match="clash"):
        build_label_config(_labels(entity_types=[{"name": "PER", "hotkey": "1"}]))
    with pytest.raises(SchemaError, match="clash"):
        build_label_config(_labels(entity_types=[{"name": "PER", "hotkey": "u"}]))


def test_published_date_is_shown_as_the_papers_print_it() -> None:
    assert display_date("2023-09-20T20:02:00+07:00") == "Rabu, 20 Sep 2023 20:02 WIB"
    assert display_date("2023-12-03T07:05:00+08:00") == "Minggu, 3 Des 2023 07:05 WITA"
    assert display_date("2023-08-17T09:00:00+09:00") == "Kamis, 17 Agu 2023 09:00 WIT"
    assert display_date("2023-09-20T13:02:00+00:00") == "Rabu, 20 Sep 2023 13:02 UTC+00:00"
    assert display_date("") == display_date(None) == display_date("kemarin") == ""


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
    assert parsed[ENTITY_STANCE_CONTROL]["labels"] == ["FAVOR", "AGAINST", "NONE"]
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
