"""The four services, as the signed-in user's client: every call carries the session's key.
An answer of 4xx is an ``ApiError`` with the service's detail and field errors (the pages show
them beside the fields); a service that does not answer is an ``ApiDown``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .config import ConsoleSettings


@dataclass
class ApiError(Exception):
    status: int
    detail: str
    fields: dict[str, str]
    body: Any = None

    def __str__(self) -> str:
        return self.detail


class ApiDown(Exception):
    """A service did not answer."""


class Api:
    def __init__(self, settings: ConsoleSettings, client: httpx.AsyncClient, key: str) -> None:
        self.client = client
        self.key = key
        self.base = {"ingest": settings.ingest_url, "triggers": settings.trigger_engine_url,
                     "executor": settings.action_executor_url, "history": settings.history_url}

    async def call(self, method: str, service: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Any:
        url = self.base[service].rstrip("/") + path
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            answer = await self.client.request(
                method, url, json=json, params=clean,
                headers={"Authorization": f"Bearer {self.key}", **(headers or {})})
        except httpx.HTTPError as exc:
            raise ApiDown(f"{service} did not answer: {exc}") from exc
        if answer.status_code == 204:
            return None
        try:
            body = answer.json()
        except ValueError:
            body = {"detail": answer.text[:500]}
        if answer.status_code >= 400:
            raise ApiError(answer.status_code, _detail(body), _fields(body), body)
        return body

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call("GET", service, path, params=params)

    async def post(self, service: str, path: str, json: Any = None, **kw: Any) -> Any:
        return await self.call("POST", service, path, json=json, **kw)


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
    return "the service refused the request"


def _fields(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        return {}
    out: dict[str, str] = {}
    for e in body.get("errors") or []:
        if isinstance(e, dict):
            out.setdefault(str(e.get("field", "")), str(e.get("message", "")))
    return out
