"""The values the conditions of one event read (an ``orderflow_rules.Scope``): ``order``,
``event`` and ``customer``. Built once per event and shared by every trigger evaluated on it; the
CEL context too, on first need (one ``cel.Context`` reused by every program is five times faster
than a dict per program), holding only the roots the programs name: converting ``event`` and
``customer`` costs as much as ``order``, and most expressions read only the order."""

from __future__ import annotations

from typing import Any

import cel

from .customers import CustomerView
from .events import EventView


class Scope:
    def __init__(self, event: EventView, customer: dict[str, Any]) -> None:
        self.event = event
        self.data: dict[str, Any] = {"order": event.order, "event": event.details,
                                     "customer": customer}
        self.checked: dict[str, tuple[bool, Any]] = {}  # by condition: triggers share many
        self._cel: cel.Context | None = None
        self._roots: frozenset[str] = frozenset()

    @property
    def changes(self) -> tuple[dict[str, Any], ...]:
        return self.event.changes

    def cel_context(self, roots: frozenset[str]) -> cel.Context:
        """A context with at least ``roots``; rebuilt (rarely) when a program needs more."""
        if self._cel is None or not roots <= self._roots:
            self._roots |= roots
            customer = self.data["customer"]
            if "customer" in self._roots and isinstance(customer, CustomerView):
                customer["emailValid"], customer["phoneValid"]  # noqa: B018 (computed on read)
            self._cel = cel.Context({k: self.data[k] for k in self._roots})
        return self._cel
