"""The reviewer's way in: a Data Manager tab listing the tasks whose annotators disagree.

After a pull, `show_disagreements` makes (or updates) the project's tab titled
`VIEW_TITLE`, filtered to the open disagreements' task ids (the Data Manager's own task
filters, OR-ed). The reviewer opens a task there, compares the annotations (one tab each,
or "Compare All") and submits a review annotation: "Duplicate Annotation" in the menu of
the one they agree with, correct it if need be, Submit. (Community's UI has no ground-truth
switch: its data manager turns that interface off.) The next pull takes the reviewer's
annotation as ground truth, its labels become the gold rows, and the task leaves the tab.
The tab is the toolkit's: rewritten on every pull.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolkit.studio.client import StudioClient

VIEW_TITLE = "Disagreements"
NO_TASK = 0  # task ids start at 1: a filter on it matches nothing (no open disagreement)


def view_data(task_ids: Iterable[int]) -> dict[str, Any]:
    """The tab's `data`: title, and a filter matching exactly these task ids."""
    ids = sorted(set(task_ids)) or [NO_TASK]
    items = [
        {"filter": "filter:tasks:id", "operator": "equal", "type": "Number", "value": i}
        for i in ids
    ]
    return {
        "title": VIEW_TITLE,
        "type": "list",
        "target": "tasks",
        "filters": {"conjunction": "or", "items": items},
        "ordering": ["tasks:id"],
    }


def show_disagreements(client: StudioClient, project_id: int, task_ids: Iterable[int]) -> int:
    """Create or update the project's disagreements tab; returns its view id."""
    data = view_data(task_ids)
    views = client.call(
        f"list the Data Manager tabs of project {project_id}",
        client.sdk.views.list,
        project=project_id,
    )
    ours = [v for v in views if (v.data or {}).get("title") == VIEW_TITLE]
    if ours:
        client.call(
            f"update the {VIEW_TITLE!r} tab of project {project_id}",
            client.sdk.views.update,
            str(ours[0].id),
            data=data,
            project=project_id,
        )
        return int(ours[0].id)
    made = client.call(
        f"create the {VIEW_TITLE!r} tab of project {project_id}",
        client.sdk.views.create,
        data=data,
        project=project_id,
        idempotent=False,
    )
    return int(made.id)
