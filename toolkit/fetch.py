"""Fetch a Label Studio project's JSON export: paged, with bounded retries.

Only the network side of `pull` (the transforms are in `label_tables`, tested on
recorded JSON). Retries are ours, not the SDK's, so the bound, the backoff and the final
error are explicit; the error text never carries the exception's own text, which may
echo request headers (the API key).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from toolkit.errors import StudioError

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 100  # tasks per export request: bounded memory and request time


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff, for 5xx answers, timeouts and refusals."""

    attempts: int = 5
    backoff: float = 1.0  # seconds before the 2nd attempt; doubled each time
    max_backoff: float = 15.0
    timeout: float = 60.0  # seconds per request


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, ApiError):
        return exc.status_code is None or exc.status_code >= 500 or exc.status_code in (408, 429)
    return isinstance(exc, httpx.TransportError)


def _describe(exc: Exception) -> str:
    # Never the exception text: an SDK error may echo request headers (the API key).
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def with_retries(call: Callable[[], T], what: str, policy: RetryPolicy) -> T:
    """`call()`, retried on transient failures; StudioError once the attempts are spent."""
    delay = policy.backoff
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except (ApiError, httpx.HTTPError) as exc:
            if not _retryable(exc):
                raise StudioError(f"Label Studio refused {what}: {_describe(exc)}") from None
            if attempt == policy.attempts:
                raise StudioError(
                    f"Label Studio did not answer {what} after {policy.attempts} attempts "
                    f"(last: {_describe(exc)}); is it running? Rerun pull when it is back."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, policy.max_backoff)
    raise AssertionError("unreachable")


def connect(url: str | None, api_key: str | None, policy: RetryPolicy) -> LabelStudio:
    """A client from the options, else LABEL_STUDIO_URL/_API_KEY, else `studio up`'s file."""
    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not api_key:
        from toolkit.studio_server import read_config

        recorded = read_config()
        if recorded is not None:
            url, api_key = url or recorded.url, api_key or recorded.api_key
    if not url or not api_key:
        raise StudioError(
            "no Label Studio to pull from: pass --url and --api-key, set LABEL_STUDIO_URL and "
            "LABEL_STUDIO_API_KEY, or run `toolkit studio up`"
        )
    # max_retries=0: retries are ours (bounded, with backoff, and a clean error at the end)
    return LabelStudio(base_url=url, api_key=api_key, timeout=policy.timeout)


_NO_SDK_RETRY: Any = {"max_retries": 0}


def find_project(client: LabelStudio, title: str, policy: RetryPolicy) -> int:
    found = with_retries(
        lambda: [p for p in client.projects.list(title=title, request_options=_NO_SDK_RETRY)],
        "the project list",
        policy,
    )
    exact = [p.id for p in found if p.title == title]
    if not exact:
        raise StudioError(f"no Label Studio project titled {title!r}; push first")
    if len(exact) > 1:
        raise StudioError(f"{len(exact)} projects are titled {title!r}; rename all but one")
    return int(exact[0])


def fetch_users(client: LabelStudio, policy: RetryPolicy) -> dict[int, str]:
    users = with_retries(
        lambda: list(client.users.list(request_options=_NO_SDK_RETRY)), "the user list", policy
    )
    return {int(u.id): str(u.email or u.username or u.id) for u in users}


def _task_ids(client: LabelStudio, project_id: int, page_size: int, policy: RetryPolicy):
    ids: list[int] = []
    page = 1
    while True:
        pager = with_retries(
            lambda p=page: client.tasks.list(
                project=project_id,
                page=p,
                page_size=page_size,
                fields="task_only",
                include="id",
                request_options=_NO_SDK_RETRY,
            ),
            f"task page {page}",
            policy,
        )
        items = pager.items or []
        ids.extend(int(t.id) for t in items)
        total = getattr(pager.response, "total", None)
        if not items or (total is not None and len(ids) >= total):
            return sorted(set(ids))
        page += 1


def fetch_export(
    client: LabelStudio,
    project_id: int,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    policy: RetryPolicy | None = None,
) -> list[dict[str, Any]]:
    """The project's JSON export (all tasks), fetched `page_size` tasks per request."""
    policy = policy or RetryPolicy()
    ids = _task_ids(client, project_id, page_size, policy)
    tasks: list[dict[str, Any]] = []
    for i in range(0, len(ids), page_size):
        chunk = [str(t) for t in ids[i : i + page_size]]

        def export(chunk: list[str] = chunk) -> list[dict[str, Any]]:
            options: Any = {"max_retries": 0, "additional_query_parameters": {"ids[]": chunk}}
            body = b"".join(
                client.projects.exports.download_sync(
                    project_id, export_type="JSON", download_all_tasks=True, request_options=options
                )
            )
            return json.loads(body)

        tasks.extend(with_retries(export, f"the export of tasks {chunk[0]}..{chunk[-1]}", policy))
    got = sorted(int(t["id"]) for t in tasks)
    if got != ids:
        raise StudioError(
            f"the export returned {len(got)} tasks for {len(ids)} requested; rerun pull"
        )
    return tasks


# ---------------------------------------------------------------- pull and report
