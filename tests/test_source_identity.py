"""Article identity and odd folder entries (issue 18, items 3 and 8, pagination, .xhtml).

The rule: a page's URL when known; else a JSONL line's own `id`; else the page's bytes.
Never the path it was reached by."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from helpers import NEW_PAGE, ROOT, SEEDS, copy_seeds
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.dataset.validate import validate
from toolkit.pages.article import Rejection
from toolkit.pages.extract import extract_source
from toolkit.pages.read import iter_sources


def ids(*paths: Path) -> dict[str, str]:
    """source file name (last part) -> article id."""
    found = {}
    for source in iter_sources(paths):
        article = extract_source(source)
        assert not isinstance(article, Rejection), article
        found[source.source_file.rsplit("/", 1)[-1]] = article.id
    return found


def story(tag: str) -> str:
    return NEW_PAGE.replace("Para analis menilai", f"Laporan {tag} menyebut. Para analis menilai")


def test_same_page_same_id_through_folder_parent_and_symlink(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    pages = copy_seeds(corpus / "pages")
    (tmp_path / "link").symlink_to(pages, target_is_directory=True)
    through_folder = ids(pages)
    assert len(through_folder) == 5
    assert ids(corpus) == through_folder  # the parent folder
    assert ids(tmp_path / "link") == through_folder  # a symlinked folder
    assert ids(*sorted(pages.iterdir())) == through_folder  # each file given by itself


def test_two_folders_with_the_same_file_name_never_share_an_id(tmp_path: Path) -> None:
    for folder, tag in (("a", "satu"), ("b", "dua")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "page.txt").write_text(story(tag), encoding="utf-8")
    result = wait_for_build(build([tmp_path / "a", tmp_path / "b"], tmp_path / "out"))
    assert (result.built, result.rejected) == (2, [])
    assert len({row["id"] for row in read_articles(tmp_path / "out")}) == 2


def test_prepending_a_line_to_a_jsonl_keeps_the_ids_below(tmp_path: Path) -> None:
    lines = [json.dumps({"text": story(f"baris {i}")}) for i in range(3)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = [extract_source(s).id for s in iter_sources([feed])]
    feed.write_text("\n".join([json.dumps({"text": story("baru")}), *lines]) + "\n")
    after = [extract_source(s).id for s in iter_sources([feed])]
    assert after[1:] == before and after[0] not in before


def test_a_jsonl_lines_own_id_is_its_identity(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": 7, "text": story("tujuh")}) + "\n", encoding="utf-8")
    first = next(iter_sources([feed]))
    feed.write_text(json.dumps({"id": 7, "text": story("tujuh, disunting")}) + "\n")
    edited = next(iter_sources([feed]))
    assert extract_source(first).id == extract_source(edited).id  # an edit keeps the id


def test_an_edited_page_with_a_url_is_changed_not_replaced(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    url = "https://news.example.id/read/123/banjir"
    line = {"url": url, "text": story("asli")}
    (src / "feed.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    wait_for_build(build([src], out))
    line["text"] = story("disunting")
    (src / "feed.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    diff = wait_for_build(build([src], out)).diffs["articles"]
    assert (len(diff.changed), len(diff.added), len(diff.removed)) == (1, 0, 0)


def test_pages_of_a_paginated_story_are_separate_articles(tmp_path: Path) -> None:
    """`?page=2` URLs, and pages sharing one canonical URL that say "Halaman N dari M",
    are kept as separate articles in input order, never rejected as duplicates."""
    base = "https://news.example.id/read/55/pemilu"
    lines = [{"url": f"{base}?page={n}", "text": story(f"halaman {n}")} for n in (1, 2, 3)] + [
        {"url": f"{base}-b", "text": story(f"bagian {n}") + f"\nHalaman {n} dari 2\n"}
        for n in (1, 2)
    ]
    (tmp_path / "src").mkdir()
    feed = tmp_path / "src" / "feed.jsonl"
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = wait_for_build(build([tmp_path / "src"], tmp_path / "out"))
    assert (result.built, result.rejected) == (5, [])


def test_xhtml_is_read_as_html(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in story("xhtml").split("\n") if p.strip())
    page = tmp_path / "page.xhtml"
    page.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Judul</title></head>'
        f"<body><article>{paragraphs}</article></body></html>",
        encoding="utf-8",
    )
    source = next(iter_sources([page]))
    assert source.kind == "html"
    article = extract_source(source)
    assert not isinstance(article, Rejection), article
    assert "Laporan xhtml menyebut" in article.text


def odd_folder(tmp_path: Path) -> Path:
    """A source folder with one of every kind of entry that is not a plain page."""
    src = copy_seeds(tmp_path / "src")  # 5 pages
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "linked_page.txt").write_text(story("tautan"), encoding="utf-8")
    (src / "linked-folder").symlink_to(outside, target_is_directory=True)  # followed: 1 page
    (src / "broken.txt").symlink_to(tmp_path / "gone.txt")
    (src / "loop.txt").symlink_to(src / "loop.txt")
    (src / "up").symlink_to(src, target_is_directory=True)  # a folder loop
    os.mkfifo(src / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(src / "sock.txt"))
    server.close()
    return src


def test_every_odd_entry_is_built_or_rejected_with_a_reason(tmp_path: Path) -> None:
    src = odd_folder(tmp_path)
    result = wait_for_build(build([src], tmp_path / "out"))
    reasons = {r.source_file: r.reason for r in result.rejected}
    assert reasons == {
        "broken.txt": "broken-link",
        "loop.txt": "symlink-loop",
        "up": "symlink-loop",
        "pipe.txt": "not-a-regular-file",
        "sock.txt": "not-a-regular-file",
    }
    assert result.built == 6  # 5 seeds + the page of the symlinked folder
    report = json.loads((tmp_path / "out" / "build-report.json").read_text())
    assert report["inputs"] == result.built + len(result.rejected) == 11
    assert validate(tmp_path / "out") == []


def test_a_fifo_given_as_source_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    shutil.copy(SEEDS / "000_2dd241c7a54ea137.txt", tmp_path / "page.txt")
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "build", "pipe.txt", "page.txt", "--out", "out"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,  # a FIFO opened for reading would block here forever
    )
    assert done.returncode == 0, done.stderr
    assert "rejected pipe.txt: not-a-regular-file" in done.stdout
    assert "built 1 articles" in done.stdout
