"""How a project hands out its tasks: k annotators per article, instructions first.

Measured on Label Studio 1.23.2 Community: with `maximum_annotations` = k (and the
overlap cohort at 100%), annotators taking tasks from the project's queue (`GET
/api/projects/ID/next`, what "Label all tasks" uses) each get tasks until the queue is
empty, and every task gets exactly k annotations from k different people: the server
locks a task for whoever takes it, counts locks and annotations against the task's
`overlap`, and never serves a task to someone who already annotated it. No Enterprise
feature is needed, only these settings (tests/test_queue.py checks it on the real server).
Sequential sampling serves the tasks in import order, so the k annotations of an article
are finished together instead of spread over the whole project.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.errors import StudioError
from toolkit.studio.client import StudioClient
from toolkit.studio.instructions import build_instructions


@dataclass(frozen=True)
class QueueSettings:
    """What push sets on the project. `annotators_per_task` None keeps the project's."""

    annotators_per_task: int | None = None
    instructions: str = ""

    def __post_init__(self) -> None:
        if self.annotators_per_task is not None and self.annotators_per_task < 1:
            raise StudioError(
                f"annotators per task must be at least 1, not {self.annotators_per_task}"
            )

    def fields(self, labels: dict[str, Any] | None = None) -> dict[str, Any]:
        """The project fields, as the API names them."""
        wanted: dict[str, Any] = {
            "expert_instruction": build_instructions(self.instructions, labels),
            "show_instruction": True,  # shown before labelling, not only behind a button
            "sampling": "Sequential sampling",
            "show_overlap_first": False,  # every task has the same overlap (cohort 100%)
            "overlap_cohort_percentage": 100,
            "skip_queue": "REQUEUE_FOR_OTHERS",  # a skipped article goes to someone else
            "enable_empty_annotation": False,  # an empty submission would be no label at all
            "show_skip_button": True,
            "is_published": True,
        }
        if self.annotators_per_task is not None:
            wanted["maximum_annotations"] = self.annotators_per_task
        return wanted


def apply_settings(
    client: StudioClient,
    project_id: int,
    settings: QueueSettings,
    labels: dict[str, Any] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Bring the project's queue settings and instructions (for the label scheme `labels`,
    default the active one) up to date; returns the fields that changed (name -> (old,
    new)), nothing when they already hold."""
    wanted = settings.fields(labels)
    project = client.call(f"read project {project_id}", client.sdk.projects.get, project_id)
    changed = {
        name: (getattr(project, name, None), value)
        for name, value in wanted.items()
        if getattr(project, name, None) != value
    }
    if changed:
        client.call(
            f"update the queue settings of project {project_id}",
            client.sdk.projects.update,
            project_id,
            **{name: new for name, (_, new) in changed.items()},
        )
    return changed
