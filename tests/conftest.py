"""Session fixtures. `studio`: ONE real Label Studio for the whole test session.

It is started by the same code as `toolkit studio up` (install once into the shared venv
at $TOOLKIT_HOME/label-studio-venv, then start on a free port with its own data dir and
config under a pytest temp dir), and stopped at the end. If it cannot start, the tests
that use it fail: they are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import ROOT, clean_env
from toolkit.dataset.project import load_project
from toolkit.dataset.schema import use_scheme
from toolkit.studio import server as studio_server
from toolkit.studio.client import Connection, StudioClient


@dataclass(frozen=True)
class StudioServer:
    """A running server: URL, the admin's legacy API token and login, and where its
    config lives (`home`: use it as TOOLKIT_HOME to make the CLI find this server)."""

    url: str
    api_key: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    home: Path
    data_dir: Path
    pid: int

    def client(self, api_key: str | None = None, **options: object) -> StudioClient:
        """A toolkit client (SDK inside: `.sdk`) as the admin, or with another key."""
        return StudioClient(Connection(self.url, api_key or self.api_key, "test"), **options)

    def cli_env(self, **extra: str) -> dict[str, str]:
        """Environment for running `toolkit` in a subprocess against this server."""
        return clean_env(self.home, PYTHONUNBUFFERED="1", **extra)


SEED_SCHEME = load_project(ROOT / "dataset.yaml").labels


@pytest.fixture(autouse=True, scope="session")
def seed_label_scheme() -> Iterator[None]:
    """Most tests are about the seed corpus: they label with its scheme (the repo root's
    dataset.yaml), as a build of seeds/ does; the built-in default scheme is generic."""
    with use_scheme(SEED_SCHEME):
        yield


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    home = tmp_path_factory.mktemp("studio-home")
    shared_venv = studio_server.venv_dir(studio_server.toolkit_home())
    events = list(studio_server.up(home=home, port=studio_server.free_port(), venv=shared_venv))
    assert events[-1].stage == "up", events
    config = studio_server.read_config(home)
    assert config is not None and config.pid is not None
    yield StudioServer(
        url=config.url,
        api_key=config.api_key,
        username=config.username,
        password=config.password,
        home=home,
        data_dir=Path(config.data_dir),
        pid=config.pid,
    )
    stops = [e.stage for e in studio_server.down(home=home)]
    assert stops == ["stopping", "stopped"], stops
    assert not studio_server.status(home=home).running
