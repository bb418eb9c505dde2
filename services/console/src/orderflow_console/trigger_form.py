"""A trigger as a form and back, so that nobody has to write JSON. Form fields are named after
the API's own paths (``conditions.0.value``, ``effects.1.url``, ``schedule.timezone``), so the
API's field errors land beside the field at fault; rows left blank are dropped, and the errors
of the rows that remain are mapped back to the rows they came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

EVENTS = ["orderINITIALIZED", "orderIN_PROGRESS", "orderDELIVERED", "orderCANCELLED",
          "orderABANDONED_SHOPPING_CART", "orderUPDATED"]
STATUSES = ["", "INITIALIZED", "IN_PROGRESS", "DELIVERED", "CANCELLED",
            "ABANDONED_SHOPPING_CART"]
OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "matches",
             "is_set", "is_empty", "changed", "changed_to", "changed_from"]
VALUELESS = {"is_set", "is_empty", "changed", "exists", "not_exists"}
FIELDS = ["order.totalCost", "order.status", "order.deliveryMethod", "order.paymentMethod",
          "order.currency", "order.email", "order.phone", "order.items", "order.items.category",
          "order.items.cost", "customer.id", "customer.email", "customer.phone",
          "customer.deliveredOrders", "customer.totalSpent", "customer.lastOrderDate",
          "event.name"]
EFFECT_TYPES = ["http", "sms", "email", "internal", "external_action"]
INTERNAL_KINDS = ["task", "notify_manager", "change_order", "change_customer"]
WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]
CONDITION_ROWS, EFFECT_ROWS, STEP_ROWS, STOP_ROWS = 4, 3, 2, 2


@dataclass
class Built:
    """The API body and, per list, which form row each JSON item came from."""

    body: dict[str, Any]
    rows: dict[str, list[int]] = field(default_factory=dict)

    def form_errors(self, errors: dict[str, str]) -> dict[str, str]:
        """API field errors, keyed by form field."""
        out: dict[str, str] = {}
        for path, message in errors.items():
            parts = path.split(".")
            for i in range(len(parts) - 1):
                key = ".".join(parts[: i + 1])
                if key in self.rows and parts[i + 1].isdigit():
                    index = int(parts[i + 1])
                    rows = self.rows[key]
                    if index < len(rows):
                        parts[i + 1] = str(rows[index])
            out[".".join(parts)] = message
        return out


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _value(raw: str, op: str) -> Any:
    raw = raw.strip()
    try:
        return json.loads(raw)
    except ValueError:
        pass
    if op in ("in", "not_in"):
        return [v.strip() for v in raw.split(",") if v.strip()]
    return raw


def _conditions(form: dict[str, Any], prefix: str, built: Built) -> list[dict[str, Any]]:
    out, rows = [], []
    for row in range(_count(form, prefix)):
        f = _text(form, f"{prefix}.{row}.field")
        op = _text(form, f"{prefix}.{row}.op")
        expression = _text(form, f"{prefix}.{row}.expression")
        if expression:
            out.append({"expression": expression})
        elif f:
            condition: dict[str, Any] = {"field": f, "op": op or "eq"}
            if op not in VALUELESS:
                condition["value"] = _value(form.get(f"{prefix}.{row}.value", ""), op)
            out.append(condition)
        else:
            continue
        rows.append(row)
    built.rows[prefix] = rows
    return out


def _count(form: dict[str, Any], prefix: str) -> int:
    indexes = [int(m.group(1)) for k in form if (m := re.match(rf"{re.escape(prefix)}\.(\d+)\.",
                                                                k))]
    return max(indexes) + 1 if indexes else 0


def _lines(raw: str, sep: str) -> dict[str, str]:
    out = {}
    for line in raw.splitlines():
        if sep in line:
            key, _, value = line.partition(sep)
            if key.strip():
                out[key.strip()] = value.strip()
    return out


def _effect(form: dict[str, Any], p: str) -> dict[str, Any] | None:
    kind = form.get(f"{p}.type", "")

    def get(name: str) -> str:
        return _text(form, f"{p}.{name}")

    if kind == "http" and get("url"):
        effect: dict[str, Any] = {"type": "http", "method": get("method") or "POST",
                                  "url": get("url")}
        if get("headers"):
            effect["headers"] = _lines(form.get(f"{p}.headers", ""), ":")
        if get("body"):
            effect["body"] = form.get(f"{p}.body", "")
        if get("expectedStatus"):
            codes = [c.strip() for c in get("expectedStatus").split(",") if c.strip()]
            effect["expectedStatus"] = [int(c) if c.isdigit() else c for c in codes]
        if get("timeoutSeconds"):
            effect["timeoutSeconds"] = _value(get("timeoutSeconds"), "")
        return effect
    if kind == "sms" and get("text"):
        return {"type": "sms", "text": get("text")}
    if kind == "email" and (get("subject") or get("body")):
        return {"type": "email", "subject": get("subject"), "body": form.get(f"{p}.body", "")}
    if kind == "internal" and get("kind"):
        params: dict[str, Any] = {}
        for name in ("title", "note", "assignee", "subject", "text", "to"):
            if get(name):
                params[name] = get(name)
        if get("changes"):
            params["changes"] = {k: _value(v, "") for k, v in
                                 _lines(form.get(f"{p}.changes", ""), "=").items()}
        return {"type": "internal", "kind": get("kind"), "params": params}
    if kind == "external_action" and (get("action") or get("extra")):
        effect = {"type": "external_action", **_json(form, f"{p}.extra", {})}
        if get("action"):
            effect["action"] = get("action")
        return effect
    return None


def _json(form: dict[str, Any], key: str, default: Any) -> Any:
    """What the form carries unchanged in a hidden field (what it has no inputs for)."""
    raw = _text(form, key)
    try:
        return json.loads(raw) if raw else default
    except ValueError:
        return default


def _effects(form: dict[str, Any], prefix: str, built: Built) -> list[dict[str, Any]]:
    out, rows = [], []
    for row in range(_count(form, prefix)):
        effect = _effect(form, f"{prefix}.{row}")
        if effect is not None:
            out.append(effect)
            rows.append(row)
    built.rows[prefix] = rows
    return out


def build(form: dict[str, Any]) -> Built:
    """The API body of a submitted trigger form."""
    built = Built({})
    body: dict[str, Any] = {"name": _text(form, "name"),
                            "enabled": form.get("enabled") == "on"}
    kind = form.get("listen.kind", "event")
    if kind == "action":
        body["event"] = f"action:{form.get('listen.action', '').strip()}"
    elif kind == "statusChange":
        change = {k: form.get(f"listen.{k}") for k in ("from", "to") if form.get(f"listen.{k}")}
        body["event"] = {"statusChange": change}
    elif kind == "fieldChange":
        change = {"field": _text(form, "listen.field")}
        if _text(form, "listen.fieldTo"):
            change["to"] = _value(form["listen.fieldTo"], "")
        body["event"] = {"fieldChange": change}
    else:
        body["event"] = form.get("listen.event") or "orderDELIVERED"
    # The further events a trigger listens to, which the form shows but does not edit.
    if more := _json(form, "events.more", []):
        body["events"] = [body.pop("event"), *more]
    body["conditions"] = _conditions(form, "conditions", built)
    if _text(form, "delay"):
        body["delay"] = form["delay"].strip()
    if form.get("schedule.mode") == "window":
        body["schedule"] = {
            "mode": "window", "weekdays": [int(d) for d in form.get("schedule.weekdays", [])],
            "start": form.get("schedule.start") or "09:00",
            "end": form.get("schedule.end") or "17:00",
            "timezone": _text(form, "schedule.timezone") or "UTC"}
    frequency = form.get("frequency.mode", "every")
    body["frequency"] = {"mode": frequency}
    if frequency == "once_per_period":
        body["frequency"]["period"] = _text(form, "frequency.period")
    body["effects"] = _effects(form, "effects", built)
    steps, rows = [], []
    for row in range(_count(form, "steps")):
        effect = _effect(form, f"steps.{row}.effects.0")
        after = _text(form, f"steps.{row}.after")
        if effect is not None or after:
            more = _json(form, f"steps.{row}.effects.more", [])
            steps.append({"after": after, "effects": ([effect] if effect else []) + more})
            rows.append(row)
    built.rows["steps"] = rows
    if steps:
        body["steps"] = steps
    stops = _conditions(form, "stopWhen", built)
    if stops:
        body["stopWhen"] = stops
    body["blockWhileRunning"] = form.get("blockWhileRunning") == "on"
    built.body = body
    return built


def _flat_condition(out: dict[str, Any], p: str, c: dict[str, Any]) -> None:
    if c.get("expression"):
        out[f"{p}.expression"] = c["expression"]
        return
    out[f"{p}.field"], out[f"{p}.op"] = c.get("field", ""), c.get("op", "eq")
    if c.get("op") not in VALUELESS and "value" in c:
        value = c["value"]
        out[f"{p}.value"] = value if isinstance(value, str) else json.dumps(value)


def _flat_effect(out: dict[str, Any], p: str, e: dict[str, Any]) -> None:
    out[f"{p}.type"] = e.get("type", "")
    if e.get("type") == "external_action":
        extra = {k: e[k] for k in ("params", "define") if e.get(k)}
        if extra:
            out[f"{p}.extra"] = json.dumps(extra)
    for key in ("method", "url", "body", "text", "subject", "kind", "action"):
        if e.get(key) is not None:
            out[f"{p}.{key}"] = e[key]
    if e.get("headers"):
        out[f"{p}.headers"] = "\n".join(f"{k}: {v}" for k, v in e["headers"].items())
    if e.get("expectedStatus"):
        out[f"{p}.expectedStatus"] = ", ".join(str(c) for c in e["expectedStatus"])
    if e.get("timeoutSeconds") is not None:
        out[f"{p}.timeoutSeconds"] = str(e["timeoutSeconds"])
    for key, value in (e.get("params") or {}).items():
        if key == "changes" and isinstance(value, dict):
            out[f"{p}.changes"] = "\n".join(
                f"{k} = {v if isinstance(v, str) else json.dumps(v)}" for k, v in value.items())
        elif isinstance(value, str):
            out[f"{p}.{key}"] = value


def flatten(trigger: dict[str, Any]) -> dict[str, Any]:
    """A trigger from the API as the form's values."""
    out: dict[str, Any] = {"name": trigger.get("name", ""),
                           "enabled": "on" if trigger.get("enabled", True) else ""}
    events = trigger.get("events") or []
    event = trigger.get("event") or (events or ["orderDELIVERED"])[0]
    if not trigger.get("event") and len(events) > 1:
        out["events.more"] = json.dumps(events[1:])
    if isinstance(event, str) and event.startswith("action:"):
        out["listen.kind"], out["listen.action"] = "action", event.removeprefix("action:")
    elif isinstance(event, dict) and event.get("statusChange"):
        out["listen.kind"] = "statusChange"
        out["listen.from"] = event["statusChange"].get("from") or ""
        out["listen.to"] = event["statusChange"].get("to") or ""
    elif isinstance(event, dict) and event.get("fieldChange"):
        out["listen.kind"] = "fieldChange"
        out["listen.field"] = event["fieldChange"].get("field", "")
        to = event["fieldChange"].get("to")
        out["listen.fieldTo"] = "" if to is None else to if isinstance(to, str) else json.dumps(to)
    else:
        out["listen.kind"], out["listen.event"] = "event", event
    for i, c in enumerate(trigger.get("conditions") or []):
        _flat_condition(out, f"conditions.{i}", c)
    for i, c in enumerate(trigger.get("stopWhen") or []):
        _flat_condition(out, f"stopWhen.{i}", c)
    out["delay"] = trigger.get("delay") or ""
    if out["delay"] == "PT0S":
        out["delay"] = ""
    schedule = trigger.get("schedule") or {}
    out["schedule.mode"] = schedule.get("mode", "continuous")
    out["schedule.weekdays"] = [str(d) for d in schedule.get("weekdays") or []]
    for key in ("start", "end", "timezone"):
        out[f"schedule.{key}"] = schedule.get(key) or ""
    frequency = trigger.get("frequency") or {}
    out["frequency.mode"] = frequency.get("mode", "every")
    out["frequency.period"] = frequency.get("period") or ""
    for i, e in enumerate(trigger.get("effects") or []):
        _flat_effect(out, f"effects.{i}", e)
    for i, step in enumerate(trigger.get("steps") or []):
        out[f"steps.{i}.after"] = step.get("after", "")
        if step.get("effects"):
            _flat_effect(out, f"steps.{i}.effects.0", step["effects"][0])
            if len(step["effects"]) > 1:
                out[f"steps.{i}.effects.more"] = json.dumps(step["effects"][1:])
    out["blockWhileRunning"] = "on" if trigger.get("blockWhileRunning") else ""
    return out


def rows(values: dict[str, Any], prefix: str, minimum: int) -> range:
    """How many rows of a list the form shows: those filled, and one blank at least."""
    return range(max(minimum, _count(values, prefix) + 1))
