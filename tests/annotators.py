"""Annotators as people: accounts made through the invite link, logged in through the login
form, working from the project's queue with their session (as the browser does)."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


class Session:
    """One logged-in annotator: the login form's session cookie, CSRF header on writes."""

    def __init__(self, url: str, email: str, password: str) -> None:
        self.email = email
        self.http = httpx.Client(base_url=url, timeout=120, follow_redirects=False)
        page = self.http.get("/user/login/")
        token = _CSRF.search(page.text)
        assert token is not None, page.text[:500]
        answer = self.http.post(
            "/user/login/",
            data={"csrfmiddlewaretoken": token.group(1), "email": email, "password": password},
            headers={"Referer": f"{url}/user/login/"},
        )
        assert answer.status_code == 302, f"{email} could not log in: {answer.status_code}"
        self.http.headers["X-CSRFToken"] = self.http.cookies["csrftoken"]
        self.http.headers["Referer"] = f"{url}/"
        me = self.http.get("/api/current-user/whoami")
        assert me.status_code == 200, me.text
        self.user_id = int(me.json()["id"])

    def next_task(self, project_id: int) -> dict[str, Any] | None:
        """The next task the queue serves this annotator ("Label all tasks"), or None."""
        answer = self.http.get(f"/api/projects/{project_id}/next")
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return answer.json()

    def submit(self, task_id: int, result: list[dict[str, Any]]) -> int:
        answer = self.http.post(
            f"/api/tasks/{task_id}/annotations/", json={"result": result, "lead_time": 5.0}
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def close(self) -> None:
        self.http.close()
