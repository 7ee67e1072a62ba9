"""The annotators' instructions, shown by Label Studio before labelling (and behind the
"i" button): the dataset's own instructions, then the guide of every entity type, stance
and target from the label scheme, then every hotkey. HTML, generated, never hand-kept."""

from __future__ import annotations

from html import escape
from typing import Any

from toolkit.dataset.schema import label_set
from toolkit.studio.label_config import entity_stances, hotkeys


def _key(key: str | None) -> str:
    return f"<kbd>{escape(key)}</kbd>" if key else "-"


def build_instructions(instructions: str = "", labels: dict[str, Any] | None = None) -> str:
    """The project's `expert_instruction` for the label set (default: schemas/labels.yaml)."""
    labels = labels or label_set()
    keys = hotkeys(labels)
    parts = ["<h3>How to annotate</h3>"]
    if instructions.strip():
        parts += [f"<p>{escape(p.strip())}</p>" for p in instructions.split("\n\n") if p.strip()]
    parts.append(
        "<ol><li>Mark every named entity: pick its type in the label bar (or press its key), "
        "then select the words in the text with the mouse.</li>"
        "<li>Click each marked entity and give the article's stance toward it in the amber "
        "box (keys " + " / ".join(_key(k) for k in keys.entity_stances.values()) + ").</li>"
        "<li>Give the document stance toward every target in the blue boxes: each one is "
        "required (choose NOT_DISCUSSED when the article does not discuss it).</li>"
        "<li>Submit.</li></ol>"
    )
    parts.append("<h4>Entity types</h4><ul>")
    parts += [
        f"<li><b>{escape(t['name'])}</b> ({_key(keys.entity_types[t['name']])}): "
        f"{escape(t.get('guide') or '')}</li>"
        for t in labels["entity_types"]
    ]
    parts.append("</ul><h4>Stances</h4><ul>")
    region = {s["name"] for s in entity_stances(labels)}
    parts += [
        f"<li><b>{escape(s['name'])}</b>: {escape(s.get('guide') or '')}"
        + ("" if s["name"] in region else " (document stance only)")
        + "</li>"
        for s in labels["stances"]
    ]
    # Written as the server stores it (it sanitises the HTML and adds <tbody>), so that an
    # unchanged push finds it unchanged.
    parts.append("</ul><h4>Targets (document stance)</h4><table><tbody><tr><th>target</th>")
    parts += [f"<th>{escape(s['name'])}</th>" for s in labels["stances"]]
    parts.append("<th>guide</th></tr>")
    for t in labels["stance_targets"]:
        cells = "".join(
            f"<td>{_key(keys.targets[(t['name'], s['name'])])}</td>" for s in labels["stances"]
        )
        parts.append(
            f"<tr><td><b>{escape(t['name'])}</b></td>{cells}"
            f"<td>{escape(t.get('guide') or '')}</td></tr>"
        )
    parts.append("</tbody></table>")
    return "\n".join(parts)
