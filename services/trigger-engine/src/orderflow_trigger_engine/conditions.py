"""Conditions over an event: each one checked and explained. Pure: no I/O.

A field is a dotted path into ``{"order": ..., "event": ..., "customer": ...}``; a path through a
list (``order.items.category``) yields every value, and the condition holds if any of them does.
``changed_to`` / ``changed_from`` look at the event's changes of that field."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orderflow_schemas import Condition, Operator

_MISSING = object()


@dataclass(frozen=True)
class Verdict:
    holds: bool
    reason: str


def values_at(context: Any, path: str) -> list[Any]:
    current: list[Any] = [context]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in current:
            if isinstance(value, dict) and part in value:
                nxt.append(value[part])
            elif isinstance(value, list):
                nxt.extend(v[part] for v in value if isinstance(v, dict) and part in v)
        current = nxt
    flat: list[Any] = []
    for v in current:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def _safe(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def wrapped(a: Any, b: Any) -> bool:
        try:
            return bool(fn(a, b))
        except TypeError:
            return False
    return wrapped


_COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: _safe(operator.eq),
    Operator.NE: _safe(operator.ne),
    Operator.GT: _safe(operator.gt),
    Operator.GTE: _safe(operator.ge),
    Operator.LT: _safe(operator.lt),
    Operator.LTE: _safe(operator.le),
    Operator.IN: _safe(lambda a, b: a in b),
    Operator.NOT_IN: _safe(lambda a, b: a not in b),
    Operator.CONTAINS: _safe(lambda a, b: b in a),
}


def check(condition: Condition, context: dict[str, Any]) -> Verdict:
    op, path, want = condition.op, condition.field, condition.value
    label = f"{path} {op.value} {want!r}" if op not in (Operator.EXISTS, Operator.NOT_EXISTS) \
        else f"{path} {op.value}"
    if op in (Operator.CHANGED_TO, Operator.CHANGED_FROM):
        field = path.removeprefix("order.")
        side = "to" if op is Operator.CHANGED_TO else "from"
        hits = [c for c in context["event"].get("changes", []) if c.get("field") == field]
        got = [c.get(side) for c in hits]
        return Verdict(want in got, f"{label}: {'changes ' + repr(got) if hits else 'unchanged'}")
    found = values_at(context, path)
    if op is Operator.EXISTS:
        return Verdict(bool(found), f"{label}: {'present' if found else 'absent'}")
    if op is Operator.NOT_EXISTS:
        return Verdict(not found, f"{label}: {'present' if found else 'absent'}")
    if not found:
        return Verdict(False, f"{label}: field is absent")
    holds = any(_COMPARE[op](v, want) for v in found)
    shown = found[0] if len(found) == 1 else found
    return Verdict(holds, f"{label}: value is {shown!r}")


def check_all(conditions: list[Condition], context: dict[str, Any]) -> list[Verdict]:
    return [check(c, context) for c in conditions]
