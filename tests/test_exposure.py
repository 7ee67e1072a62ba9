"""`studio up` exposes nothing beyond this machine by default, and nobody can sign up
without an invitation.

test_studio_server.py checks the main port's listening address with psutil; here every
listening socket of the server's whole process tree is checked, connections through the
machine's other addresses are tried, and sign-up is tried with no, a wrong and (the
control that shows the form submission itself works) a valid invitation.
"""

from __future__ import annotations

import inspect
import ipaddress
import socket
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest

from toolkit.cli import studio_up
from toolkit.studio import server as studio_server

if TYPE_CHECKING:
    from conftest import StudioServer

pytestmark = pytest.mark.studio


def server_processes(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def test_loopback_is_the_default_everywhere() -> None:
    assert studio_server.DEFAULT_HOST == "127.0.0.1"
    assert inspect.signature(studio_server.up).parameters["host"].default == "127.0.0.1"
    host = next(p for p in studio_up.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_every_listening_socket_of_the_server_is_loopback(studio: StudioServer) -> None:
    listening = [
        c
        for proc in server_processes(studio.pid)
        for c in proc.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    port = int(studio.url.rsplit(":", 1)[1])
    assert port in {c.laddr.port for c in listening}  # we did find the server's sockets
    for c in listening:
        assert ipaddress.ip_address(c.laddr.ip).is_loopback, c


def test_the_server_cannot_be_reached_through_other_addresses(studio: StudioServer) -> None:
    port = int(studio.url.rsplit(":", 1)[1])
    others = [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family in (socket.AF_INET, socket.AF_INET6)
        and not ipaddress.ip_address(a.address.split("%")[0]).is_loopback
        and not ipaddress.ip_address(a.address.split("%")[0]).is_link_local
    ]
    assert others, "this machine has no non-loopback address to try"
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # reachable where it should be
    for address in others:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=5).close()


def signup(studio: StudioServer, email: str, token: str | None) -> int:
    """POST the sign-up form as a browser would (CSRF cookie and token included)."""
    query = f"?token={token}" if token is not None else ""
    with httpx.Client(base_url=studio.url) as web:
        web.get(f"/user/signup/{query}")
        answer = web.post(
            f"/user/signup/{query}",
            data={"email": email, "password": "Sup3rSecret!!x", "how_find_us": "Other"},
            headers={"X-CSRFToken": web.cookies["csrftoken"], "Referer": f"{studio.url}/"},
        )
    return answer.status_code


def emails(studio: StudioServer) -> set[str]:
    return {u.email for u in studio.client().sdk.users.list()}


def test_sign_up_needs_the_invitation(studio: StudioServer) -> None:
    before = emails(studio)
    assert signup(studio, "nobody@example.com", None) == 403
    assert signup(studio, "guesser@example.com", "not-the-token") == 403
    assert emails(studio) == before

    # The control: the same form with the organisation's invite token does create a user,
    # so the refusals above are the invitation rule, not a malformed request.
    with httpx.Client(
        base_url=studio.url, headers={"Authorization": f"Token {studio.api_key}"}
    ) as api:
        invite = api.get("/api/invite").json()
    assert invite["token"] in invite["invite_url"]
    assert signup(studio, "invited@example.com", invite["token"]) in (200, 302)
    assert emails(studio) == before | {"invited@example.com"}
