"""k annotators per article through Label Studio's own queue, on the real server."""

from __future__ import annotations

import json
import stat
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from annotators import Session
from helpers import run_toolkit
from toolkit.dataset.release import build, wait_for_build
from toolkit.errors import StudioError
from toolkit.studio.label_config import control_for_target
from toolkit.studio.push import push_release
from toolkit.studio.users import add_user, users_file

if TYPE_CHECKING:
    from conftest import StudioServer

pytestmark = pytest.mark.studio

PLACES = ("Moskow", "Beijing", "Pyongyang", "Vladivostok", "Shanghai")


def ten_articles(root: Path) -> Path:
    """A release of 10 short articles written for this test (one JSONL file)."""
    src = root / "src"
    src.mkdir()
    lines = []
    for i in range(10):
        place = PLACES[i % len(PLACES)]
        text = (
            f"Delegasi dagang nomor {i} tiba di {place} pada hari Senin untuk membahas "
            f"kerja sama ekonomi.\n\nPertemuan itu berlangsung tertutup dan akan dilanjutkan "
            f"pekan depan, kata seorang pejabat kepada wartawan di {place}."
        )
        record = {"url": f"https://example.com/antrean/{i}", "title": f"Delegasi {i}",
                  "published_at": "2023-09-20T20:02:00+07:00", "text": text}  # fmt: skip
        lines.append(json.dumps(record))
    (src / "pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = root / "antrean"
    wait_for_build(build([src], out, name="antrean"))
    return out


def document_stances(stance: str = "NOT_DISCUSSED") -> list[dict]:
    targets = ("Rusia", "Tiongkok", "Korea Utara", "ICC", "Barat")
    return [
        {"id": f"doc-{i}", "from_name": control_for_target(t), "to_name": "text",
         "type": "choices", "value": {"choices": [stance]}}
        for i, t in enumerate(targets)
    ]  # fmt: skip


def test_three_annotators_k2_each_article_gets_two_different_people(
    studio: StudioServer, tmp_path: Path
) -> None:
    release = ten_articles(tmp_path)
    client = studio.client()
    events = list(push_release(client, release, annotators_per_task=2, instructions="Baca dulu."))
    result = events[-1].result
    assert result is not None and result.created == 10
    assert "maximum_annotations" in result.settings_updated
    project = client.sdk.projects.get(result.project_id)
    assert project.maximum_annotations == 2 and project.show_instruction
    assert "Baca dulu." in project.expert_instruction
    assert "Geo-political entity" in project.expert_instruction  # the scheme's guides
    # Pushing again with the same settings changes nothing.
    again = list(push_release(client, release, annotators_per_task=2, instructions="Baca dulu."))
    assert again[-1].result is not None and again[-1].result.settings_updated == []

    home = tmp_path / "home"
    people = [add_user(client, f"antre{i}@example.com", home=home) for i in range(3)]
    kept = users_file(home)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    sessions = [Session(studio.url, p.email, p.password) for p in people]

    served: dict[str, list[int]] = defaultdict(list)
    active = list(sessions)
    while active:
        # All take a task before anyone submits: the queue must lock what it hands out.
        taken = [(s, s.next_task(result.project_id)) for s in active]
        active = [s for s, task in taken if task is not None]
        for s, task in taken:
            if task is not None:
                served[s.email].append(task["id"])
                s.submit(task["id"], document_stances())
    for s in sessions:
        s.close()

    tasks = list(client.sdk.tasks.list(project=result.project_id, fields="all"))
    assert len(tasks) == 10
    per_task = {t.id: [a["completed_by"] for a in t.annotations] for t in tasks}
    assert all(len(by) == 2 and len(set(by)) == 2 for by in per_task.values()), per_task
    assert sum(len(ids) for ids in served.values()) == 20
    for email, ids in served.items():
        assert len(ids) == len(set(ids)), f"{email} was served a task twice"
    assert set(Counter(by for bys in per_task.values() for by in bys)) == {
        s.user_id for s in sessions
    }


def test_users_add_cli_keeps_the_password_private(studio: StudioServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "studio.json").write_text((studio.home / "studio.json").read_text())
    env = studio.cli_env(TOOLKIT_HOME=str(home))
    done = run_toolkit("studio", "users", "add", "baru@example.com", env=env)
    assert done.returncode == 0, done.stderr
    saved = json.loads(users_file(home).read_text())
    password = saved[studio.url]["baru@example.com"]["password"]
    assert password not in done.stdout + done.stderr
    assert f"password kept in {users_file(home)}" in done.stdout
    Session(studio.url, "baru@example.com", password).close()  # the account can log in
    twice = run_toolkit("studio", "users", "add", "baru@example.com", env=env)
    assert twice.returncode == 1
    assert "already has a user baru@example.com" in twice.stderr
    with pytest.raises(StudioError, match="is not an email address"):
        add_user(studio.client(), "not-an-email", home=home)
