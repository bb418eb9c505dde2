"""Validating a batch of orders order by order: what is accepted goes on, what is rejected
comes back with every field error. Pure: no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from orderflow_runtime.web import field_errors
from pydantic import ValidationError

from .documents import ORDER_LIST, IngestOrder, validate_order
from .versions import version_tag

NO_CONTACT_WARNING = (
    "order has no externalCustomerId, email or phone: it cannot be matched to a customer, no "
    "message is sent for it and its order actions answer 422"
)


@dataclass
class Accepted:
    index: int
    order: IngestOrder
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @cached_property
    def version_tag(self) -> str:
        return version_tag(self.order.model_dump(mode="json", exclude_unset=True))

    def answer(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "externalOrderId": self.order.externalOrderId,
                               "eventId": self.event_id, "versionTag": self.version_tag}
        if not self.order.has_contact:
            out["warnings"] = [NO_CONTACT_WARNING]
        return out


@dataclass
class Rejected:
    index: int
    external_order_id: Any
    errors: list[dict[str, Any]]

    def answer(self) -> dict[str, Any]:
        return {"index": self.index, "externalOrderId": self.external_order_id,
                "errors": self.errors}


def validate_orders(raw: list[Any]) -> tuple[list[Accepted], list[Rejected]]:
    """Each order on its own. The whole list is validated in one call first (the common case:
    all valid); only a list with a fault is gone through order by order."""
    try:
        return [Accepted(i, o) for i, o in enumerate(ORDER_LIST.validate_python(raw))], []
    except ValidationError:
        pass
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(raw):
        try:
            accepted.append(Accepted(index, validate_order(item)))
        except ValidationError as exc:
            ext_id = item.get("externalOrderId") if isinstance(item, dict) else None
            rejected.append(Rejected(index, ext_id, field_errors(exc.errors())))
    return accepted, rejected
