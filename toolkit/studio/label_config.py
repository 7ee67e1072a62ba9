"""The Label Studio labeling interface, generated from the label set in schemas/labels.yaml.

The XML is derived, never hand-written, so the entity types and stance targets the
annotators see are exactly the ones the dataset's ClassLabels declare. The control names
are part of the contract with `pull`: entity spans come back under `ENTITY_CONTROL`, the
stance of a marked entity under `ENTITY_STANCE_CONTROL` (sharing the span's region id),
and the document-level stance toward a target under `control_for_target(target)`.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import quoteattr

from toolkit.dataset.schema import label_set
from toolkit.errors import SchemaError

TEXT_NAME = "text"
ENTITY_CONTROL = "entity"
ENTITY_STANCE_CONTROL = "entity_stance"
TARGET_PREFIX = "stance_"
# Fields of a task's `data` that the config reads: every imported task must carry them all.
DATA_FIELDS = ("text", "title", "publisher", "published_at")

# A fixed palette (colour-blind friendly, Okabe-Ito plus extras) assigned in label order.
_PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
    "#8C564B",
    "#17BECF",
)


def _slug(name: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    if not slug:
        raise SchemaError(f"stance target {name!r} has no letters or digits to name a control")
    return slug


def control_for_target(target: str) -> str:
    """The Label Studio control name holding the document stance toward `target`."""
    return TARGET_PREFIX + _slug(target)


def target_controls(labels: dict[str, Any] | None = None) -> dict[str, str]:
    """Map control name -> stance target, for every target; the inverse `pull` needs."""
    labels = labels or label_set()
    mapping: dict[str, str] = {}
    for item in labels["stance_targets"]:
        control = control_for_target(item["name"])
        if control in mapping:
            raise SchemaError(
                f"stance targets {mapping[control]!r} and {item['name']!r} "
                f"both become control name {control!r}: rename one"
            )
        mapping[control] = item["name"]
    return mapping


def target_for_control(control: str, labels: dict[str, Any] | None = None) -> str:
    """The stance target a control name stands for (KeyError-free: SchemaError if unknown)."""
    try:
        return target_controls(labels)[control]
    except KeyError:
        raise SchemaError(f"{control!r} is not a stance-target control") from None


def _attrs(**attrs: str | None) -> str:
    """XML attributes, escaped and in a fixed order (the given one), None values left out."""
    return "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items() if v is not None)


def _check_hotkeys(entity_types: list[dict[str, Any]]) -> None:
    keys = [item["hotkey"] for item in entity_types if item.get("hotkey")]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise SchemaError(f"labels.yaml: hotkey(s) used twice: {', '.join(duplicates)}")


def build_label_config(labels: dict[str, Any] | None = None) -> str:
    """The labeling interface XML for the label set (default: schemas/labels.yaml).

    Deterministic: the same label set always gives the same string, so comparing it with
    a project's stored config tells whether the project needs an update.
    """
    labels = labels or label_set()
    entity_types = labels["entity_types"]
    stances = labels["stances"]
    _check_hotkeys(entity_types)
    controls = target_controls(labels)

    lines = ["<View>"]
    lines.append('  <View style="padding: 0 0 8px 0; border-bottom: 1px solid #ddd">')
    lines.append(f"    <Header{_attrs(value='$title', size='3')}/>")
    lines.append(f"    <Header{_attrs(value='$publisher', size='6')}/>")
    lines.append(f"    <Header{_attrs(value='$published_at', size='6')}/>")
    lines.append("  </View>")

    lines.append(f"  <Labels{_attrs(name=ENTITY_CONTROL, toName=TEXT_NAME, showInline='true')}>")
    for i, item in enumerate(entity_types):
        attrs = _attrs(
            value=item["name"],
            hotkey=item.get("hotkey") or None,
            background=_PALETTE[i % len(_PALETTE)],
            hint=item.get("guide") or None,
        )
        lines.append(f"    <Label{attrs}/>")
    lines.append("  </Labels>")
    lines.append(f"  <Text{_attrs(name=TEXT_NAME, value='$text')}/>")

    # Shown only while a region is selected; its result carries the region's id (the link).
    lines.append('  <View visibleWhen="region-selected">')
    heading = _attrs(value="Stance of the article toward this entity", size="6")
    lines.append(f"    <Header{heading}/>")
    lines.append(
        "    <Choices"
        + _attrs(
            name=ENTITY_STANCE_CONTROL,
            toName=TEXT_NAME,
            perRegion="true",
            choice="single",
            showInline="true",
        )
        + ">"
    )
    lines.extend(_choice_lines(stances, indent="      "))
    lines.append("    </Choices>")
    lines.append("  </View>")

    guides = {item["name"]: item.get("guide") for item in labels["stance_targets"]}
    for control, target in controls.items():
        lines.append("  <View>")
        lines.append(f"    <Header{_attrs(value=f'Stance toward {target}', size='5')}/>")
        choices = _attrs(
            name=control,
            toName=TEXT_NAME,
            choice="single",
            showInline="true",
            hint=guides.get(target) or None,
        )
        lines.append(f"    <Choices{choices}>")
        lines.extend(_choice_lines(stances, indent="      "))
        lines.append("    </Choices>")
        lines.append("  </View>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _choice_lines(stances: list[dict[str, Any]], indent: str) -> list[str]:
    return [
        f"{indent}<Choice{_attrs(value=item['name'], hint=item.get('guide') or None)}/>"
        for item in stances
    ]
