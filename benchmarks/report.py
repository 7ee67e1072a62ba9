"""The benchmark figures as a table (text) and the targets they are judged against."""

from __future__ import annotations

from typing import Any

BUILD_COLUMNS = (("io_floor", "I/O floor"), ("naive", "naive"), ("build_1w", "build 1w"),
                 ("build_2w", "build 2w"))  # fmt: skip


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue target with the measured value and whether it is met (None: not run)."""
    rows = results.get("build", [])
    largest = rows[-1] if rows else None
    smallest = rows[0] if rows else None
    push = results.get("push") or {}
    pull = results.get("pull") or {}

    def ratio(key: str) -> float | None:
        return largest["ratios"][key] if largest else None

    rss = None
    if largest and smallest and largest is not smallest:
        rss = largest["build_1w"]["peak_rss_mb"] / smallest["build_1w"]["peak_rss_mb"]
    n = f"N={largest['n']}" if largest else ""
    push_n = f"N={push['tasks']}" if push else ""
    pull_n = f"N={pull['tasks']}" if pull else ""
    out = [
        ("build 2w vs naive throughput", ">= 1.5x", ratio("build_2w_vs_naive"), 1.5, "ge", n),
        ("build 1w vs naive throughput", "(info)", ratio("build_1w_vs_naive"), None, "ge", n),
        ("speed-up 1 -> 2 workers", ">= 1.7x", ratio("speedup_1_to_2_workers"), 1.7, "ge", n),
        ("peak RSS largest N / smallest N", "<= 1.5x", rss, 1.5, "le",
         f"{largest['n']}/{smallest['n']}" if largest and smallest else ""),
        ("push rate vs raw import rate", ">= 0.8x", push.get("ratio_push_vs_raw_rate"), 0.8,
         "ge", push_n),
        ("re-push time / first push time", "< 0.1x", push.get("ratio_repush_vs_push_time"), 0.1,
         "lt", push_n),
        ("pull time / bare export time", "<= 1.5x", pull.get("ratio_pull_vs_bare_export_time"),
         1.5, "le", pull_n),
    ]  # fmt: skip
    checks = {"ge": lambda v, t: v >= t, "le": lambda v, t: v <= t, "lt": lambda v, t: v < t}
    return [
        {
            "target": name,
            "wanted": wanted,
            "value": value,
            "at": at,
            "met": None if value is None or limit is None else checks[op](value, limit),
        }
        for name, wanted, value, limit, op, at in out
    ]


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    rows = results.get("build", [])
    if rows:
        lines.append("BUILD (each figure in its own process; rates over the corpus bytes)")
        lines.append(
            f"{'N':>7} {'MB':>7} {'job':<10} {'seconds':>8} {'art/s':>8} {'MB/s':>7} "
            f"{'peak RSS MB':>11}"
        )
        for row in rows:
            for key, label in BUILD_COLUMNS:
                f = row[key]
                lines.append(
                    f"{row['n']:>7} {row['corpus_mb']:>7.1f} {label:<10} {f['seconds']:>8.1f} "
                    f"{f['articles_per_s']:>8.1f} {f['mb_per_s']:>7.2f} {f['peak_rss_mb']:>11.0f}"
                )
            r = row["ratios"]
            lines.append(
                f"{'':>7} ratios: build/naive {r['build_1w_vs_naive']:.2f}x (1w) "
                f"{r['build_2w_vs_naive']:.2f}x (2w); build/io-floor "
                f"{r['build_1w_vs_io_floor']:.3f}x (1w) {r['build_2w_vs_io_floor']:.3f}x (2w); "
                f"speed-up 1->2 workers {r['speedup_1_to_2_workers']:.2f}x"
            )
    push = results.get("push")
    if push:
        lines.append("")
        each = "  ".join(f"{r:.2f}x" for r in push["ratio_push_vs_raw_rate_each"])
        lines.append(f"PUSH ({push['tasks']} tasks; medians of {push['pairs']} alternated pairs)")
        lines.append(
            f"  toolkit push      {push['push_seconds']:8.2f} s  "
            f"{push['push_tasks_per_s']:8.1f} tasks/s"
        )
        lines.append(
            f"  raw import_tasks  {push['raw_import_seconds']:8.2f} s  "
            f"{push['raw_import_tasks_per_s']:8.1f} tasks/s  (one call, same payload)"
        )
        lines.append(f"  push/raw rate per pair: {each}")
        lines.append(
            f"  re-push unchanged {push['repush_seconds']:8.2f} s  "
            f"(listing cache used: {push['repush_used_cache']})"
        )
    pull = results.get("pull")
    if pull:
        lines.append("")
        lines.append(f"PULL ({pull['tasks']} annotated tasks, export {pull['export_mb']:.1f} MB)")
        lines.append(f"  bare export download {pull['bare_export_seconds']:8.1f} s")
        lines.append(
            f"  toolkit pull         {pull['pull_seconds']:8.1f} s  ({pull['entity_rows']} "
            f"entity rows, {pull['stance_rows']} stance rows, {pull['quarantined']} quarantined)"
        )
        rss = pull["pull_peak_rss_mb"]
        lines.append(f"  toolkit pull peak RSS {rss:6.0f} MB (its own process)")
    lines.append("")
    lines.append("TARGETS")
    for t in targets(results):
        value = "not run" if t["value"] is None else f"{t['value']:.3f}x"
        met = {True: "met", False: "MISSED", None: ""}[t["met"]]
        lines.append(f"  {t['target']:<34} {t['wanted']:>8}  {value:>9}  {t['at']:<12} {met}")
    return "\n".join(lines)
