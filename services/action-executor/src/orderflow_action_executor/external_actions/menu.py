"""An order's action menu: its LINK and FORM actions and the templates whose conditions hold on
the order (COMMENT is an information channel, never in the menu), with names and texts in the
asked locale (falling back to en_US) and each LINK's URL rendered with the order."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from orderflow_rules import Check, DataScope, compile_condition
from orderflow_schemas import Condition
from orderflow_schemas.external_actions import localized
from orderflow_schemas.templates import TemplateError

from ..templates import context_for, render_url
from .store import Action


@lru_cache(maxsize=1024)
def _checks(conditions: bytes) -> tuple[Check, ...]:
    # Compiled once per set of conditions (a regex or CEL program is costly), not per menu.
    return tuple(compile_condition(Condition.model_validate(c), i)
                 for i, c in enumerate(orjson.loads(conditions)))


def applies(template: Action, order: dict[str, Any]) -> bool:
    """Whether every condition of the template holds on the order."""
    scope = DataScope({"order": order})
    checks = _checks(orjson.dumps(template.spec.get("conditions", [])))
    return all(check.test(scope)[0] for check in checks)


def link_url(action: Action, order_id: str, order: dict[str, Any],
             customer_id: str | None) -> str:
    """The LINK's URL for this order (``TemplateError`` when a variable is missing)."""
    return render_url(action.spec["url"], context_for(order_id, action.id, order, customer_id))


def entry(action: Action, locale: str, order_id: str, order: dict[str, Any],
          customer_id: str | None) -> dict[str, Any]:
    spec = action.spec
    out: dict[str, Any] = {"id": action.id, "type": action.type, "source": (
        "order" if action.order_id else "template"), "version": action.version,
        "name": localized(spec["name"], locale), "groups": spec.get("groups", [])}
    if action.type == "LINK":
        try:
            out["url"] = link_url(action, order_id, order, customer_id)
        except TemplateError as exc:
            out["url"], out["problem"] = None, str(exc)
        return out
    out["form"] = {
        "elements": [_element(e, locale) for e in spec.get("elements", [])],
        "confirmLabel": localized(spec.get("confirmLabel") or {"en_US": "Confirm"}, locale),
        "cancelLabel": localized(spec.get("cancelLabel") or {"en_US": "Cancel"}, locale)}
    return out


def _element(element: dict[str, Any], locale: str) -> dict[str, Any]:
    shown = {k: v for k, v in element.items() if k not in ("text", "label")}
    for key in ("text", "label"):
        if element.get(key):
            shown[key] = localized(element[key], locale)
    return shown


def menu(actions: list[Action], templates: list[Action], locale: str, order_id: str,
         order: dict[str, Any], customer_id: str | None) -> list[dict[str, Any]]:
    chosen = [a for a in actions if a.type in ("LINK", "FORM")]
    chosen += [t for t in templates if t.type in ("LINK", "FORM") and applies(t, order)]
    entries = [entry(a, locale, order_id, order, customer_id) for a in chosen]
    return sorted(entries, key=lambda e: (e["groups"][:1], e["name"], e["id"]))
