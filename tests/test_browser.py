"""Two annotators and a reviewer in a real browser (Debian's chromium, selenium) on the real
embedded Label Studio, then `toolkit pull` and `toolkit report`.

The annotators log in through the login page, take the next task from the project's queue
("Label All Tasks"), mark "Vladimir Putin" with the mouse, label it PER, give it a stance,
choose the document stances and submit. They disagree on one thing: the stance toward
Rusia. The pull must give exactly those rows and the agreement computed here by hand; the
reviewer then settles the disagreement from the "Disagreements" tab, and the next pull
makes the reviewer's labels the gold rows. Screenshots of every step are kept in
test-artifacts/browser/ (gitignored; pytest's own tmp dirs are rotated away by later runs).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from browser import Person
from helpers import ROOT
from toolkit.cli import cli
from toolkit.dataset import release
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.dataset.schema import config_schema
from toolkit.labels.report import build_report
from toolkit.studio.push import push_release
from toolkit.studio.review import VIEW_TITLE
from toolkit.studio.users import add_user

if TYPE_CHECKING:
    from conftest import StudioServer

pytestmark = pytest.mark.studio

TARGETS = ("Rusia", "Tiongkok", "Korea Utara", "ICC", "Barat")
ENTITY_BOX = "Stance of the article toward the SELECTED ENTITY"
# Two short articles written for this test (own words, own sentences).
PAGES = [
    "Presiden Vladimir Putin dijadwalkan menerima delegasi ekonomi dari Asia Tenggara di "
    "Moskow pekan depan.\n\nPertemuan itu disebut akan membahas jalur pengiriman gandum dan "
    "pupuk melalui pelabuhan di Laut Hitam.",
    "Vladimir Putin tidak menghadiri pertemuan puncak di Johannesburg dan mengirim menteri "
    "luar negerinya.\n\nPara diplomat membahas perdagangan dan mata uang bersama dalam "
    "pertemuan tiga hari itu.",
]


def two_articles(root: Path) -> Path:
    src = root / "src"
    src.mkdir()
    lines = [
        json.dumps({"url": f"https://example.com/peramban/{i}", "title": f"Berita peramban {i}",
                    "published_at": "2023-09-20T20:02:00+07:00", "text": text})
        for i, text in enumerate(PAGES)
    ]  # fmt: skip
    (src / "pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = root / "peramban"
    wait_for_build(build([src], out, name="peramban"))
    return out


def wait_until(what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.5)


def annotations_by(client: Any, project_id: int) -> dict[int, list[dict[str, Any]]]:
    """user id -> the annotations they submitted in the project."""
    found: dict[int, list[dict[str, Any]]] = {}
    for task in client.sdk.tasks.list(project=project_id, fields="all"):
        for ann in task.annotations or []:
            who = ann["completed_by"]
            who = who["id"] if isinstance(who, dict) else who
            found.setdefault(int(who), []).append({**ann, "task": task.id})
    return found


def decoded(release_dir: Path, config: str) -> list[dict[str, Any]]:
    """The config's rows with ClassLabel names instead of ints."""
    features = config_schema(config).features
    names = {k: f.names for k, f in features.items() if hasattr(f, "names")}
    return [
        {k: (names[k][v] if k in names and v is not None else v) for k, v in row.items()}
        for row in release.read_rows(release_dir, config)
    ]


def annotate(person: Person, project_id: int, rusia: str) -> None:
    """One annotator's whole task, as a person does it."""
    person.open_queue(project_id)
    person.shot("instructions")  # shown before labelling
    person.close_instructions()
    person.pick_label("PER")
    person.drag_over("Vladimir Putin")
    person.shot("span-marked")
    person.click_region("Vladimir Putin")
    person.choose(ENTITY_BOX, "AGAINST")
    person.shot("entity-stance")
    person.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # unselect
    for target in TARGETS:
        person.choose(target, rusia if target == "Rusia" else "NOT_DISCUSSED")
    person.shot("document-stances")
    person.submit()


