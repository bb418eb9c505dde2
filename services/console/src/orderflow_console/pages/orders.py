"""Orders: search; the order page (fields, full JSON with its versionTag, the contact preview
with RFM, the timeline that updates while open, the external-actions menu in a locale with the
FORM modal, order actions); executing a LINK or FORM as the signed-in user; sending an order
action with the current versionTag."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import Api, ApiError
from ..render import api, render
from ..sessions import SignedIn, check_csrf

router = APIRouter(include_in_schema=False)
STATUSES = ["INITIALIZED", "IN_PROGRESS", "DELIVERED", "CANCELLED", "ABANDONED_SHOPPING_CART"]
LOCALES = ["en_US", "de_DE"]
ORDER_ACTIONS = ["ConfirmOrder", "ShipOrder", "CancelOrder", "DeliverOrder"]


@router.get("/orders", response_class=HTMLResponse)
async def search(request: Request, session: SignedIn, q: str = "", customer: str = "",
                 status: str = "", cursor: str = "") -> HTMLResponse:
    params = {"order": q.strip() or None, "customer": customer.strip() or None,
              "status": status if status in STATUSES else None, "cursor": cursor or None,
              "limit": 50}
    found = await api(request).get("history", "/api/v1/orders", **params)
    return render(request, "orders.html", {"found": found, "q": q, "customer": customer,
                                           "status": status, "statuses": STATUSES})


async def _timeline(client: Api, order_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):  # up to 5000 entries on the page
        page = await client.get("history", f"/api/v1/orders/{order_id}/timeline", limit=500,
                                cursor=cursor)
        entries += page["entries"]
        if not (cursor := page["nextCursor"]):
            break
    return entries


async def _or_none(call: Any) -> Any:
    try:
        return await call
    except ApiError as exc:
        if exc.status in (403, 404):
            return None
        raise


async def _order_page(request: Request, order_id: str, locale: str, open_form: str | None = None,
                      errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                      notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    client = api(request)
    # What the page shows comes from four services at once, not one after the other.
    order, current_version, timeline, menu = await asyncio.gather(
        _or_none(client.get("history", f"/api/v1/orders/{order_id}")),
        _or_none(client.get("ingest", f"/api/v1/orders/{order_id}")),
        _or_none(_timeline(client, order_id)),
        _or_none(client.get("executor", f"/api/v1/orders/{order_id}/external-actions/menu",
                            locale=locale)))
    if order is None and current_version is None:
        return render(request, "problem.html", {"status": 404, "message": (
            f"No order {order_id!r}: neither ingest nor history knows it.")}, status_code=404)
    document = (order or current_version)["order"]
    customer = None
    for candidate in ((order or {}).get("customerId"), document.get("externalCustomerId"),
                      document.get("email"), document.get("phone")):
        if candidate and customer is None:
            customer = await _or_none(client.get("history", f"/api/v1/customers/{candidate}"))
    return render(request, "order.html", {
        "order_id": order_id, "order": order, "document": document, "customer": customer,
        "version_tag": (current_version or order or {}).get("versionTag"),
        "timeline": timeline or [], "menu": (menu or {}).get("entries", []),
        "menu_known": menu is not None, "locale": locale, "locales": LOCALES,
        "order_actions": ORDER_ACTIONS, "open_form": open_form, "errors": errors or {},
        "values": values or {}, "nonce": secrets.token_urlsafe(12), "notice": notice},
        status_code=status_code)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: str, session: SignedIn, locale: str = "en_US",
                     open: str | None = None, notice: str | None = None) -> HTMLResponse:
    return await _order_page(request, order_id, locale if locale in LOCALES else "en_US",
                             open_form=open, notice=notice)


@router.get("/orders/{order_id}/timeline", response_class=HTMLResponse)
async def timeline_fragment(request: Request, order_id: str, session: SignedIn) -> HTMLResponse:
    """The timeline alone: what the page's script swaps in while it is open."""
    entries = await _or_none(_timeline(api(request), order_id)) or []
    return render(request, "_timeline.html", {"timeline": entries})


def _inputs(form: dict[str, str], elements: list[dict[str, Any]]) -> dict[str, Any]:
    """The FORM's inputs as the API takes them: numbers as numbers where they read as such (the
    API says what is wrong with the rest), empty ones left out."""
    out: dict[str, Any] = {}
    for element in elements:
        if element.get("kind") != "input":
            continue
        raw = form.get(f"input.{element['id']}", "").strip()
        if raw == "":
            continue
        value: Any = raw
        if element.get("inputType") == "integer" and re.fullmatch(r"-?\d{1,15}", raw):
            value = int(raw)
        elif element.get("inputType") == "float":
            with contextlib.suppress(ValueError):
                value = float(raw)
        out[element["id"]] = value
    return out


@router.post("/orders/{order_id}/actions/{action_id}/execute")
async def execute(request: Request, order_id: str, action_id: str, session: SignedIn) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(session, form.get("csrf"))
    locale = form.get("locale", "en_US")
    client = api(request)
    menu = await client.get("executor", f"/api/v1/orders/{order_id}/external-actions/menu",
                            locale=locale)
    entry = next((e for e in menu["entries"] if e["id"] == action_id), None)
    if entry is None:
        return await _order_page(request, order_id, locale, notice=(
            "That action is no longer in this order's menu."), status_code=404)
    elements = entry.get("form", {}).get("elements", [])
    try:
        done = await client.post(
            "executor", f"/api/v1/orders/{order_id}/external-actions/{action_id}/execute",
            {"user": session.user, "inputs": _inputs(form, elements)},
            headers={"Idempotency-Key": form.get("nonce") or secrets.token_urlsafe(12)})
    except ApiError as exc:
        if exc.status != 422:
            raise
        errors = {k.removeprefix("inputs."): v for k, v in exc.fields.items()}
        values = {k.removeprefix("input."): v for k, v in form.items()
                  if k.startswith("input.")}
        return await _order_page(request, order_id, locale, open_form=action_id,
                                 errors=errors, values=values, status_code=422)
    if entry["type"] == "LINK" and done.get("url"):
        return RedirectResponse(done["url"], status_code=303)
    return RedirectResponse(f"/orders/{order_id}?locale={locale}&notice=executed",
                            status_code=303)


@router.post("/orders/{order_id}/order-action")
async def order_action(request: Request, order_id: str, session: SignedIn,
                       csrf: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
                       custom: Annotated[str, Form()] = "",
                       version_tag: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    name = custom.strip() or action
    try:
        await api(request).post("ingest", f"/api/v1/orders/{order_id}/action", {
            "action": name, "versionTag": version_tag,
            "data": {"by": session.user}})
    except ApiError as exc:
        if exc.status not in (400, 404, 409, 422):
            raise
        return await _order_page(request, order_id, "en_US", notice=(
            f"{name} was not accepted: {exc.detail}"), status_code=exc.status)
    return RedirectResponse(f"/orders/{order_id}?notice=action", status_code=303)
