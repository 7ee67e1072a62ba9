"""Nothing lost on the Label Studio side (issue 18), against the real server.

Odd annotations posted through Label Studio's API, deleted annotators, two pushes at once,
a task text edited in Label Studio, a bad page size and a renamed project. Each test
failed on the code before the fix (see RELIABILITY.md).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from click.testing import CliRunner

from helpers import run_toolkit
from toolkit.cli import cli
from toolkit.dataset.release import build, current_version, read_articles, read_rows, wait_for_build
from toolkit.errors import StudioError
from toolkit.labels import export as labels
from toolkit.labels.pull import pull, report
from toolkit.studio.label_config import DATA_FIELDS
from toolkit.studio.push import find_projects, list_existing, push_release

if TYPE_CHECKING:
    from conftest import StudioServer

pytestmark = pytest.mark.studio

PAGES = {
    "temu": "Presiden Putin bertemu Kim Jong Un di Vostochny pada Rabu pagi. Kedua pemimpin "
    "membahas kerja sama antariksa dan pertahanan.",
    "sanksi": "Menteri Luar Negeri Wang Yi menyebut sanksi Barat terhadap Rusia tidak adil. "
    "Ia berbicara kepada wartawan di Beijing.",
    "forum": "Delegasi Korea Utara tiba di Moskow untuk forum ekonomi. Putin menyambut "
    "delegasi itu di Kremlin pada Kamis malam.",
}


def write_pages(folder: Path, pages: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"url": f"https://example.com/{k}", "title": f"Berita {k}", "text": t})
        for k, t in pages.items()
    ]
    (folder / "pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def release_of(root: Path, name: str, pages: dict[str, str] = PAGES) -> Path:
    out = root / name
    wait_for_build(build([write_pages(root / f"{name}-src", pages)], out, name=name))
    return out


class Api:
    """Plain HTTP calls, as a browser or a script would make them (token auth)."""

    def __init__(self, studio: StudioServer) -> None:
        self.http = httpx.Client(
            base_url=studio.url, headers={"Authorization": f"Token {studio.api_key}"}, timeout=60
        )

    def tasks(self, project_id: int) -> list[dict[str, Any]]:
        r = self.http.get("/api/tasks/", params={"project": project_id, "page_size": 1000})
        return r.json()["tasks"]

    def task_of(self, project_id: int) -> dict[str, int]:
        return {t["meta"]["article_id"]: t["id"] for t in self.tasks(project_id)}

    def user(self, email: str) -> int:
        found = [u for u in self.http.get("/api/users/").json() if u["email"] == email]
        if found:
            return found[0]["id"]
        body = {"email": email, "username": email.split("@")[0]}
        r = self.http.post("/api/users/", json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def annotate(self, task_id: int, result: list, user: int | None = None) -> int | None:
        """Post an annotation; the id, or None when the server answered an error (Label
        Studio stores some results even while answering 500)."""
        body: dict[str, Any] = {"result": result, "lead_time": 5.0}
        if user is not None:
            body["completed_by"] = user
        r = self.http.post(f"/api/tasks/{task_id}/annotations/", json=body)
        return r.json()["id"] if r.status_code == 201 else None


def span(article: str, surface: str, rid: Any = None, type_: str = "PER", **value: Any) -> dict:
    start = article.index(surface)
    item = {
        "from_name": "entity",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": start + len(surface), "text": surface,
                  "labels": [type_], **value},
    }  # fmt: skip
    if rid is not None:
        item["id"] = rid
    return item


def doc(control: str, stance: str, rid: str) -> dict:
    value = {"choices": [stance]}
    return {"id": rid, "from_name": control, "to_name": "text", "type": "choices", "value": value}


def push(studio: StudioServer, release: Path, title: str, **options: Any) -> Any:
    events = list(push_release(studio.client(), release, project_title=title, **options))
    return events[-1].result


def texts_and_ids(release: Path) -> tuple[dict[str, str], dict[str, str]]:
    rows = {r["url"].rsplit("/", 1)[1]: r for r in read_articles(release)}
    return {k: r["text"] for k, r in rows.items()}, {k: r["id"] for k, r in rows.items()}


# ---------------------------------------------------------------- 4: odd annotations


@pytest.fixture(scope="module")
def odd(studio: StudioServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One project holding a good annotation and each odd one the issue lists."""
    root = tmp_path_factory.mktemp("odd")
    out = release_of(root, "odd")
    title = f"odd-{root.name}"
    pid = push(studio, out, title).project_id
    api = Api(studio)
    task = api.task_of(pid)
    text, ids = texts_and_ids(out)
    t = text["temu"]
    # a hand-imported task whose article_id is a number
    hand = {field: "" for field in DATA_FIELDS} | {"text": t, "article_id": 123}
    assert api.http.post(f"/api/projects/{pid}/import", json=[{"data": hand}]).status_code == 201
    hand_task = next(x["id"] for x in api.tasks(pid) if x["data"]["article_id"] == 123)
    relation = {"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "right"}
    posted = {
        "good": [span(t, "Putin", "g1"), doc("stance_rusia", "FAVOR", "g2")],
        "two-stances": [doc("stance_rusia", "FAVOR", "d1"), doc("stance_rusia", "AGAINST", "d2")],
        "no-id": [span(t, "Putin")],
        "two-relations": [
            span(t, "Putin", "r1"),
            span(t, "Kim Jong Un", "r2"),
            relation,
            relation,
        ],
        "empty-ids": [span(t, "Putin", ""), span(t, "Kim Jong Un", "")],
        "list-text": [span(t, "Putin", "l1", text=["Putin"])],
        "string-value": [{**span(t, "Putin", "s1"), "value": "Putin"}],
        "hand-task": [span(t, "Putin", "h1")],
    }
    annotation = {}
    for case, result in posted.items():
        target = hand_task if case == "hand-task" else task[ids["temu"]]
        annotation[case] = api.annotate(target, result)
    assert annotation["string-value"] is None  # the server answers 500...
    stored = api.http.get(f"/api/tasks/{task[ids['temu']]}/annotations/").json()
    by_result = {json.dumps(a["result"], sort_keys=True): a["id"] for a in stored}
    string_value = json.dumps(posted["string-value"], sort_keys=True)
    annotation["string-value"] = by_result[string_value]  # ...but stores it
    result = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    return {"out": out, "ids": ids, "result": result, "annotation": annotation}


def quarantined(odd: dict[str, Any], case: str) -> list[tuple[str, list]]:
    rows = odd["result"].tables.rows.quarantine
    ann = odd["annotation"][case]
    return sorted(
        ((r["reason"], json.loads(r["result_json"])) for r in rows if r["annotation_id"] == ann),
        key=repr,
    )


def test_odd_annotations_do_not_stop_the_pull(odd: dict[str, Any]) -> None:
    result = odd["result"]
    assert result.release.version is not None  # released: the labels are added
    good = odd["annotation"]["good"]
    entities = [r for r in result.tables.rows.entities if r["annotation_id"] == good]
    stance = [r for r in result.tables.rows.stance if r["annotation_id"] == good]
    assert [(r["surface"], r["type"]) for r in entities] == [("Putin", "PER")]
    assert [(r["target"], r["stance"]) for r in stance] == [("Rusia", "FAVOR")]
    assert result.tables.counts["annotations"] == len(odd["annotation"])


def test_two_answers_to_one_stance_control_are_quarantined_together(odd: dict) -> None:
    got = quarantined(odd, "two-stances")
    assert [r for r, _ in got] == [labels.REPEATED_CONTROL] * 2
    assert sorted(items[0]["value"]["choices"][0] for _, items in got) == ["AGAINST", "FAVOR"]
    ann = odd["annotation"]["two-stances"]
    assert not [r for r in odd["result"].tables.rows.stance if r["annotation_id"] == ann]


def test_a_span_without_region_id_is_quarantined(odd: dict) -> None:
    assert [r for r, _ in quarantined(odd, "no-id")] == [labels.NO_REGION_ID]
    empty = quarantined(odd, "empty-ids")
    assert [r for r, _ in empty] == [labels.NO_REGION_ID] * 2
    assert sorted(items[0]["value"]["text"] for _, items in empty) == ["Kim Jong Un", "Putin"]


def test_two_identical_relations_are_kept_once_and_the_copy_quarantined(odd: dict) -> None:
    got = quarantined(odd, "two-relations")
    assert [r for r, _ in got] == [labels.REPEATED_RESULT, labels.UNKNOWN_CONTROL]
    assert all(items[0]["type"] == "relation" and len(items) == 1 for _, items in got)
    ann = odd["annotation"]["two-relations"]
    spans = [r["surface"] for r in odd["result"].tables.rows.entities if r["annotation_id"] == ann]
    assert sorted(spans) == ["Kim Jong Un", "Putin"]


def test_mistyped_values_are_quarantined(odd: dict) -> None:
    assert quarantined(odd, "list-text")[0][0] == labels.MALFORMED_RESULT
    assert quarantined(odd, "string-value")[0][0] == labels.MALFORMED_RESULT


def test_a_task_with_a_numeric_article_id_is_quarantined(odd: dict) -> None:
    rows = odd["result"].tables.rows.quarantine
    hand = [r for r in rows if r["annotation_id"] == odd["annotation"]["hand-task"]]
    assert [(r["reason"], r["article_id"]) for r in hand] == [(labels.BAD_ARTICLE_ID, "123")]


def test_every_odd_result_is_in_a_table_or_in_quarantine(odd: dict) -> None:
    """Nothing lost: the results posted add up to rows plus quarantined results."""
    tables = odd["result"].tables.rows
    for case, ann in odd["annotation"].items():
        ents = [r for r in tables.entities if r["annotation_id"] == ann]
        stance = [r for r in tables.stance if r["annotation_id"] == ann]
        held = sum(len(json.loads(r["result_json"])) for r in tables.quarantine
                   if r["annotation_id"] == ann)  # fmt: skip
        with_stance = sum(1 for r in ents if r["stance"] is not None)
        posted = {"good": 2, "two-stances": 2, "no-id": 1, "two-relations": 4, "empty-ids": 2}
        expected = posted.get(case, 1)
        assert len(ents) + with_stance + len(stance) + held == expected, case


# ---------------------------------------------------------------- 5: deleted annotators


def test_deleted_annotators_keep_their_identity(studio: StudioServer, tmp_path: Path) -> None:
    out = release_of(tmp_path, "gone")
    title = f"gone-{tmp_path.name}"
    pid = push(studio, out, title).project_id
    api = Api(studio)
    text, ids = texts_and_ids(out)
    task = api.task_of(pid)
    users = [api.user(f"gone{i}-{tmp_path.name}@example.com") for i in range(4)]
    # article "temu": users 0 and 1, pulled before their accounts are deleted;
    # article "sanksi": users 2 and 3, deleted before any pull saw them
    for user, stance in zip(users, ["FAVOR", "AGAINST", "FAVOR", "NONE"], strict=True):
        key = "temu" if user in users[:2] else "sanksi"
        result = [span(text[key], "Putin" if key == "temu" else "Wang Yi", "p"),
                  doc("stance_rusia", stance, "d")]  # fmt: skip
        assert api.annotate(task[ids[key]], result, user) is not None
    for user in users[2:]:
        assert api.http.delete(f"/api/users/{user}/").status_code == 204
    first = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    before = {(r["annotation_id"], r["annotator"], r["annotator_id"]) for r in
              first.tables.rows.stance if r["article_id"] == ids["temu"]}  # fmt: skip
    assert {who for _, who, _ in before} == {f"gone{i}-{tmp_path.name}@example.com" for i in (0, 1)}
    assert {uid for _, _, uid in before} == set(users[:2])
    for user in users[:2]:
        assert api.http.delete(f"/api/users/{user}/").status_code == 204
    again = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    stance = again.tables.rows.stance
    after = {(r["annotation_id"], r["annotator"], r["annotator_id"]) for r in stance
             if r["article_id"] == ids["temu"]}  # fmt: skip
    assert after == before  # who they were is kept from the previous release
    unknown = [r for r in stance if r["article_id"] == ids["sanksi"]]
    assert len({r["annotator"] for r in unknown}) == 2  # two people, never one "None"
    assert all(r["annotator"].startswith("deleted-user-of-annotation-") for r in unknown)
    # agreement and gold still see two annotators on each article
    assert again.tables.agreement.articles == 2
    alpha = next(t for t in again.tables.agreement.stance if t.target == "Rusia")
    assert alpha.units == 2 and alpha.values == 4
    assert report(out).agreement.articles == 2
    assert sum(r["gold"] for r in stance) == 2  # one gold stance per article


# ---------------------------------------------------------------- 6: two pushes at once

WORDS = (
    *("yang", "dan", "di", "ke", "dari", "ini", "itu", "dengan", "untuk", "pada", "akan"),
    *("tidak", "juga", "sudah", "oleh", "karena", "dalam", "para", "bagi", "kata", "bahwa"),
    *("warga", "kota", "pasar", "hujan", "jalan", "sekolah", "rapat", "harga", "beras"),
    *("nelayan", "pelabuhan", "kereta", "stasiun", "bupati", "desa", "panen", "sungai"),
    *("jembatan", "guru", "murid", "dokter", "pasien", "rumah", "sakit", "petani", "sawah"),
    *("pupuk", "listrik", "air", "bersih", "banjir", "kemarau", "angin", "laut", "kapal"),
    *("ikan", "garam", "gula", "kopi", "teh", "kebun", "hutan", "gunung", "lembah", "pagi"),
    *("siang", "malam", "kemarin", "besok", "lusa", "minggu", "bulan", "tahun", "baru"),
)


def many_pages(count: int) -> dict[str, str]:
    """`count` distinct generated pages (words drawn at random: no two near-duplicates)."""
    pages = {}
    for i in range(count):
        rnd = random.Random(f"page-{i}")
        paragraphs = [" ".join(rnd.choice(WORDS) for _ in range(50)) + f" Nomor {i}." for _ in "ab"]
        pages[f"p{i}"] = "\n\n".join(paragraphs)
    return pages


def tasks_per_article(studio: StudioServer, pid: int) -> Counter[str]:
    existing: dict = {}
    for _, _, listing in list_existing(studio.client(), pid):
        existing = listing
    return Counter({article: len(held) for article, held in existing.items()})


def push_on(studio: StudioServer, release: Path, title: str, home: Path) -> Any:
    events = push_release(
        studio.client(), release, project_title=title, batch_size=20, cache_dir=home
    )
    return list(events)[-1].result


def concurrently(jobs: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """Run the jobs in threads released at the same instant; (results, errors)."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(job: Any) -> None:
        start.wait()
        try:
            results.append(job())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_two_pushes_at_once_leave_each_article_once(studio: StudioServer, tmp_path: Path) -> None:
    """Two pushes from two "machines" (no shared lock) start together, 5 times."""
    out = release_of(tmp_path, "twice", many_pages(120))
    n = len(list(read_articles(out)))
    for run in range(5):
        title = f"twice-{run}-{tmp_path.name}"
        homes = [tmp_path / f"m{i}-{run}" for i in range(2)]
        results, errors = concurrently(
            [lambda h=h, t=title: push_on(studio, out, t, h) for h in homes]
        )
        assert not errors, errors
        found = find_projects(studio.client(), title)
        assert len(found) == 1, (found, [(r.project_id, r.created) for r in results])  # not two
        pid = found[0]
        counts = tasks_per_article(studio, pid)
        assert sum(counts.values()) == n and set(counts.values()) == {1}, (run, counts.total())
        assert {r.project_id for r in results} == {pid}


def test_two_cli_pushes_on_one_machine_take_turns(studio: StudioServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = release_of(tmp_path, "turns", many_pages(40))
    title = f"turns-{tmp_path.name}"
    args = [sys.executable, "-m", "toolkit", "push", str(out), "--project", title,
            "--batch-size", "10"]  # fmt: skip
    procs = [subprocess.Popen(args, env=studio.cli_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    [pid] = find_projects(studio.client(), title)
    counts = tasks_per_article(studio, pid)
    assert counts.total() == 40 and set(counts.values()) == {1}


# ---------------------------------------------------------------- 7: text edited in Studio


def test_task_text_edited_in_studio(studio: StudioServer, tmp_path: Path) -> None:
    out = release_of(tmp_path, "edited")
    title = f"edited-{tmp_path.name}"
    pid = push(studio, out, title).project_id
    api = Api(studio)
    text, ids = texts_and_ids(out)
    task = api.task_of(pid)
    f = text["forum"]
    edited = "Putin menyambut tamu. " + f  # a second "Putin" now precedes the first
    r = api.http.patch(
        f"/api/tasks/{task[ids['forum']]}/",
        json={
            "data": {
                **api.http.get(f"/api/tasks/{task[ids['forum']]}/").json()["data"],
                "text": edited,
            }
        },
    )
    assert r.status_code == 200, r.text
    # annotated on the edited text: the span's offsets point into it, not into the release
    at = edited.index("Putin", 5)
    item = span(edited, "Putin", "e1")
    item["value"].update(start=at, end=at + 5)
    assert api.annotate(task[ids["forum"]], [item]) is not None
    assert api.annotate(task[ids["temu"]], [span(text["temu"], "Putin", "t1")]) is not None
    pulled = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    rows = pulled.tables.rows
    assert [r["surface"] for r in rows.entities] == ["Putin"]
    assert rows.entities[0]["article_id"] == ids["temu"]
    assert [(r["article_id"], r["reason"]) for r in rows.quarantine] == [
        (ids["forum"], labels.TASK_TEXT_EDITED)
    ]
    again = push(studio, out, title)
    assert [(e.article_id, e.task_id) for e in again.edited] == [(ids["forum"], task[ids["forum"]])]
    assert again.created == 0
    shown = run_toolkit("push", str(out), "--project", title, env=studio.cli_env())
    assert shown.returncode == 0, shown.stderr
    assert f"text edited in Label Studio (task {task[ids['forum']]}" in shown.stdout


# ---------------------------------------------------------------- page size


@pytest.mark.parametrize("size", ["0", "-5"])
def test_pull_page_size_below_one_is_refused_early(tmp_path: Path, size: str) -> None:
    shown = CliRunner().invoke(cli, ["pull", str(tmp_path), "--page-size", size])
    assert shown.exit_code == 2
    assert "Invalid value for '--page-size'" in shown.output and "Traceback" not in shown.output
    with pytest.raises(StudioError, match="page size must be a whole number of at least 1"):
        pull(tmp_path, page_size=int(size), url="http://127.0.0.1:9", api_key="k")


# ---------------------------------------------------------------- renamed project


def test_renamed_project_is_found_again_by_id(studio: StudioServer, tmp_path: Path) -> None:
    name = "renamed"  # the dataset's name: the title push gives its project
    out = release_of(tmp_path, name)
    env = studio.cli_env()
    first = run_toolkit("push", str(out), "--json", env=env)
    assert first.returncode == 0, first.stderr
    pid = json.loads(first.stdout)["project_id"]
    api = Api(studio)
    text, ids = texts_and_ids(out)
    task = api.task_of(pid)
    assert api.annotate(task[ids["temu"]], [span(text["temu"], "Putin", "x1")]) is not None

    # renamed before any pull: the push's local state knows the project's id
    assert api.http.patch(f"/api/projects/{pid}/", json={"title": "Kampanye 2024"}).is_success
    pulled = run_toolkit("pull", str(out), env=env)
    assert pulled.returncode == 0, pulled.stderr
    version = current_version(out)
    entities = list(read_rows(out, "entities"))
    assert len(entities) == 1
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"Label Studio project {pid} at {studio.url.rstrip('/')}" in card

    # renamed again, used from another machine (no local state): the release knows it
    assert api.http.patch(f"/api/projects/{pid}/", json={"title": "Kampanye 2025"}).is_success
    other = studio.cli_env(TOOLKIT_HOME=str(tmp_path / "other-machine"))
    server = ["--url", studio.url, "--api-key", studio.api_key]
    again = run_toolkit("push", str(out), "--json", *server, env=other)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["project_id"] == pid
    assert find_projects(studio.client(), name) == []  # no new empty project
    assert len(api.tasks(pid)) == len(ids)
    repull = run_toolkit("pull", str(out), *server, env=other)
    assert repull.returncode == 0, repull.stderr
    assert current_version(out) == version and list(read_rows(out, "entities")) == entities


def test_pull_from_an_empty_project_never_removes_every_label(
    studio: StudioServer, tmp_path: Path
) -> None:
    out = release_of(tmp_path, "emptied")
    title = f"emptied-{tmp_path.name}"
    pid = push(studio, out, title).project_id
    api = Api(studio)
    text, ids = texts_and_ids(out)
    assert api.annotate(api.task_of(pid)[ids["temu"]], [span(text["temu"], "Putin", "x")])
    pull(out, project=title, url=studio.url, api_key=studio.api_key)
    version = current_version(out)
    push(studio, out, title + "-new")  # a new, unannotated project
    with pytest.raises(StudioError, match="refusing to release a version that removes them"):
        pull(out, project=title + "-new", url=studio.url, api_key=studio.api_key)
    assert current_version(out) == version
    assert len(list(read_rows(out, "entities"))) == 1
