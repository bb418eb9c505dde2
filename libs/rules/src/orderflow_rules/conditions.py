"""Conditions compiled into checks: each says whether it holds and what value it saw. Cheap
checks are ordered first (plain fields, then lists and regexes, then CEL) and evaluation stops at
the first that fails, which is what the explanation names. Pure: no I/O.

A path through a list (``order.items.category``) yields every value; ``aggregate`` says whether
any (default) or all must hold, or compares their ``count`` or ``sum``."""

from __future__ import annotations

import operator
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from orderflow_schemas import Condition, Operator

from .expressions import VARIABLES, compile_expression, reads_of, run
from .scope import Scope

Test = Callable[[Scope], tuple[bool, Any]]


@dataclass(frozen=True)
class Check:
    """A compiled condition: ``label`` names it in explanations; lower ``cost`` runs first."""

    label: str
    cost: int
    test: Test
    index: int  # its place in the trigger's list
    key: str = ""  # equal for equal conditions: one event checks each only once
    # The check this one copies with another index: keeps it in ``_COMPILED`` while in use.
    origin: Check | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, c: Condition, label: str, cost: int, test: Test, index: int) -> Check:
        return cls(label, cost, test, index, c.model_dump_json(exclude_none=True))


def values_at(data: Any, path: str | tuple[str, ...]) -> list[Any]:
    """Every value at ``path`` (dotted, or its parts split once by the caller)."""
    parts = path.split(".") if isinstance(path, str) else path
    value = data
    # Plain fields first: most conditions read one value through dicts alone.
    for at, part in enumerate(parts):
        if isinstance(value, dict):
            if part not in value:
                return []
            value = value[part]
        elif isinstance(value, list):
            return _through_lists([value], parts[at:])
        else:
            return []
    return value if isinstance(value, list) else [value]


def _through_lists(current: list[Any], parts: Sequence[str]) -> list[Any]:
    for part in parts:
        nxt: list[Any] = []
        for value in current:
            if isinstance(value, dict):
                if part in value:
                    nxt.append(value[part])
            elif isinstance(value, list):
                nxt.extend(v[part] for v in value if isinstance(v, dict) and part in v)
        current = nxt
    flat: list[Any] = []
    for v in current:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def _safe(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def wrapped(a: Any, b: Any) -> bool:
        try:
            return bool(fn(a, b))
        except TypeError:
            return False
    return wrapped


def _contains(a: Any, b: Any) -> bool:
    return b in a if isinstance(a, str | list | dict) else False


COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: _safe(operator.eq), Operator.NE: _safe(operator.ne),
    Operator.GT: _safe(operator.gt), Operator.GTE: _safe(operator.ge),
    Operator.LT: _safe(operator.lt), Operator.LTE: _safe(operator.le),
    Operator.IN: _safe(lambda a, b: a in b), Operator.NOT_IN: _safe(lambda a, b: a not in b),
    Operator.CONTAINS: _safe(_contains),
}
_SET = frozenset({Operator.EXISTS, Operator.IS_SET})
_EMPTY = frozenset({Operator.NOT_EXISTS, Operator.IS_EMPTY})


def _is_set(v: Any) -> bool:
    return v is not None and v != "" and v != [] and v != {}


def _shown(found: list[Any]) -> Any:
    return found[0] if len(found) == 1 else found


# Checks by key, while a trigger holds them: merchants' triggers repeat conditions (a template
# copied a thousand times), and one compiled program per distinct condition keeps the memory,
# and the code an event runs, that of the distinct conditions rather than of every trigger.
_COMPILED: weakref.WeakValueDictionary[str, Check] = weakref.WeakValueDictionary()


def compile_condition(c: Condition, index: int) -> Check:
    """``ValueError`` (``ExpressionError``) when it cannot be compiled."""
    key = c.model_dump_json(exclude_none=True)
    check = _COMPILED.get(key)
    if check is None:
        check = _COMPILED[key] = _compile(c)
    return replace(check, index=index, origin=check)


def _compile(c: Condition, index: int = 0) -> Check:
    if c.expression is not None:
        program = compile_expression(c.expression)
        reads = reads_of(c.expression, frozenset(program.variables()) & VARIABLES)
        return Check.of(c, c.expression, 30, lambda s: run(program, s.cel_context(reads)),
                        index)
    assert c.field is not None and c.op is not None
    path, op, want = c.field, c.op, c.value
    label = f"{path} {op.value}" + ("" if op in _SET | _EMPTY | {Operator.CHANGED}
                                    else f" {want!r}")
    if c.aggregate in ("count", "sum"):
        label = f"{c.aggregate}({path}) {op.value} {want!r}"
    if op in (Operator.CHANGED, Operator.CHANGED_TO, Operator.CHANGED_FROM):
        return Check.of(c, label, 1, _changed(path.removeprefix("order."), op, want), index)
    parts = tuple(path.split("."))  # split once, not per event
    if op in _SET or op in _EMPTY:
        wanted = op in _SET

        def presence(s: Scope) -> tuple[bool, Any]:
            found = [v for v in values_at(s.data, parts) if _is_set(v)]
            return bool(found) is wanted, _shown(found) if found else None
        return Check.of(c, label, 1, presence, index)
    compare, cost = (_regex(str(want)), 20) if op is Operator.MATCHES else (COMPARE[op], 2)
    if c.aggregate in ("count", "sum"):
        return Check.of(c, label, 10, _aggregate(parts, c.aggregate, compare, want), index)
    every = c.aggregate == "all"

    def test(s: Scope) -> tuple[bool, Any]:
        found = values_at(s.data, parts)
        if not found:
            return False, None
        if len(found) == 1:
            return compare(found[0], want), found[0]
        hits = (compare(v, want) for v in found)
        return (all(hits) if every else any(hits)), _shown(found)
    return Check.of(c, label, cost + (5 if "." in path.split(".", 1)[-1] else 0), test,
                    index)


def _regex(source: str) -> Callable[[Any, Any], bool]:
    pattern = re.compile(source)
    return lambda value, _want: pattern.search(str(value)) is not None


def _aggregate(path: tuple[str, ...], kind: str, compare: Callable[[Any, Any], bool],
               want: Any) -> Test:
    def test(s: Scope) -> tuple[bool, Any]:
        found = values_at(s.data, path)
        if kind == "count":
            value: Any = len(found)
        else:
            value = sum(v for v in found if isinstance(v, int | float) and not isinstance(v, bool))
        return compare(value, want), value
    return test


def _changed(field: str, op: Operator, want: Any) -> Test:
    side = "to" if op is Operator.CHANGED_TO else "from"

    def test(s: Scope) -> tuple[bool, Any]:
        hits = [c for c in s.changes if c.get("field") == field]
        if op is Operator.CHANGED:
            return bool(hits), [c.get("to") for c in hits] or "unchanged"
        got = [c.get(side) for c in hits]
        return want in got, _shown(got) if hits else "unchanged"
    return test
