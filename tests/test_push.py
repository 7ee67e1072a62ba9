"""Pushing releases to a real Label Studio: idempotent, resumable, clear errors, no key leaks."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from helpers import clean_env, run_toolkit
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.errors import StudioError
from toolkit.studio.client import Connection, StudioClient
from toolkit.studio.label_config import build_label_config
from toolkit.studio.push import (
    PushResult,
    find_projects,
    list_existing,
    push_release,
    release_index,
    task_batches,
)

if TYPE_CHECKING:
    from conftest import StudioServer

pytestmark = pytest.mark.studio
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
NEW_PAGE = """Menhan Rusia Kunjungi Pyongyang, Bahas Latihan Militer Bersama

TRIBUNNEWS.COM - Menteri Pertahanan Rusia dijadwalkan mengunjungi Pyongyang untuk membahas
latihan militer bersama dengan Korea Utara, kata pejabat di Moskow pada Selasa.

Kunjungan itu akan menjadi yang kedua tahun ini, setelah kunjungan pada bulan Juli yang
bertepatan dengan peringatan berakhirnya Perang Korea.

Para analis menilai kerja sama pertahanan kedua negara semakin erat sejak pertemuan di
kosmodrom Vostochny, dan Korea Selatan akan memantau perkembangan itu bersama sekutunya.
"""

WORDS = (
    *("yang", "dan", "di", "ke", "dari", "ini", "itu", "dengan", "untuk", "pada", "akan"),
    *("Rusia", "Tiongkok", "Korea", "Utara", "Moskow", "Beijing", "Pyongyang", "menteri"),
    *("presiden", "pertemuan", "kerja", "sama", "pertahanan", "ekonomi", "delegasi"),
    *("kunjungan", "pejabat", "sanksi", "latihan", "militer", "forum", "keamanan"),
)


def make_release(tmp_path: Path, name: str, sources: list[Path]) -> Path:
    out = tmp_path / name
    wait_for_build(build(sources, out, name=name))
    return out


def seeds_release(tmp_path: Path, name: str, *, feed: bool = False) -> tuple[Path, Path]:
    """(release dir, its source folder) built from seeds/ (and, with `feed`, one JSONL
    article with a URL: an id that survives an edit of its text)."""
    src = tmp_path / f"{name}-src"
    shutil.copytree(SEEDS, src)
    if feed:
        (src / "feed.jsonl").write_text(json.dumps(FEED_LINE) + "\n", encoding="utf-8")
    return make_release(tmp_path, name, [src]), src


# Ids of pages without a URL are their bytes (an edited one is a new article), so the
# "same article, corrected text" case needs a page with a URL.
FEED_LINE = {
    "url": "https://news.example.id/read/31/latihan-bersama",
    "text": NEW_PAGE.split("\n", 2)[2],
}


def correct_feed_article(src: Path, release: Path) -> None:
    """Add a sentence to the feed article's text and rebuild the release."""
    line = {
        **FEED_LINE,
        "text": FEED_LINE["text"].replace(
            "Para analis menilai", "Ini kalimat koreksi. Para analis menilai"
        ),
    }
    (src / "feed.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert wait_for_build(build([src], release)).version is not None


def jsonl_release(tmp_path: Path, name: str, count: int) -> Path:
    """A release of `count` generated Indonesian-looking articles (one JSONL file)."""
    src = tmp_path / f"{name}-src"
    src.mkdir()
    lines = []
    for i in range(count):
        rnd = random.Random(i)
        paragraphs = [" ".join(rnd.choice(WORDS) for _ in range(40)) + f" Nomor {i}." for _ in "ab"]
        record = {
            "url": f"https://example.com/berita/{i}",
            "title": f"Berita nomor {i}",
            "published_at": "2023-09-20T20:02:00+07:00",
            "text": "\n\n".join(paragraphs),
        }
        lines.append(json.dumps(record))
    (src / "many.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return make_release(tmp_path, name, [src])


def run_push(client: StudioClient, release: Path, **options: object) -> PushResult:
    results = [e.result for e in push_release(client, release, **options) if e.result]
    assert len(results) == 1
    return results[0]


def article_counts(client: StudioClient, pid: int) -> Counter[str]:
    existing: dict = {}
    for _, _, listing in list_existing(client, pid):
        existing = listing
    return Counter({article: len(tasks) for article, tasks in existing.items()})


def toolkit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_toolkit(*args, env=env)


def test_push_creates_project_and_tasks_then_adds_nothing(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, _ = seeds_release(tmp_path, "push-twice")
    client = studio.client()
    rows = {r["id"]: r for r in read_articles(release)}

    first = run_push(client, release)
    assert first.project_created and first.project_title == "push-twice"
    assert (first.created, first.already_present, first.changed) == (len(rows), 0, [])

    tasks = list(client.sdk.tasks.list(project=first.project_id, fields="task_only"))
    assert sorted(t.meta["article_id"] for t in tasks) == sorted(rows)
    for task in tasks:
        row = rows[task.meta["article_id"]]
        assert task.data["text"] == row["text"]
        assert task.data["article_id"] == row["id"]
        assert task.data["title"] == (row["title"] or "")
        assert task.data["publisher"] == row["publisher"]
        assert task.data["published_at"] == (row["published_at"] or "")
        assert task.data["url"] == (row["url"] or "")
        assert task.meta["text_sha256"] == row["text_sha256"]
        assert task.meta["dataset_version"] == "1.0.0"

    second = run_push(client, release)
    assert second.project_id == first.project_id and not second.project_created
    assert (second.created, second.already_present, second.changed) == (0, len(rows), [])
    assert set(article_counts(client, first.project_id).values()) == {1}


def test_newer_release_adds_only_new_articles_and_reports_changed_text(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, src = seeds_release(tmp_path, "push-newer", feed=True)
    client = studio.client()
    first = run_push(client, release)
    before = {r["id"]: r for r in read_articles(release)}

    # Next version: one new page, and one page whose body was corrected (same id).
    (src / "900_new_page.txt").write_text(NEW_PAGE, encoding="utf-8")
    correct_feed_article(src, release)
    after = {r["id"]: r for r in read_articles(release)}
    new_ids = set(after) - set(before)
    changed_ids = {a for a in before if before[a]["text_sha256"] != after[a]["text_sha256"]}
    assert len(new_ids) == 1 and len(changed_ids) == 1

    second = run_push(client, release)
    assert second.project_id == first.project_id
    assert second.created == 1
    assert second.already_present == len(before)
    assert [c.article_id for c in second.changed] == sorted(changed_ids)
    change = second.changed[0]
    assert change.pushed_sha256 == before[change.article_id]["text_sha256"]
    assert change.release_sha256 == after[change.article_id]["text_sha256"]

    # The changed article's task is untouched: old text, old hash.
    task = client.sdk.tasks.get(str(change.task_ids[0]))
    assert task.data["text"] == before[change.article_id]["text"]
    assert task.meta["text_sha256"] == before[change.article_id]["text_sha256"]
    counts = article_counts(client, first.project_id)
    assert set(counts) == set(after) and set(counts.values()) == {1}


def test_push_killed_midway_then_rerun_leaves_each_article_once(
    studio: StudioServer, tmp_path: Path
) -> None:
    release = jsonl_release(tmp_path, "push-killed", 150)
    total = sum(1 for _ in read_articles(release))
    env = studio.cli_env(LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key)
    client = studio.client()

    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "push", str(release), "--batch-size", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid, landed = None, 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        ids = find_projects(client, "push-killed")
        if ids:
            pid = ids[0]
            landed = client.sdk.projects.get(pid).task_number or 0
            if landed >= 1:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the push finished before it could be killed"
    assert pid is not None
    partial = sum(article_counts(client, pid).values())
    assert 1 <= partial < total

    rerun = toolkit("push", str(release), "--batch-size", "40", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["project_id"] == pid
    assert summary["created"] + summary["already_present"] == total
    assert summary["already_present"] == partial
    counts = article_counts(client, pid)
    assert len(counts) == total and set(counts.values()) == {1}


def test_legacy_token_end_to_end_through_the_cli(studio: StudioServer, tmp_path: Path) -> None:
    release, _ = seeds_release(tmp_path, "push-cli-legacy")
    total = sum(1 for _ in read_articles(release))
    env = studio.cli_env(LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key)
    first = toolkit("push", str(release), env=env)
    assert first.returncode == 0, first.stderr
    assert f"{total} task(s) created, 0 already present" in first.stdout
    again = toolkit("push", str(release), "--json", env=env)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["created"], summary["already_present"]) == (0, total)
    for out in (first.stdout, first.stderr, again.stdout, again.stderr):
        assert studio.api_key not in out


def test_studio_up_config_is_used_when_no_url_or_key_is_given(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, _ = seeds_release(tmp_path, "push-from-config")
    done = toolkit("push", str(release), "--json", env=studio.cli_env())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == studio.url
    assert studio.api_key not in done.stdout + done.stderr


def test_personal_access_token_end_to_end(studio: StudioServer, tmp_path: Path) -> None:
    """The server issues a personal access token (a JWT refresh token) through its API;
    the SDK exchanges it for access tokens by itself."""
    admin = studio.client()
    for token in admin.sdk.tokens.list():  # one per user: revoke any left by another test
        admin.sdk.tokens.blacklist(refresh=token.token)
    pat = admin.sdk.tokens.create().token
    try:
        assert pat.count(".") == 2 and pat != studio.api_key
        release, _ = seeds_release(tmp_path, "push-pat")
        env = studio.cli_env(LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=pat)
        done = toolkit("push", str(release), "--json", env=env)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["created"] == sum(1 for _ in read_articles(release))
        assert pat not in done.stdout + done.stderr
        assert studio.client(pat).sdk.users.whoami().email == studio.username
    finally:
        admin.sdk.tokens.blacklist(refresh=pat)


def test_listing_cache_stands_in_only_while_the_project_is_unchanged(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, src = seeds_release(tmp_path, "push-cache", feed=True)
    client, cache = studio.client(), tmp_path / "cache"
    first = run_push(client, release, cache_dir=cache)
    assert not first.used_cache and list(cache.iterdir())

    again = run_push(client, release, cache_dir=cache)
    assert again.used_cache and (again.created, again.already_present) == (0, first.created)
    assert again.changed == [] and again.duplicated == {}

    # A corrected article: the release no longer matches what the project holds, so the
    # cached task map (not just its digest) stands in, and the change is reported.
    before = {r["id"]: r for r in read_articles(release)}
    correct_feed_article(src, release)
    after = {r["id"]: r for r in read_articles(release)}
    changed = [a for a in before if before[a]["text_sha256"] != after[a]["text_sha256"]]
    for _ in range(2):  # nothing imported: the cache stays valid for the next push too
        corrected = run_push(client, release, cache_dir=cache)
        assert corrected.used_cache and corrected.created == 0
        assert [c.article_id for c in corrected.changed] == changed
        assert corrected.changed[0].pushed_sha256 == before[changed[0]]["text_sha256"]

    # Deleted behind our back: the signature changes, the listing is redone, the task returns.
    victim = next(iter(client.sdk.tasks.list(project=first.project_id, fields="task_only")))
    client.sdk.tasks.delete(str(victim.id))
    third = run_push(client, release, cache_dir=cache)
    assert not third.used_cache and third.created == 1
    assert set(article_counts(client, first.project_id).values()) == {1}


def test_unreachable_server_names_the_url_and_the_fix(tmp_path: Path) -> None:
    release, _ = seeds_release(tmp_path, "push-unreachable")
    from toolkit.studio.server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    env = {"TOOLKIT_HOME": str(tmp_path / "home"), "LABEL_STUDIO_API_KEY": "k" * 40}
    done = toolkit("push", str(release), "--url", url, env={**clean_env(), **env})
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot reach Label Studio at " + url)
    assert "toolkit studio up" in done.stderr
    assert "k" * 40 not in done.stdout + done.stderr


def test_bad_token_is_refused_without_showing_it(studio: StudioServer, tmp_path: Path) -> None:
    release, _ = seeds_release(tmp_path, "push-bad-token")
    bad = "0123456789abcdef" * 2 + "deadbeef"
    env = studio.cli_env(LABEL_STUDIO_URL=studio.url)
    done = toolkit("push", str(release), "--api-key", bad, env=env)
    assert done.returncode == 1
    assert f"Label Studio at {studio.url} refused the API key (HTTP 401)" in done.stderr
    assert bad not in done.stdout + done.stderr
    assert studio.api_key not in done.stdout + done.stderr


def test_task_batches_follow_the_release_a_batch_at_a_time(tmp_path: Path) -> None:
    """The push reads the texts of one batch at a time, in release order."""
    release = jsonl_release(tmp_path, "push-batches", 12)
    _, version, hashes = release_index(release)
    order = list(hashes)
    wanted = set(order[1::2])
    batches = list(task_batches(release, wanted, version, 4))
    assert [len(batch) for batch in batches] == [4, 2]
    assert [a for batch in batches for a, _ in batch] == [a for a in order if a in wanted]
    for article_id, task in (pair for batch in batches for pair in batch):
        assert task["meta"]["article_id"] == article_id == task["data"]["article_id"]
        assert task["meta"]["text_sha256"] == hashes[article_id] and task["data"]["text"]
    assert list(task_batches(release, set(), version, 4)) == []


def test_an_import_the_server_refuses_gives_its_reason_and_lands_nothing(
    studio: StudioServer,
) -> None:
    """Imports send a ready JSON body through `post_json`: a refusal must still read like
    every other StudioError (what, the HTTP status, the server's reason; no key)."""
    client = studio.client()
    pid = int(
        client.sdk.projects.create(title="push-refused", label_config=build_label_config()).id
    )
    body = json.dumps([{"data": {"title": "no text variable"}}]).encode()
    with pytest.raises(StudioError) as caught:
        client.post_json(f"import 1 tasks into project {pid}", f"api/projects/{pid}/import",
                         body, idempotent=False)  # fmt: skip
    message = str(caught.value)
    assert message.startswith(f"Label Studio at {studio.url} refused to import 1 tasks")
    assert "(HTTP 400)" in message and "text" in message.split("(HTTP 400)")[1]
    assert studio.api_key not in message and caught.value.__context__ is None
    assert client.sdk.projects.get(pid).task_number == 0


def test_a_project_on_a_later_listing_page_is_found(
    studio: StudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Project listing pages: with 2 a page, the one exact title sits on page 2 or 3
    among 4 others that contain it, whichever order the server lists them in."""
    from toolkit.studio import push

    sdk = studio.client().sdk
    made = [int(sdk.projects.create(title=f"pager-{i}-pager").id) for i in range(2)]
    exact = int(sdk.projects.create(title="pager").id)
    made += [int(sdk.projects.create(title=f"pager-{i}-pager").id) for i in range(2, 4)]
    monkeypatch.setattr(push, "PROJECT_PAGE_SIZE", 2)
    try:
        assert find_projects(studio.client(), "pager") == [exact]
        assert find_projects(studio.client(), "pager-3-pager") == [made[-1]]
    finally:
        for pid in [*made, exact]:
            sdk.projects.delete(pid)


def test_two_projects_with_the_title_are_listed_not_guessed(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, _ = seeds_release(tmp_path, "push-twin-titles")
    sdk = studio.client().sdk
    ids = [sdk.projects.create(title="push-twin-titles").id for _ in range(2)]
    env = studio.cli_env(LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key)
    done = toolkit("push", str(release), env=env)
    assert done.returncode == 1
    assert f"2 projects at {studio.url} are titled 'push-twin-titles'" in done.stderr
    assert f"ids {ids[0]}, {ids[1]}" in done.stderr
    for pid in ids:
        assert sdk.projects.get(pid).task_number == 0


def test_config_update_that_would_orphan_annotations_is_refused(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, _ = seeds_release(tmp_path, "push-orphan")
    client = studio.client()
    config = build_label_config()
    extra = config.replace('<Label value="LAW"', '<Label value="XTRA"/>\n    <Label value="LAW"')
    project = client.sdk.projects.create(title="push-orphan", label_config=extra)
    imported = client.sdk.projects.import_tasks(
        project.id,
        request=[{"data": {"text": "Putin", "title": "", "publisher": "", "published_at": ""}}],
        return_task_ids=True,
    )
    result = [{"id": "r1", "from_name": "entity", "to_name": "text", "type": "labels",
               "value": {"start": 0, "end": 5, "text": "Putin", "labels": ["XTRA"]}}]  # fmt: skip
    client.sdk.annotations.create(id=imported.task_ids[0], result=result)

    with pytest.raises(StudioError, match="server refuses it") as info:
        run_push(client, release)
    assert "XTRA" in str(info.value)
    stored = client.sdk.projects.get(project.id)
    assert "XTRA" in stored.label_config and stored.task_number == 1


def test_config_is_updated_when_no_annotation_depends_on_the_old_one(
    studio: StudioServer, tmp_path: Path
) -> None:
    release, _ = seeds_release(tmp_path, "push-config-update")
    client = studio.client()
    old = build_label_config().replace(
        '<Label value="LAW"', '<Label value="XTRA"/>\n    <Label value="LAW"'
    )
    project = client.sdk.projects.create(title="push-config-update", label_config=old)
    result = run_push(client, release)
    assert result.project_id == project.id and result.config_updated
    assert client.sdk.projects.get(project.id).label_config.strip() == build_label_config().strip()


def test_release_dir_that_is_not_a_release_fails_cleanly(
    studio: StudioServer, tmp_path: Path
) -> None:
    empty = tmp_path / "not-a-release"
    empty.mkdir()
    env = studio.cli_env(LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key)
    done = toolkit("push", str(empty), env=env)
    assert done.returncode == 1 and done.stderr.startswith("Error: ")
    assert "Traceback" not in done.stderr
    shutil.rmtree(empty)


class _LossyProxy(BaseHTTPRequestHandler):
    """Forwards to the real server, but answers the first import with 502 after the server
    has stored it: the client cannot tell whether the batch landed."""

    upstream = ""
    lost = 0

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        skip = ("host", "content-length")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        answer = httpx.request(
            self.command, self.upstream + self.path, headers=headers, content=body, timeout=120
        )
        cls = type(self)
        if self.command == "POST" and "/import" in self.path and cls.lost == 0:
            cls.lost += 1
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"detail": "bad gateway"}')
            return
        self.send_response(answer.status_code)
        for key in ("Content-Type",):
            if key in answer.headers:
                self.send_header(key, answer.headers[key])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward

    def log_message(self, *args: object) -> None:
        pass


def test_an_import_that_landed_but_failed_is_not_sent_twice(
    studio: StudioServer, tmp_path: Path
) -> None:
    release = jsonl_release(tmp_path, "push-lossy", 12)
    handler = type("Proxy", (_LossyProxy,), {"upstream": studio.url, "lost": 0})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        client = StudioClient(Connection(url, studio.api_key, "test"), backoff=0.01)
        result = run_push(client, release, batch_size=5)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert handler.lost == 1
    assert (result.created, result.already_present) == (12, 0)  # the lost batch counts
    counts = article_counts(studio.client(), result.project_id)
    assert len(counts) == 12 and set(counts.values()) == {1}
