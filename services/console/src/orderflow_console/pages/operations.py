"""Operations: dead action requests (re-drive one, or all of an endpoint), endpoints with their
state and secret rotation, and the DLQ with each entry's reason and original message."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..render import api, render
from ..sessions import SignedIn, check_csrf

router = APIRouter(include_in_schema=False)


def _original(letter: dict[str, Any]) -> str:
    raw = letter.get("data", {}).get("valueB64") or ""
    try:
        return base64.b64decode(raw).decode("utf-8", errors="replace")[:20_000]
    except ValueError:
        return "(not readable)"


@router.get("/operations", response_class=HTMLResponse)
async def operations(request: Request, session: SignedIn, notice: str = "",
                     dlq_cursor: str = "", dead_cursor: str = "") -> HTMLResponse:
    client = api(request)
    dead = await client.get("executor", "/api/v1/dead-requests", limit=50,
                            cursor=dead_cursor or None)
    endpoints = await client.get("executor", "/api/v1/endpoints", limit=200)
    detailed = [await client.get("executor", f"/api/v1/endpoints/{e['id']}")
                for e in endpoints["endpoints"]]
    letters = await client.get("history", "/api/v1/events", kind="dead_letter", limit=50,
                               cursor=dlq_cursor or None)
    for letter in letters["events"]:
        letter["original"] = _original(letter)
    return render(request, "operations.html", {"dead": dead, "endpoints": detailed,
                                               "letters": letters, "notice": notice})


@router.post("/operations/dead-requests/{request_id}/redrive")
async def redrive(request: Request, request_id: str, session: SignedIn,
                  csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    await api(request).post("executor", f"/api/v1/dead-requests/{request_id}/redrive")
    return RedirectResponse("/operations?notice=re-driven", status_code=303)


@router.post("/operations/endpoints/{endpoint_id}/{what}")
async def endpoint_action(request: Request, endpoint_id: str, what: str, session: SignedIn,
                          csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    if what not in ("redrive", "rotate-secret", "enable"):
        return RedirectResponse("/operations", status_code=303)
    await api(request).post("executor", f"/api/v1/endpoints/{endpoint_id}/{what}",
                            {} if what == "rotate-secret" else None)
    return RedirectResponse(f"/operations?notice={what}", status_code=303)