def test_two_annotators_disagree_and_a_reviewer_settles_it(
    studio: StudioServer, tmp_path: Path
) -> None:
    shots = ROOT / "test-artifacts" / "browser"
    for old in shots.glob("*.png"):
        old.unlink()
    out = two_articles(tmp_path)
    texts = {row["id"]: row["text"] for row in read_articles(out)}
    client = studio.client()
    pushed = list(push_release(client, out, annotators_per_task=2))[-1].result
    assert pushed is not None and pushed.created == 2
    pid = pushed.project_id
    home = tmp_path / "home"
    ana = add_user(client, "ana@example.com", home=home)
    budi = add_user(client, "budi@example.com", home=home)

    for who, rusia in ((ana, "AGAINST"), (budi, "NONE")):
        person = Person(who.email.split("@")[0], studio.url, tmp_path / who.email, shots)
        try:
            person.log_in(who.email, who.password)
            annotate(person, pid, rusia)
            wait_until(f"{who.email}'s annotation is saved",
                       lambda w=who: annotations_by(client, pid).get(w.user_id))  # fmt: skip
            person.shot("submitted-next-task")
        finally:
            person.quit()

    made = annotations_by(client, pid)
    assert set(made) == {ana.user_id, budi.user_id}
    assert [len(v) for v in made.values()] == [1, 1]
    task_id = made[ana.user_id][0]["task"]
    assert made[budi.user_id][0]["task"] == task_id  # the queue served both the same article
    article_id = client.sdk.tasks.get(task_id).data["article_id"]
    start = texts[article_id].index("Vladimir Putin")

    runner = CliRunner()
    pull_args = ["pull", str(out), "--url", studio.url, "--api-key", studio.api_key]
    pulled = runner.invoke(cli, pull_args)
    assert pulled.exit_code == 0, pulled.output
    assert "1 task(s) with open disagreements" in pulled.output
    entities = decoded(out, "entities")
    got = sorted(
        (r["annotator"], r["article_id"], r["start"], r["end"], r["surface"], r["type"],
         r["stance"]) for r in entities
    )  # fmt: skip
    span = (article_id, start, start + 14, "Vladimir Putin", "PER", "AGAINST")
    assert got == [(ana.email, *span), (budi.email, *span)]
    stance = sorted((r["annotator"], r["target"], r["stance"]) for r in decoded(out, "stance"))
    expected = sorted(
        (who.email, target, rusia if target == "Rusia" else "NOT_DISCUSSED")
        for who, rusia in ((ana, "AGAINST"), (budi, "NONE"))
        for target in TARGETS
    )
    assert stance == expected

    # Agreement by hand. Rusia: one article, values {AGAINST, NONE}: coincidences
    # o(A,N) = o(N,A) = 1, n = 2, D_o = 2, D_e = (1*1 + 1*1) / (2 - 1) = 2 -> alpha = 0.
    # Other targets: both NOT_DISCUSSED, one category -> undefined. The span: the same
    # start, end and type from both -> exact F1 = 2*1 / (1+1) = 1.
    report = build_report(out)
    alphas = {t.target: (t.alpha, t.units) for t in report.agreement.stance}
    assert alphas["Rusia"] == (pytest.approx(0.0), 1)
    assert all(alphas[t] == (None, 1) for t in TARGETS[1:])
    assert report.agreement.entity_f1_exact == pytest.approx(1.0)
    per_type = {t.entity_type: (t.f1_exact, t.mentions) for t in report.type_agreement}
    assert per_type["PER"] == (pytest.approx(1.0), 2)
    opened = [(d.task_id, d.kind, d.what, dict(d.values)) for d in report.open_disagreements]
    assert opened == [(task_id, "stance", "Rusia", {ana.email: "AGAINST", budi.email: "NONE"})]

    # The reviewer finds it in the Disagreements tab and submits a copy of Ana's annotation.
    reviewer = Person("reviewer", studio.url, tmp_path / "reviewer", shots)
    try:
        reviewer.log_in(studio.username, studio.password)
        reviewer.driver.get(f"{studio.url}/projects/{pid}/")
        tab = f"//*[normalize-space(text())='{VIEW_TITLE}']"
        reviewer.wait.until(ec.element_to_be_clickable((By.XPATH, tab))).click()
        row = "//*[contains(@class,'table__row-wrapper')]"
        rows = reviewer.wait.until(ec.presence_of_all_elements_located((By.XPATH, row)))
        wait_until("the tab lists only the disputed task", lambda: len(
            reviewer.driver.find_elements(By.XPATH, row)) == 1)  # fmt: skip
        reviewer.shot("disagreements-tab")
        assert rows[0].text.split()[0] == str(task_id)
        reviewer.driver.find_element(By.XPATH, row).click()
        reviewer.wait_for_text()
        reviewer.shot("both-annotations")
        ana_tab = "//div[contains(@class,'lsf-annotation-button ') and contains(., 'ana@')]"
        tab_el = reviewer.wait.until(ec.presence_of_element_located((By.XPATH, ana_tab)))
        ActionChains(reviewer.driver).move_to_element(tab_el).perform()  # its menu shows on hover
        menu = ana_tab + "//div[contains(@class,'lsf-annotation-button__trigger')]"
        reviewer.wait.until(ec.presence_of_element_located((By.XPATH, menu))).click()
        duplicate = (
            "//*[normalize-space(.)='Duplicate Annotation' and "
            "not(.//*[normalize-space(.)='Duplicate Annotation'])]"
        )
        reviewer.wait.until(ec.element_to_be_clickable((By.XPATH, duplicate))).click()
        reviewer.shot("review-copy-of-ana")
        reviewer.submit()
        admin = int(client.sdk.users.whoami().id)
        wait_until("the review is saved", lambda: annotations_by(client, pid).get(admin))
        reviewer.shot("review-submitted")
    finally:
        reviewer.quit()

    again = runner.invoke(cli, pull_args)
    assert again.exit_code == 0, again.output
    assert "open disagreements" not in again.output
    gold_stance = sorted(
        (r["annotator"], r["target"], r["stance"]) for r in decoded(out, "stance") if r["gold"]
    )
    assert gold_stance == sorted(
        (studio.username, t, "AGAINST" if t == "Rusia" else "NOT_DISCUSSED") for t in TARGETS
    )
    gold_entities = [(r["annotator"], r["surface"], r["stance"]) for r in decoded(out, "entities")
                     if r["gold"] and r["article_id"] == article_id]  # fmt: skip
    assert gold_entities == [(studio.username, "Vladimir Putin", "AGAINST")]
    settled = build_report(out)
    assert settled.open_disagreements == [] and len(settled.disagreements) == 1
    # The reviewer's annotation is a verdict, not a third vote: agreement is unchanged.
    assert {t.target: t.alpha for t in settled.agreement.stance}["Rusia"] == pytest.approx(0.0)
    assert {t.entity_type: t.mentions for t in settled.type_agreement}["PER"] == 2
    view = next(v for v in client.sdk.views.list(project=pid) if v.data["title"] == VIEW_TITLE)
    listed = client.sdk.tasks.list(project=pid, view=view.id, fields="task_only")
    assert [t.id for t in listed] == []  # settled: the tab is empty

    page = tmp_path / "report.html"
    shown = runner.invoke(cli, ["report", str(out), "--html", str(page)])
    assert shown.exit_code == 0, shown.output
    assert "disagreements: 0 open, 1 settled" in shown.output
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "<script" not in html and len(html) < 1_000_000
    viewer = Person("report", studio.url, tmp_path / "report-viewer", shots)
    try:
        viewer.driver.get(page.as_uri())
        viewer.wait.until(ec.presence_of_element_located((By.TAG_NAME, "svg")))
        assert "Annotator progress" in viewer.driver.page_source
        viewer.shot("report-top")
        viewer.driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        viewer.shot("report-bottom")
    finally:
        viewer.quit()
    print(f"screenshots: {shots}")
