"""The label report as one self-contained HTML page: charts drawn with matplotlib as SVG
and inlined (about 30 KB a chart, no script, no network), tables as plain HTML.

matplotlib rather than plotly: a plotly page inlines its 3-4 MB JavaScript bundle to be
self-contained, and these charts need no interaction.
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

from toolkit.labels.report import Report

_FAVOUR = {"FAVOR": "#009E73", "AGAINST": "#D55E00", "NONE": "#999999",
           "NOT_DISCUSSED": "#DDDDDD"}  # fmt: skip
_OTHER = ("#56B4E9", "#E69F00", "#CC79A7", "#0072B2", "#F0E442")


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: inlined in HTML


def _figure(height: float, columns: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 10})  # text stays text
    return plt.subplots(1, columns, figsize=(7.5 if columns == 1 else 10, height))


def label_chart(report: Report) -> str:
    """Mentions per entity type, and document stance per target (stacked)."""
    fig, (left, right) = _figure(3.4, columns=2)
    types = list(report.entity_types)
    left.barh(types, [report.entity_types[t]["mentions"] for t in types], color="#56B4E9",
              label="all rows")  # fmt: skip
    left.barh(types, [report.entity_types[t]["gold"] for t in types], color="#0072B2",
              label="gold", height=0.4)  # fmt: skip
    left.invert_yaxis()
    left.set_title("Entity mentions per type")
    left.legend(loc="lower right", fontsize=8)
    targets = list(report.targets)
    lefts = [0] * len(targets)
    stances = list(next(iter(report.targets.values()), {}))
    for i, s in enumerate(stances):
        values = [report.targets[t][s] for t in targets]
        right.barh(targets, values, left=lefts, label=s,
                   color=_FAVOUR.get(s, _OTHER[i % len(_OTHER)]))  # fmt: skip
        lefts = [a + b for a, b in zip(lefts, values, strict=True)]
    right.invert_yaxis()
    right.set_title("Document stance rows per target")
    right.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def progress_chart(report: Report) -> str:
    fig, ax = _figure(0.5 + 0.4 * max(1, len(report.annotators)))
    names = [a["annotator"] for a in report.annotators]
    ax.barh(names, [a["total"] for a in report.annotators], color="#EEEEEE", label="articles")
    ax.barh(names, [a["done"] for a in report.annotators], color="#009E73", label="done")
    for i, a in enumerate(report.annotators):
        ax.text(a["done"], i, f" {a['done']}/{a['total']}", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_title("Annotator progress (articles annotated / articles in the release)")
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def agreement_chart(report: Report) -> str:
    """Alpha per target and exact-span F1 per entity type, each bar labelled with n."""
    fig, (left, right) = _figure(3.4, columns=2)
    for ax, rows, title in (
        (left, [(t.target, t.alpha, t.units) for t in report.agreement.stance],
         "Stance: Krippendorff's alpha (n = articles)"),
        (right, [(t.entity_type, t.f1_exact, t.mentions) for t in report.type_agreement],
         "Entities: exact-span F1 (n = mentions)"),
    ):  # fmt: skip
        names = [r[0] for r in rows]
        values = [r[1] if r[1] is not None else 0.0 for r in rows]
        ax.barh(names, values, color=["#0072B2" if r[1] is not None else "#DDDDDD" for r in rows])
        for i, (_, value, n) in enumerate(rows):
            label = "undefined" if value is None else f"{value:.2f}"
            ax.text(max(values[i], 0) + 0.02, i, f"{label} (n={n})", va="center", fontsize=8)
        ax.set_xlim(min(0.0, *values) - 0.05, 1.35)
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_title(title)
    return _svg(fig)


def _confusion_table(table: dict[tuple[str, str], int], title: str) -> str:
    if not table:
        return f"<h3>{escape(title)}</h3><p>No disagreements.</p>"
    values = sorted({v for pair in table for v in pair})
    top = max(table.values())
    rows = ["<tr><th></th>" + "".join(f"<th>{escape(v)}</th>" for v in values) + "</tr>"]
    for a in values:
        cells = []
        for b in values:
            n = table.get((min(a, b), max(a, b)), 0) if a != b else 0
            shade = int(255 - 150 * n / top) if n else 255
            cells.append(f'<td style="background: rgb(255,{shade},{shade})">{n or ""}</td>')
        rows.append(f"<tr><th>{escape(a)}</th>{''.join(cells)}</tr>")
    return f"<h3>{escape(title)}</h3><table class=confusion>{''.join(rows)}</table>"


def render_html(report: Report, title: str) -> str:
    """The whole page."""
    open_rows = "".join(
        f"<tr><td>{escape(d.article_id)}</td><td>{d.task_id}</td><td>{escape(d.kind)}</td>"
        f"<td>{escape(d.what)}</td><td>"
        + "; ".join(f"{escape(who)}: {escape(v)}" for who, v in d.values)
        + "</td></tr>"
        for d in report.open_disagreements
    )
    settled = sum(1 for d in report.disagreements if d.settled)
    annot = "".join(
        f"<tr><td>{escape(a['annotator'])}</td><td>{a['annotations']}</td>"
        f"<td>{a['done']}/{a['total']}</td><td>{a['entity_rows']}</td>"
        f"<td>{a['stance_rows']}</td></tr>"
        for a in report.annotators
    )
    counts = "".join(f"<li>{escape(k)}: {v}</li>" for k, v in report.counts.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 24px auto; color: #222; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-size: 14px; }}
table.confusion td {{ text-align: center; min-width: 48px; }}
svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>Release {escape(report.version)}: {report.articles} articles,
{report.counts["articles_annotated"]} annotated.</p>
<ul>{counts}</ul>
<h2>Labels</h2>{label_chart(report)}
<h2>Annotators</h2>{progress_chart(report)}
<table><tr><th>annotator</th><th>annotations</th><th>done/total</th><th>entity rows</th>
<th>stance rows</th></tr>{annot}</table>
<h2>Agreement</h2>
<p>Over {report.agreement.articles} article(s) with two or more annotators.</p>
{agreement_chart(report)}
<h2>Disagreements</h2>
<p>{len(report.open_disagreements)} open, {settled} settled by a ground-truth annotation.</p>
{_confusion_table(report.confusion.get("stance", {}), "Document stance: annotator pairs")}
{_confusion_table(report.confusion.get("entity", {}), "Entity type (or not marked): pairs")}
{_confusion_table(report.confusion.get("entity_stance", {}), "Entity stance: pairs")}
<h3>Open</h3>
<table><tr><th>article</th><th>task</th><th>kind</th><th>what</th><th>values</th></tr>
{open_rows}</table>
</body></html>
"""
