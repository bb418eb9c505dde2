"""A FORM's inputs checked element by element, as the API answers them: every failing input
named with the reason (422), unknown inputs refused, values kept as their declared type."""

from __future__ import annotations

from typing import Any

from orderflow_schemas import FormElement


def problems(elements: list[FormElement], inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(input id, what is wrong) for every input that does not pass; empty when all do."""
    found: list[tuple[str, str]] = []
    fields = {e.id: e for e in elements if e.kind == "input" and e.id is not None}
    for name in sorted(set(inputs) - set(fields)):
        found.append((name, "this FORM has no such input"))
    for name, element in fields.items():
        value = inputs.get(name)
        if value is None or value == "":
            if element.mandatory:
                found.append((name, "is mandatory"))
            continue
        why = _problem(element, value)
        if why is not None:
            found.append((name, why))
    return found


def _problem(element: FormElement, value: Any) -> str | None:
    low, high = element.min, element.max
    size: float
    if element.input_type == "string":
        if not isinstance(value, str):
            return "must be text"
        size, what = len(value), "characters"
    elif element.input_type == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                (isinstance(value, float) and not value.is_integer()):
            return "must be a whole number"
        size, what = value, ""
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        size, what = value, ""
    if low is not None and size < low:
        return f"must be at least {_shown(low)}{' ' + what if what else ''}"
    if high is not None and size > high:
        return f"must be at most {_shown(high)}{' ' + what if what else ''}"
    return None


def _shown(bound: float) -> str:
    return str(int(bound)) if bound.is_integer() else str(bound)
