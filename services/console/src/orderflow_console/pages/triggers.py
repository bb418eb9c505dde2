"""Triggers: the list (enabled, firings in the last 24 hours), the editor (create and edit
without JSON; the API's field errors beside the fields), enable, disable, delete after a
confirmation, a dry run against an order, and the trigger's runs (what waits, until when)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from orderflow_schemas.triggers import RUN_STATES

from .. import trigger_form as tf
from ..api import ApiError
from ..render import api, render
from ..sessions import Session, SignedIn, check_csrf

router = APIRouter(include_in_schema=False)


@router.get("/triggers", response_class=HTMLResponse)
async def list_triggers(request: Request, session: SignedIn, after: str = "",
                        notice: str = "") -> HTMLResponse:
    client = api(request)
    page = await client.get("triggers", "/api/v1/triggers", limit=100, after=after or None)
    since = (datetime.now(UTC) - timedelta(hours=24)).isoformat()
    try:
        counts = (await client.get("history", "/api/v1/events/firing-counts",
                                   since=since))["counts"]
    except ApiError:
        counts = {}
    return render(request, "triggers.html", {"page": page, "counts": counts, "notice": notice})


def _editor(request: Request, values: dict[str, Any], trigger_id: str | None,
            errors: dict[str, str] | None = None, problem: str | None = None,
            status_code: int = 200) -> HTMLResponse:
    return render(request, "trigger_form.html", {
        "v": values, "trigger_id": trigger_id, "errors": errors or {}, "problem": problem,
        "tf": tf, "condition_rows": tf.rows(values, "conditions", tf.CONDITION_ROWS),
        "effect_rows": tf.rows(values, "effects", tf.EFFECT_ROWS),
        "step_rows": tf.rows(values, "steps", tf.STEP_ROWS),
        "stop_rows": tf.rows(values, "stopWhen", tf.STOP_ROWS)}, status_code=status_code)


@router.get("/triggers/new", response_class=HTMLResponse)
async def new_trigger(request: Request, session: SignedIn) -> HTMLResponse:
    return _editor(request, {"enabled": "on", "listen.kind": "event",
                             "listen.event": "orderDELIVERED", "effects.0.type": "http",
                             "effects.0.method": "POST"}, None)


@router.get("/triggers/{trigger_id}", response_class=HTMLResponse)
async def edit_trigger(request: Request, trigger_id: str, session: SignedIn) -> HTMLResponse:
    trigger = await api(request).get("triggers", f"/api/v1/triggers/{trigger_id}")
    return _editor(request, tf.flatten(trigger), trigger_id)


async def _form(request: Request) -> dict[str, Any]:
    data = await request.form()
    values: dict[str, Any] = {k: v for k, v in data.items() if isinstance(v, str)}
    values["schedule.weekdays"] = [v for v in data.getlist("schedule.weekdays")
                                   if isinstance(v, str)]
    return values


@router.post("/triggers", response_class=HTMLResponse)
async def create_trigger(request: Request, session: SignedIn) -> Response:
    return await _save(request, session, None)


@router.post("/triggers/{trigger_id}", response_class=HTMLResponse)
async def replace_trigger(request: Request, trigger_id: str, session: SignedIn) -> Response:
    return await _save(request, session, trigger_id)


async def _save(request: Request, session: Session, trigger_id: str | None) -> Response:
    values = await _form(request)
    check_csrf(session, values.get("csrf"))
    built = tf.build(values)
    client = api(request)
    try:
        if trigger_id is None:
            saved = await client.post("triggers", "/api/v1/triggers", built.body)
        else:
            saved = await client.call("PUT", "triggers", f"/api/v1/triggers/{trigger_id}",
                                      json=built.body)
    except ApiError as exc:
        if exc.status not in (400, 409, 422):
            raise
        errors = built.form_errors(exc.fields)
        return _editor(request, values, trigger_id, errors, problem=exc.detail if not errors
                       or "(body)" in errors else None, status_code=422)
    return RedirectResponse(f"/triggers?notice=saved+{saved['name']}", status_code=303)


@router.post("/triggers/{trigger_id}/enable")
async def enable(request: Request, trigger_id: str, session: SignedIn,
                 csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    await api(request).post("triggers", f"/api/v1/triggers/{trigger_id}/enable")
    return RedirectResponse("/triggers?notice=enabled", status_code=303)


@router.post("/triggers/{trigger_id}/disable")
async def disable(request: Request, trigger_id: str, session: SignedIn,
                  csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    await api(request).post("triggers", f"/api/v1/triggers/{trigger_id}/disable")
    return RedirectResponse("/triggers?notice=disabled", status_code=303)


@router.get("/triggers/{trigger_id}/delete", response_class=HTMLResponse)
async def confirm_delete(request: Request, trigger_id: str, session: SignedIn) -> HTMLResponse:
    trigger = await api(request).get("triggers", f"/api/v1/triggers/{trigger_id}")
    return render(request, "confirm.html", {
        "question": f"Delete the trigger {trigger['name']!r}? Its waiting runs are cancelled.",
        "action": f"/triggers/{trigger_id}/delete", "back": "/triggers", "verb": "Delete"})


@router.post("/triggers/{trigger_id}/delete")
async def delete(request: Request, trigger_id: str, session: SignedIn,
                 csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    await api(request).call("DELETE", "triggers", f"/api/v1/triggers/{trigger_id}")
    return RedirectResponse("/triggers?notice=deleted", status_code=303)


@router.get("/triggers/{trigger_id}/dry-run", response_class=HTMLResponse)
async def dry_run(request: Request, trigger_id: str, session: SignedIn,
                  order: str = "") -> HTMLResponse:
    client = api(request)
    trigger = await client.get("triggers", f"/api/v1/triggers/{trigger_id}")
    result, problem = None, None
    if order.strip():
        try:
            result = await client.post("triggers", f"/api/v1/triggers/{trigger_id}/dry-run",
                                       {"externalOrderId": order.strip()})
        except ApiError as exc:
            if exc.status not in (400, 404, 422):
                raise
            problem = exc.detail
    return render(request, "dry_run.html", {"trigger": trigger, "order": order,
                                            "result": result, "problem": problem})


@router.get("/triggers/{trigger_id}/runs", response_class=HTMLResponse)
async def runs(request: Request, trigger_id: str, session: SignedIn, state: str = "",
               order: str = "", after: str = "") -> HTMLResponse:
    client = api(request)
    trigger = await client.get("triggers", f"/api/v1/triggers/{trigger_id}")
    page = await client.get("triggers", f"/api/v1/triggers/{trigger_id}/runs", limit=50,
                            state=state if state in RUN_STATES else None,
                            order=order.strip() or None, after=after or None)
    return render(request, "runs.html", {"trigger": trigger, "page": page, "states": RUN_STATES,
                                         "state": state, "order": order})
