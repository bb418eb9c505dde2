"""Sign in with an API key, a user id and a display name (every execution and change is recorded
with them); sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import Api, ApiDown, ApiError
from ..render import render
from ..sessions import COOKIE, check_csrf, current

router = APIRouter(include_in_schema=False)


def _safe(target: str | None) -> str:
    # Only a path of ours: never an open redirect to another site.
    return target if target and target.startswith("/") and not target.startswith("//") \
        else "/orders"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None,
                     expired: int = 0) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe(next), "error": (
        "Your key is no longer accepted: sign in again." if expired else None), "form": {}})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, key: Annotated[str, Form()] = "",
                user_id: Annotated[str, Form()] = "", user_name: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/orders") -> Response:
    form = {"user_id": user_id, "user_name": user_name}
    errors = {name: "required" for name, value in
              (("key", key), ("user_id", user_id), ("user_name", user_name)) if not value.strip()}
    if not errors:
        try:  # any read the key may make tells whether it is a key at all
            await Api(request.app.state.settings, request.app.state.http,
                      key.strip()).get("history", "/api/v1/events", limit=1)
        except ApiError as exc:
            if exc.status == 401:
                errors["key"] = "This API key is not valid."
        except ApiDown:
            errors["key"] = "The history service is not answering; try again in a moment."
    if errors:
        return render(request, "login.html", {"next": _safe(next), "errors": errors,
                                              "form": form, "error": None}, status_code=422)
    cookie, _ = request.app.state.sessions.open(key.strip(), user_id.strip(), user_name.strip())
    answer = RedirectResponse(_safe(next), status_code=303)
    settings = request.app.state.settings
    answer.set_cookie(COOKIE, cookie, httponly=True, samesite="strict",
                      secure=settings.secure_cookies, max_age=int(settings.session_hours * 3600))
    return answer


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(current(request), csrf)
    request.app.state.sessions.close(request)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE)
    return answer


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/orders", status_code=303)
