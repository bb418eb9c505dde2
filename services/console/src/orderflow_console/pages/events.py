"""Event history (seed 004): every order event, newest first, by name, order and time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..api import ApiError
from ..render import api, render
from ..sessions import SignedIn
from ..trigger_form import EVENTS

router = APIRouter(include_in_schema=False)


@router.get("/events", response_class=HTMLResponse)
async def events(request: Request, session: SignedIn, name: str = "", order: str = "",
                 since: str = "", until: str = "", cursor: str = "") -> HTMLResponse:
    params = {"name": name or None, "order": order.strip() or None,
              "since": since or None, "until": until or None, "cursor": cursor or None,
              "limit": 50}
    problem: str | None = None
    page: dict[str, Any] = {"events": [], "nextCursor": None}
    try:
        page = await api(request).get("history", "/api/v1/events", **params)
    except ApiError as exc:
        if exc.status not in (400, 422):
            raise
        problem = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.detail
    return render(request, "events.html", {"page": page, "names": EVENTS, "name": name,
                                           "order": order, "since": since, "until": until,
                                           "problem": problem})
