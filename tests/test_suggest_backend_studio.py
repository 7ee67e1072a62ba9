"""`toolkit suggest --serve` against the real Label Studio: the server asks the toolkit's ML
backend for a task's prediction when the task is opened, and stores exactly the one the
bulk `toolkit suggest` makes.

The release of test_suggest_studio (five seeds, two new articles; four seeds given their
gold and pulled) is pushed into two projects with the same four gold annotations: one
gets the bulk predictions, the other the backend. Two more tasks in the lazy project are
not the release's: one whose article the release lacks, one whose text changed since.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from seed_gold import export_tasks
from test_suggest_studio import (
    COPY,
    EXPECTED,
    NEW,
    Api,
    at,
    seeds_and_new_articles,
    wait_until_answered,
)

from helpers import SEEDS
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.labels.pull import pull
from toolkit.labels.suggest_backend import ANNOTATED, NOT_IN_RELEASE, SUGGESTED, serving
from toolkit.labels.suggest_release import MODEL_VERSION_PREFIX, suggest
from toolkit.studio import ml_backend
from toolkit.studio.client import connect
from toolkit.studio.push import push_release

pytestmark = pytest.mark.studio


def _push_and_annotate(api: Api, client: Any, out: Path, seeds: Path, title: str) -> int:
    pid = list(push_release(client, out, project_title=title))[-1].result.project_id
    tasks = api.tasks(pid)
    annotator = api.user("gold@example.com")
    for task in export_tasks(seeds):
        if task["meta"]["source_file"] != COPY:
            ann = task["annotations"][0]
            api.annotate(tasks[task["meta"]["article_id"]], ann["result"], annotator,
                         ground_truth=True)  # fmt: skip
    return pid


def _import_task(api: Api, pid: int, text: str, article_id: str, sha: str) -> int:
    body = [{"data": {"text": text, "title": "x"},
             "meta": {"article_id": article_id, "text_sha256": sha}}]  # fmt: skip
    r = api.http.post(f"/api/projects/{pid}/import", params={"return_task_ids": "true"}, json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["task_ids"][0])


@pytest.fixture(scope="module")
def world(studio: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("suggest-backend")
    pages = seeds_and_new_articles(root / "pages")
    out = root / "news"
    wait_for_build(build([pages], out, name="news"))
    seeds = root / "seeds-only"
    wait_for_build(build([SEEDS], seeds, name="news"))
    rows = {r["id"]: r for r in read_articles(out)}
    new_ids = {k: a for a, r in rows.items() for k in NEW if (r["url"] or "").endswith(k)}
    copy_id = next(a for a, r in rows.items() if r["source_file"] == COPY)
    client = connect(studio.url, studio.api_key)
    api = Api(studio)
    bulk_title, lazy_title = f"bulk-{root.name}", f"lazy-{root.name}"
    bulk_pid = _push_and_annotate(api, client, out, seeds, bulk_title)
    pull(out, project=bulk_title, url=studio.url, api_key=studio.api_key)  # the gold
    lazy_pid = _push_and_annotate(api, client, out, seeds, lazy_title)
    wait_until_answered(client, bulk_pid, 4)
    wait_until_answered(client, lazy_pid, 4)
    bulk = suggest(out, project=bulk_title, client=client, model=False)
    lazy_tasks = api.tasks(lazy_pid)  # listed before the backend is connected
    # not the release's: an article it lacks, and one whose text changed since
    gone = "Artikel ini sudah ditarik dari rilis sebelum diberi label oleh siapa pun."
    gone_task = _import_task(api, lazy_pid, gone, "gone-article",
                             hashlib.sha256(gone.encode()).hexdigest())  # fmt: skip
    old_text = rows[new_ids["kereta"]]["text"].replace("kereta lapis baja", "kereta biasa")
    changed_task = _import_task(api, lazy_pid, old_text, new_ids["kereta"],
                                hashlib.sha256(old_text.encode()).hexdigest())  # fmt: skip
    return {
        "out": out, "api": api, "client": client, "rows": rows, "new": new_ids,
        "copy": copy_id, "bulk": bulk, "bulk_pid": bulk_pid, "bulk_tasks": api.tasks(bulk_pid),
        "lazy_pid": lazy_pid, "lazy_title": lazy_title, "lazy_tasks": lazy_tasks,
        "gone_task": gone_task, "changed_task": changed_task,
    }  # fmt: skip


def _project(api: Api, pid: int) -> dict[str, Any]:
    return api.http.get(f"/api/projects/{pid}/").json()


def _backends(api: Api, pid: int) -> list[dict[str, Any]]:
    return api.http.get("/api/ml", params={"project": pid}).json()


def test_opening_a_task_stores_the_bulk_prediction(world: dict[str, Any]) -> None:
    api, pid = world["api"], world["lazy_pid"]
    lazy, bulk = world["lazy_tasks"], world["bulk_tasks"]
    unannotated = [world["copy"], *world["new"].values()]
    annotated = [a for a in lazy if a not in unannotated]
    assert len(annotated) == 4
    with serving(world["out"], project=world["lazy_title"], client=world["client"],
                 model=False) as served:  # fmt: skip
        assert served.predictor.model_version == world["bulk"].model_version
        assert served.predictor.model_version.startswith(MODEL_VERSION_PREFIX)
        project = _project(api, pid)
        assert project["show_collab_predictions"] is True
        assert project["model_version"] == served.predictor.model_version
        (backend,) = _backends(api, pid)
        assert backend["url"] == served.url and backend["title"] == project["model_version"]
        # nothing is made up front, not even by listing the tasks (as push and suggest do):
        # only when an annotator opens the task
        listed = api.http.get("/api/tasks/", params={"project": pid, "page_size": 1000})
        assert len(listed.json()["tasks"]) == 9  # 7 pushed, 2 not the release's
        assert all(api.predictions(lazy[a]) == [] for a in unannotated)
        # the labeling stream ("Label All Tasks") hands out a task with its prediction
        handed = api.http.get(f"/api/projects/{pid}/next").json()
        outside = handed["id"] in (world["gone_task"], world["changed_task"])
        versions = [p["model_version"] for p in handed["predictions"]]
        assert versions == ([] if outside else [served.predictor.model_version])
        for article_id in [*unannotated, *annotated]:
            r = api.http.get(f"/api/tasks/{lazy[article_id]}")  # as the labeling page does
            assert r.status_code == 200, r.text
        for task_id in (world["gone_task"], world["changed_task"]):
            assert api.http.get(f"/api/tasks/{task_id}").status_code == 200
        counts = dict(served.predictor.counts)
    assert counts == {SUGGESTED: 3, ANNOTATED: 4, NOT_IN_RELEASE: 3 if outside else 2}
    for article_id in unannotated:
        (got,) = api.predictions(lazy[article_id])
        (want,) = api.predictions(bulk[article_id])
        assert got["model_version"] == want["model_version"] == world["bulk"].model_version
        assert got["result"] == want["result"], article_id
        assert got["score"] == want["score"]
    for key, article_id in world["new"].items():  # the spans read off by hand
        (got,) = api.predictions(lazy[article_id])
        spans = sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
                       for r in got["result"] if r["from_name"] == "entity")  # fmt: skip
        assert spans == at(world["rows"][article_id]["text"], EXPECTED[key])
    for article_id in annotated:
        assert api.predictions(lazy[article_id]) == []
    assert api.predictions(world["gone_task"]) == []
    assert api.predictions(world["changed_task"]) == []
    # disconnected: no backend, no webhook, nothing asked any more; the predictions stay shown
    project = _project(api, pid)
    assert _backends(api, pid) == []
    hooks = api.http.get("/api/webhooks/", params={"project": pid}).json()
    assert [h for h in hooks if h["url"].startswith(served.url)] == []
    assert project["model_version"] == world["bulk"].model_version


def test_connecting_again_keeps_one_backend(world: dict[str, Any]) -> None:
    api, client, pid = world["api"], world["client"], world["lazy_pid"]
    with serving(world["out"], project=world["lazy_title"], client=client,
                 model=False) as served:  # fmt: skip
        version = served.predictor.model_version
        again = ml_backend.connect_backend(client, pid, served.url, version,
                                           ours=MODEL_VERSION_PREFIX)  # fmt: skip
        assert again.reused and again.backend_id == served.connection.backend_id
        # a stale one of the toolkit's (an earlier run that was killed) is replaced
        # (saved, then 403 for the webhook on a local address: see ml_backend._register)
        api.http.post("/api/ml", json={"url": served.url + "/", "project": pid,
                                       "title": MODEL_VERSION_PREFIX + ":old"})  # fmt: skip
        (stale,) = [b["id"] for b in _backends(api, pid) if b["url"] == served.url + "/"]
        third = ml_backend.connect_backend(client, pid, served.url, version,
                                           ours=MODEL_VERSION_PREFIX)  # fmt: skip
        assert third.removed == [stale]
        assert [b["id"] for b in _backends(api, pid)] == [served.connection.backend_id]
    assert _backends(api, pid) == []


def test_cli_serve_until_interrupted(world: dict[str, Any], studio: Any) -> None:
    api, pid, lazy = world["api"], world["lazy_pid"], world["lazy_tasks"]
    # the toolkit's bulk predictions of another version are deleted first (kept, the
    # task would never be sent to the backend)
    copy_task = lazy[world["copy"]]
    for p in api.predictions(copy_task):
        assert api.http.delete(f"/api/predictions/{p['id']}/").status_code == 204
    r = api.http.post(f"/api/projects/{pid}/import/predictions",
                      json=[{"task": copy_task, "result": [],
                             "model_version": MODEL_VERSION_PREFIX + ":older"}])  # fmt: skip
    assert r.status_code == 201, r.text
    env = studio.cli_env(LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key)
    args = [sys.executable, "-m", "toolkit", "suggest", str(world["out"]), "--project",
            world["lazy_title"], "--serve", "--no-model"]  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        lines = []
        while not any(line.startswith("serving suggestions") for line in lines):
            line = proc.stdout.readline() if proc.stdout else ""
            assert line, f"exited: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line)
        assert lines[0].startswith(f"deleted earlier predictions: {MODEL_VERSION_PREFIX}:older")
        assert len(_backends(api, pid)) == 1
        assert api.http.get(f"/api/tasks/{copy_task}").status_code == 200
        (made,) = api.predictions(copy_task)
        assert made["model_version"] == world["bulk"].model_version and made["result"]
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "disconnected; 1 task(s) given predictions" in stdout
    assert studio.api_key not in stdout + stderr + "".join(lines)
    assert _backends(api, pid) == []
