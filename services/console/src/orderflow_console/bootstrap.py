"""Composition root of the console: settings, the HTTP client of the four services, sessions,
templates and the pages. Server-rendered (FastAPI + Jinja2 with autoescaping) with a little
JavaScript for what is cheap to enhance (the FORM modal, live timeline, confirmations): every
form posts without it, nothing is loaded from outside the repository at run time, and there is
no build step to keep in step with the Python code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from orderflow_runtime.web import create_app

from .api import ApiDown, ApiError
from .config import ConsoleSettings
from .pages import auth, events, operations, orders, triggers
from .render import render, templates
from .sessions import BadCsrf, Sessions, SignedOut

SERVICE = "console"
STATIC = Path(__file__).parent / "static"


class _Ready:
    """``/healthz``: the console has nothing of its own to fail."""

    def problems(self) -> list[str]:
        return []


def build_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=15) as client:
            app.state.http = client
            app.state.resources = _Ready()
            yield

    app = create_app(title="orderflow console", api_keys="", lifespan=lifespan,
                     validation_status=422)
    app.state.settings = settings
    app.state.sessions = Sessions(settings.session_secret, settings.session_hours)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, orders, triggers, events, operations):
        app.include_router(module.router)

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, exc: SignedOut) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(BadCsrf)
    async def _bad_csrf(request: Request, exc: BadCsrf) -> Response:
        return _problem(request, 403, "This form is out of date or did not come from the "
                                      "console: go back, reload the page and try again.")

    @app.exception_handler(ApiDown)
    async def _down(request: Request, exc: ApiDown) -> Response:
        return _problem(request, 502, f"A service is not answering: {exc}")

    @app.exception_handler(ApiError)
    async def _refused(request: Request, exc: ApiError) -> Response:
        if exc.status == 401:  # the key was revoked while signed in
            request.app.state.sessions.close(request)
            return RedirectResponse("/login?expired=1", status_code=303)
        return _problem(request, exc.status, exc.detail)

    return app


def _problem(request: Request, status: int, message: str) -> HTMLResponse:
    context: dict[str, Any] = {"status": status, "message": message}
    return render(request, "problem.html", context, status_code=status)
