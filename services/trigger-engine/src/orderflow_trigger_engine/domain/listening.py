"""What a trigger listens to: the keys it is filed under in the index, and the exact test of
an event against it (a key only narrows the candidates)."""

from __future__ import annotations

from orderflow_schemas.triggers import Listen, ListenSpec

from .events import ANY, EventView, Key


def key_of(listen: Listen) -> Key:
    if isinstance(listen, str):
        return ("name", listen)
    if listen.status_change is not None:
        to = listen.status_change.to
        return ("status", to.value if to is not None else ANY)
    assert listen.field_change is not None
    return ("field", listen.field_change.field.removeprefix("order."))


def told_by_key(listen: Listen) -> bool:
    """Whether an event filed under ``key_of(listen)`` always matches it (``EventView.index_keys``
    offers a status key only for a status change, a field key only for a changed field)."""
    if isinstance(listen, str):
        return True
    if listen.status_change is not None:
        return listen.status_change.from_ is None
    assert listen.field_change is not None
    return listen.field_change.to is None


def matches(listen: Listen, event: EventView) -> bool:
    if isinstance(listen, str):
        return listen == event.name
    return _status(listen, event) if listen.status_change is not None else _field(listen, event)


def _status(listen: ListenSpec, event: EventView) -> bool:
    spec = listen.status_change
    assert spec is not None
    return (event.status_changed
            and (spec.from_ is None or spec.from_.value == event.previous_status)
            and (spec.to is None or spec.to.value == event.status))


def _field(listen: ListenSpec, event: EventView) -> bool:
    spec = listen.field_change
    assert spec is not None
    name = spec.field.removeprefix("order.")
    return any(c.get("field") == name and (spec.to is None or c.get("to") == spec.to)
               for c in event.changes)


def describe(listen: Listen) -> str:
    """How the explanation names it."""
    if isinstance(listen, str):
        return listen
    if listen.status_change is not None:
        s = listen.status_change
        return (f"status change from {s.from_.value if s.from_ else 'any'} "
                f"to {s.to.value if s.to else 'any'}")
    f = listen.field_change
    assert f is not None
    return f"{f.field} changed" + (f" to {f.to!r}" if f.to is not None else "")
