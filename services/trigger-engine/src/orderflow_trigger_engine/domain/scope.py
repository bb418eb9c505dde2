"""The values the conditions of one event read (an ``orderflow_rules.Scope``): ``order``,
``event`` and ``customer``. Built once per event and shared by every trigger evaluated on it; the
CEL context too, on first need (one ``cel.Context`` reused by every program is five times faster
than a dict per program), holding only what the programs read: converting a whole order (its
items, its addresses) was a tenth of the engine's time, and most expressions read a field or
two of it."""

from __future__ import annotations

from typing import Any

import cel
from orderflow_rules.expressions import Reads

from .customers import CustomerView
from .events import EventView


class Scope:
    def __init__(self, event: EventView, customer: dict[str, Any]) -> None:
        self.event = event
        self.data: dict[str, Any] = {"order": event.order, "event": event.details,
                                     "customer": customer}
        self.checked: dict[str, tuple[bool, Any]] = {}  # by condition: triggers share many
        self._cel: cel.Context | None = None
        self._covered: set[Reads] = set()  # the reads the context was found to hold
        self._whole: set[str] = set()
        self._fields: dict[str, set[str]] = {}

    @property
    def changes(self) -> tuple[dict[str, Any], ...]:
        return self.event.changes

    def cel_context(self, reads: Reads) -> cel.Context:
        """A context with at least what ``reads`` names; rebuilt (rarely) when a program needs
        more. Of ``order`` and ``event`` (plain JSON) only the fields the programs select are
        converted; ``customer`` is converted whole (its validity flags are computed on read)."""
        if reads in self._covered:
            return self._cel  # type: ignore[return-value]
        if self._cel is not None and all(self._covers(need) for need in reads):
            self._covered.add(reads)
            return self._cel
        for root, name in reads:
            if name is None or root == "customer":
                self._whole.add(root)
            else:
                self._fields.setdefault(root, set()).add(name)
        values: dict[str, Any] = {}
        for root in self._whole:
            values[root] = self.data[root]
        for root, names in self._fields.items():
            if root not in self._whole:
                whole = self.data[root]
                values[root] = {n: whole[n] for n in names if n in whole}
        customer = self.data["customer"]
        if "customer" in values and isinstance(customer, CustomerView):
            customer["emailValid"], customer["phoneValid"]  # noqa: B018 (computed on read)
        self._cel = cel.Context(values)
        self._covered = {reads}
        return self._cel

    def _covers(self, need: tuple[str, str | None]) -> bool:
        root, name = need
        return root in self._whole or (name is not None and name in self._fields.get(root, ()))
