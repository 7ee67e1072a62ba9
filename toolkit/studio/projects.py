"""Which Label Studio project holds a release's tasks, remembered by id.

A project is found by its title only the first time. Its id and server URL are then kept
in two places: the push's local state (`projects.json` beside the push cache, keyed by
server URL and dataset name) and the release itself (a card section that `pull` writes,
kept in release.json). A project renamed in the UI is then found again by id, instead of
push creating a new empty project whose pull would release every label as removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from filelock import FileLock

from toolkit.errors import StudioError
from toolkit.studio.client import StudioClient

STATE_FILE = "projects.json"
SECTION = "Label Studio project"  # the card section pull writes; release.json keeps it
_SECTION_RE = re.compile(r"Label Studio project (\d+) at (\S+?)[,.]?\s")


def section_text(project_id: int, url: str) -> str:
    """The card section naming where the labels came from (parsed back below). Not the
    title: a rename alone must not make a new release."""
    return (
        f"Labels pulled from Label Studio project {project_id} at {url.rstrip('/')} . "
        "`toolkit push` and `toolkit pull` find the project by this id, even renamed."
    )


def _state_key(url: str, name: str) -> str:
    return hashlib.sha256(f"{url.rstrip('/')}\n{name}".encode()).hexdigest()[:24]


def read_state(state_dir: Path | None, url: str, name: str) -> int | None:
    """The project id the last push of dataset `name` to `url` used, if recorded."""
    if state_dir is None:
        return None
    try:
        state = json.loads((Path(state_dir) / STATE_FILE).read_text(encoding="utf-8"))
        entry = state.get(_state_key(url, name)) if isinstance(state, dict) else None
        pid = entry.get("project_id") if isinstance(entry, dict) else None
    except (OSError, ValueError):
        return None
    return pid if isinstance(pid, int) and not isinstance(pid, bool) else None


def write_state(state_dir: Path, url: str, name: str, project_id: int, title: str) -> None:
    """Remember the project a push used (atomic; two pushes at once keep both entries)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STATE_FILE
    with FileLock(str(path) + ".lock", timeout=60):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        state = state if isinstance(state, dict) else {}
        state[_state_key(url, name)] = {
            "url": url.rstrip("/"),
            "dataset": name,
            "project_id": project_id,
            "title": title,
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def recorded_section(manifest: dict[str, Any] | None) -> tuple[int, str, str] | None:
    """(project id, URL, the section's text) the release records, if any."""
    text = ((manifest or {}).get("card_sections") or {}).get(SECTION)
    match = _SECTION_RE.search(f"{text} ") if isinstance(text, str) else None
    if match is None or not isinstance(text, str):
        return None
    return int(match.group(1)), match.group(2).rstrip("/"), text


def section_for(manifest: dict[str, Any] | None, project_id: int, url: str) -> str:
    """The section to release: the recorded one while the project is the same (the same
    server reached by another URL, a proxy, must not make a new version), else anew."""
    recorded = recorded_section(manifest)
    if recorded is not None and recorded[0] == project_id:
        return recorded[2]
    return section_text(project_id, url)


def from_manifest(manifest: dict[str, Any] | None, url: str) -> int | None:
    """The project id the release's labels were pulled from, if pulled from `url`."""
    recorded = recorded_section(manifest)
    if recorded is None or recorded[1] != url.rstrip("/"):
        return None
    return recorded[0]


def find_by_id(client: StudioClient, project_id: int) -> Any | None:
    """The project (id, title, label config...), or None if the server has no such one."""
    try:
        project = client.call(f"look up project {project_id}", client.sdk.projects.get, project_id)
    except StudioError as exc:
        if getattr(exc, "status_code", None) == 404:
            return None
        raise
    return project


def recorded_project(
    client: StudioClient, manifest: dict[str, Any] | None, name: str, state_dir: Path | None
) -> Any | None:
    """The project recorded for this release on this server (the release's own record
    first, then the push's local state), if it still exists; its title may have changed."""
    for pid in (from_manifest(manifest, client.url), read_state(state_dir, client.url, name)):
        if pid is None:
            continue
        project = find_by_id(client, pid)
        if project is not None:
            return project
    return None
