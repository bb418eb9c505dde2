"""CEL expressions (``common-expression-language``): compiled once per trigger revision, checked
for names other than ``order``, ``event`` and ``customer`` and functions CEL does not have, so
that a mistake is refused when the trigger (or template) is saved rather than failing on every
event."""

from __future__ import annotations

import re
from typing import Any

import cel

VARIABLES = frozenset({"order", "event", "customer"})
# CEL's standard functions and macros as the package reports them; operators start with _ ! @.
FUNCTIONS = frozenset({
    "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double", "string",
    "bytes", "bool", "timestamp", "duration", "type", "dyn", "has", "all", "exists",
    "exists_one", "map", "filter", "max", "min", "getFullYear", "getMonth", "getDate",
    "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes", "getSeconds",
    "getMilliseconds", "lowerAscii", "upperAscii", "trim", "split", "join", "replace",
    "indexOf", "lastIndexOf", "substring", "charAt", "format", "abs", "ceil", "floor", "round",
})
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


# A root name where it is used, not where it is a field (``event.order``), and the field it
# selects, if any.
_ROOT_USE = re.compile(r"(?<![\w.])(order|event|customer)\b(?:\s*\.\s*([A-Za-z_]\w*))?")

# What an expression reads of each root: (root, field) when it only selects fields of it
# (``order.totalCost``), (root, None) when it may use it whole (``size(order)``, ``order["x"]``,
# the name in a string, a macro variable of that name).
Reads = frozenset[tuple[str, str | None]]


def reads_of(source: str, roots: frozenset[str]) -> Reads:
    bound = set(_BOUND.findall(source))
    found: set[tuple[str, str | None]] = set()
    for match in _ROOT_USE.finditer(source):
        root, name = match.group(1), match.group(2)
        if root in roots:
            found.add((root, None if name is None or root in bound else name))
    seen = {root for root, _ in found}
    return frozenset(found | {(root, None) for root in roots - seen})


class ExpressionError(ValueError):
    """The expression does not compile or names something unknown."""


def compile_expression(source: str) -> Any:
    """A compiled program, or ``ExpressionError`` saying what is wrong."""
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        raise ExpressionError(str(exc).split("\n")[0]) from exc
    bound = set(_BOUND.findall(source))
    unknown = sorted(set(program.variables()) - VARIABLES - bound)
    if unknown:
        raise ExpressionError(f"unknown names {', '.join(unknown)}: an expression may use "
                              f"order, event and customer")
    functions = {f for f in program.functions() if f[:1].isalpha()}
    if functions - FUNCTIONS:
        raise ExpressionError(f"unknown functions {', '.join(sorted(functions - FUNCTIONS))}")
    return program


def run(program: Any, context: cel.Context) -> tuple[bool, Any]:
    """(holds, what it gave): a missing field or a type error is a failed condition, named."""
    try:
        result = program.execute(context)
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        return False, f"error: {type(exc).__name__}: {exc}"
    return result is True, result
