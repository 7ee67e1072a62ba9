"""The Label Studio labeling interface, generated from the label set in schemas/labels.yaml.

The XML is derived, never hand-written, so the entity types and stance targets the
annotators see are exactly the ones the dataset's ClassLabels declare. The control names
are part of the contract with `pull`: entity spans come back under `ENTITY_CONTROL`, the
stance of a marked entity under `ENTITY_STANCE_CONTROL` (sharing the span's region id),
and the document-level stance toward a target under `control_for_target(target)`.

The layout (measured in a browser, see tests/test_browser.py): two columns. Left, the
headline, a readable date and the entity label bar, which stays in view (sticky) above
the article text, itself in a scrolling box. Right, a panel that stays in view too: the
stance of the selected entity in an amber box (with a note saying to click an entity
while none is selected), then the document stance per target in blue boxes. Every
control has an explicit hotkey (`hotkeys`): Label Studio otherwise hands out arbitrary
keys to whatever has none. Every stance is required, per entity and per target, so an
annotation without a stance row was never submitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from toolkit.dataset.schema import label_set
from toolkit.errors import SchemaError

TEXT_NAME = "text"
ENTITY_CONTROL = "entity"
ENTITY_STANCE_CONTROL = "entity_stance"
TARGET_PREFIX = "stance_"
# Fields of a task's `data` that the config reads: every imported task must carry them all.
DATA_FIELDS = ("text", "title", "publisher", "published_display")

# Label Studio's own single-key shortcuts in a text project ("u" unselects the region);
# scheme hotkeys may not take them.
RESERVED_KEYS = frozenset({"u"})
# The keys Label Studio itself hands out, in its order (its `makeComb`): explicit keys for
# the document stances are drawn from it, so once it runs dry Label Studio has none left to
# give a control either (a scheme with very many targets: the rest get no hotkey).
KEY_POOL = "1234567890qwetasdfgzxcvbyiopjklnm"

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
_ENTITY_BOX = (
    "background: #fff4e0; border: 2px solid #E69F00; border-radius: 6px; "
    "padding: 6px 10px; margin-bottom: 12px"
)
_ENTITY_HINT = (
    "background: #fafafa; border: 2px dashed #E69F00; border-radius: 6px; "
    "padding: 6px 10px; margin-bottom: 12px"
)
_TARGET_BOX = (
    "background: #eef5fb; border-left: 4px solid #0072B2; border-radius: 4px; "
    "padding: 2px 10px; margin-bottom: 6px"
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


def entity_stances(labels: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The stance values offered for a marked entity (not the `document_only` ones)."""
    labels = labels or label_set()
    return [item for item in labels["stances"] if not item.get("document_only")]


@dataclass(frozen=True)
class Hotkeys:
    """Every key of the interface: entity type -> key, entity stance -> key, and
    (target, stance) -> key (None once the pool ran dry)."""

    entity_types: dict[str, str | None]
    entity_stances: dict[str, str]
    targets: dict[tuple[str, str], str | None]


def hotkeys(labels: dict[str, Any] | None = None) -> Hotkeys:
    """Assign the keys: the scheme's own for entity types, 1, 2, 3... for the stance of the
    selected entity, then the rest of `KEY_POOL`, target by target, for document stances.
    Raises SchemaError on a clash (two types on one key, or a type on a reserved key)."""
    labels = labels or label_set()
    types = labels["entity_types"]
    given = [item["hotkey"] for item in types if item.get("hotkey")]
    twice = sorted({k for k in given if given.count(k) > 1})
    if twice:
        raise SchemaError(f"labels.yaml: hotkey(s) used twice: {', '.join(twice)}")
    region = entity_stances(labels)
    if len(region) > 9:
        raise SchemaError("labels.yaml: at most 9 entity stances (keys 1-9)")
    region_keys = {item["name"]: str(i) for i, item in enumerate(region, start=1)}
    taken = set(region_keys.values())
    bad = sorted(k for k in given if k in RESERVED_KEYS or k in taken)
    if bad:
        raise SchemaError(
            f"labels.yaml: entity hotkey(s) {', '.join(bad)} clash with Label Studio's own "
            f"keys or the entity stance keys 1-{len(region)}: choose letters"
        )
    taken |= set(given)
    pool = iter(k for k in KEY_POOL if k not in taken and k not in RESERVED_KEYS)
    type_keys = {item["name"]: item.get("hotkey") or next(pool, None) for item in types}
    target_keys = {
        (target["name"], stance["name"]): next(pool, None)
        for target in labels["stance_targets"]
        for stance in labels["stances"]
    }
    return Hotkeys(type_keys, region_keys, target_keys)


