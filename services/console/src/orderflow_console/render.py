"""Rendering: the templates, their filters, and the context every page has (the user, the CSRF
token for its forms)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .api import Api

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")  # autoescapes .html


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


templates.env.filters["when"] = _when
templates.env.filters["pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False,
                                                       sort_keys=True, default=str)


def render(request: Request, name: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    return templates.TemplateResponse(request, name, {
        "session": session, "csrf": session.csrf if session else "", **context},
        status_code=status_code)


def api(request: Request) -> Api:
    """The signed-in user's client of the services (after ``sessions.current``)."""
    return Api(request.app.state.settings, request.app.state.http, request.state.session.key)
