"""What a check reads: ``data`` (the roots ``order``, ``event``, ``customer``), the event's
changes, a CEL context, and the results already computed for equal conditions."""

from __future__ import annotations

from typing import Any, Protocol

import cel

from .expressions import Reads


class Scope(Protocol):
    data: dict[str, Any]
    checked: dict[str, tuple[bool, Any]]

    @property
    def changes(self) -> tuple[dict[str, Any], ...]: ...

    def cel_context(self, reads: Reads) -> cel.Context:
        """A context holding at least what ``reads`` names (``expressions.reads_of``)."""
        ...


class DataScope:
    """A scope over plain data, e.g. an order with no event: ``{"order": {...}}``."""

    def __init__(self, data: dict[str, Any],
                 changes: tuple[dict[str, Any], ...] = ()) -> None:
        self.data = {"order": {}, "event": {}, "customer": {}, **data}
        self.checked: dict[str, tuple[bool, Any]] = {}
        self._changes = changes
        self._cel: cel.Context | None = None

    @property
    def changes(self) -> tuple[dict[str, Any], ...]:
        return self._changes

    def cel_context(self, reads: Reads) -> cel.Context:
        if self._cel is None:
            self._cel = cel.Context(self.data)
        return self._cel