def _attrs(**attrs: str | None) -> str:
    """XML attributes, escaped and in a fixed order (the given one), None values left out."""
    return "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items() if v is not None)


def build_label_config(labels: dict[str, Any] | None = None) -> str:
    """The labeling interface XML for the label set (default: schemas/labels.yaml).

    Deterministic: the same label set always gives the same string, so comparing it with
    a project's stored config tells whether the project needs an update.
    """
    labels = labels or label_set()
    controls = target_controls(labels)
    keys = hotkeys(labels)
    region_stances = entity_stances(labels)
    guides = {item["name"]: item.get("guide") for item in labels["stance_targets"]}

    lines = ['<View style="display: flex; gap: 16px; align-items: flex-start">']
    # ---- left column: headline, label bar (sticky), the article in its own scroll box
    lines.append('  <View style="flex: 3; min-width: 0">')
    lines.append('    <View style="padding: 0 0 6px 0; border-bottom: 1px solid #ddd">')
    lines.append(f"      <Header{_attrs(value='$title', size='3')}/>")
    lines.append(f"      <Header{_attrs(value='$publisher', size='6')}/>")
    lines.append(f"      <Header{_attrs(value='$published_display', size='6')}/>")
    lines.append("    </View>")
    lines.append(
        '    <View style="position: sticky; top: 0; z-index: 10; background: #fff; padding: 6px 0">'
    )
    labels_attrs = _attrs(name=ENTITY_CONTROL, toName=TEXT_NAME, showInline="true")
    lines.append(f"      <Labels{labels_attrs}>")
    for i, item in enumerate(labels["entity_types"]):
        attrs = _attrs(
            value=item["name"],
            hotkey=keys.entity_types[item["name"]],
            background=_PALETTE[i % len(_PALETTE)],
            hint=item.get("guide") or None,
        )
        lines.append(f"        <Label{attrs}/>")
    lines.append("      </Labels>")
    lines.append("    </View>")
    lines.append(
        '    <View style="max-height: 65vh; overflow-y: auto; border: 1px solid #ddd; '
        'border-radius: 4px; padding: 4px 8px">'
    )
    lines.append(f"      <Text{_attrs(name=TEXT_NAME, value='$text')}/>")
    lines.append("    </View>")
    lines.append("  </View>")

    # ---- right column, kept in view: entity stance (amber), document stance (blue)
    lines.append(
        '  <View style="flex: 2; min-width: 260px; position: sticky; top: 0; '
        'max-height: 85vh; overflow-y: auto">'
    )
    lines.append(f'    <View visibleWhen="no-region-selected" style="{_ENTITY_HINT}">')
    hint = "Entity stance: click a marked entity in the text to give its stance"
    lines.append(f"      <Header{_attrs(value=hint, size='6')}/>")
    lines.append("    </View>")
    # Shown only while a region is selected; its result carries the region's id (the link).
    lines.append(f'    <View visibleWhen="region-selected" style="{_ENTITY_BOX}">')
    heading = "Stance of the article toward the SELECTED ENTITY"
    lines.append(f"      <Header{_attrs(value=heading, size='5')}/>")
    lines.append(
        "      <Choices"
        + _attrs(
            name=ENTITY_STANCE_CONTROL,
            toName=TEXT_NAME,
            perRegion="true",
            choice="single",
            required="true",
            requiredMessage="Every marked entity needs a stance: select it and choose one.",
            showInline="true",
        )
        + ">"
    )
    for item in region_stances:
        attrs = _attrs(
            value=item["name"],
            hotkey=keys.entity_stances[item["name"]],
            hint=item.get("guide") or None,
        )
        lines.append(f"        <Choice{attrs}/>")
    lines.append("      </Choices>")
    lines.append("    </View>")

    heading = "Document stance: how the whole article portrays each target"
    lines.append(f"    <Header{_attrs(value=heading, size='5')}/>")
    for control, target in controls.items():
        lines.append(f'    <View style="{_TARGET_BOX}">')
        lines.append(f"      <Header{_attrs(value=target, size='6')}/>")
        choices = _attrs(
            name=control,
            toName=TEXT_NAME,
            choice="single",
            required="true",
            requiredMessage=f"Choose the article's stance toward {target}.",
            showInline="true",
            hint=guides.get(target) or None,
        )
        lines.append(f"      <Choices{choices}>")
        for item in labels["stances"]:
            attrs = _attrs(
                value=item["name"],
                hotkey=keys.targets[(target, item["name"])],
                hint=item.get("guide") or None,
            )
            lines.append(f"        <Choice{attrs}/>")
        lines.append("      </Choices>")
        lines.append("    </View>")
    lines.append("  </View>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"
