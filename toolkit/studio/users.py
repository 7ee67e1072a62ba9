"""Annotator accounts on a Label Studio server (the embedded one, or any Community server).

Measured on 1.23.2 Community: a user made through `POST /api/users/` belongs to no
organisation and cannot log in; with sign-up restricted to invitations (how `studio up`
starts the server), a person joins through the sign-up form with the organisation's
invite token (`GET /api/invite`). So does this module: ask for the invite link with the
admin's key, then fill in the sign-up form as the person would (CSRF cookie, form post).
The password is generated here and kept in an owner-only file; it is never logged.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import httpx

from toolkit.errors import StudioError
from toolkit.studio.client import StudioClient
from toolkit.studio.server import _write_private, toolkit_home

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CSRF = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
# The sign-up page shows a refusal in an error block next to the field it concerns.
_FORM_ERROR = re.compile(r'class="[^"]*(?:error|field_errors)[^"]*"[^>]*>\s*([^<]+)<')


@dataclass(frozen=True)
class Annotator:
    email: str
    user_id: int
    password: str = field(repr=False)


def users_file(home: Path | None = None) -> Path:
    """Where the passwords of the accounts made here are kept (owner-only)."""
    return (home or toolkit_home()) / "studio-users.json"


def _invite_path(client: StudioClient) -> str:
    http = client.sdk._client_wrapper.httpx_client  # the SDK has no call for GET /api/invite

    def invite() -> Any:
        response = http.request("api/invite", method="GET")
        if response.status_code != 200:
            from label_studio_sdk.core.api_error import ApiError

            raise ApiError(status_code=response.status_code, headers={}, body=response.text)
        return response.json()

    answer = client.call("get the organisation's invite link", invite)
    path = answer.get("invite_url") if isinstance(answer, dict) else None
    if not path:
        raise StudioError(f"Label Studio at {client.url} gave no invite link")
    return str(path)


def sign_up(url: str, invite_path: str, email: str, password: str, timeout: float = 60) -> None:
    """Fill in the server's sign-up form with the invite token, as a person would."""
    with httpx.Client(base_url=url, timeout=timeout, follow_redirects=False) as session:
        try:
            page = session.get(invite_path)
            token = _CSRF.search(page.text)
            if page.status_code != 200 or token is None:
                raise StudioError(
                    f"Label Studio at {url} showed no sign-up form (HTTP {page.status_code})"
                )
            answer = session.post(
                invite_path,
                data={"csrfmiddlewaretoken": token.group(1), "email": email,
                      "password": password},
                headers={"Referer": f"{url}{invite_path}"},
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise StudioError(
                f"cannot reach Label Studio at {url} to sign up {email}: {type(exc).__name__}"
            ) from None
    if answer.status_code in (301, 302, 303):
        return  # signed up and logged in: the form redirects to the projects
    reasons = [unescape(m.strip()) for m in _FORM_ERROR.findall(answer.text) if m.strip()]
    # The form page echoes the email but never the password; still keep it out of messages.
    reason = "; ".join(reasons).replace(password, "***") or f"HTTP {answer.status_code}"
    raise StudioError(f"Label Studio at {url} refused to sign up {email}: {reason}")


def add_user(
    client: StudioClient, email: str, *, password: str | None = None, home: Path | None = None
) -> Annotator:
    """Create an annotator account that can log in; its password is kept in
    `users_file(home)` (readable by its owner only) and returned."""
    email = email.strip()
    if not _EMAIL.match(email):
        raise StudioError(f"{email!r} is not an email address")
    existing = client.call("list the users", lambda: list(client.sdk.users.list()))
    if any((u.email or "").lower() == email.lower() for u in existing):
        raise StudioError(f"Label Studio at {client.url} already has a user {email}")
    password = password or secrets.token_urlsafe(12)
    sign_up(client.url, _invite_path(client), email, password)
    users = client.call("list the users", lambda: list(client.sdk.users.list()))
    made = next((u for u in users if (u.email or "").lower() == email.lower()), None)
    if made is None:
        raise StudioError(f"Label Studio at {client.url} accepted {email} but does not list it")
    annotator = Annotator(email, int(made.id), password)
    _remember(annotator, client.url, home)
    return annotator


def _remember(annotator: Annotator, url: str, home: Path | None) -> None:
    path = users_file(home)
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known.setdefault(url, {})[annotator.email] = {
        "user_id": annotator.user_id,
        "password": annotator.password,
    }
    _write_private(path, json.dumps(known, indent=2) + "\n")
