"""Validating a request's orders one by one: what is accepted goes on, what is rejected comes
back with every field error. Pure: no I/O.

An accepted order goes on as its document (``OrderDocument`` dumped with sorted keys), the same
bytes its versionTag is the hash of: one dump serves both."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
from orderflow_runtime.guards import problem_in
from orderflow_runtime.settings import HttpLimits
from orderflow_runtime.web import field_errors
from orderflow_schemas import MAX_ORDERS_PER_REQUEST, OrderDocument
from pydantic import ValidationError

from .documents import OrdersBody, validate_order
from .versions import canonical, tag_of

NO_CONTACT_WARNING = (
    "order has no externalCustomerId, email or phone: it cannot be matched to a customer, no "
    "message is sent for it and its order actions answer 422"
)


# JSON's escape of the NUL character, which PostgreSQL cannot store in text or jsonb.
NUL = b"\\u0000"
MAX_DEPTH = HttpLimits().max_json_depth


class BadRequest(ValueError):
    """The request as a whole is refused (400): not JSON, not ``{"orders": [...]}``, or not
    1 to 1000 orders."""


@dataclass
class Accepted:
    index: int
    order: OrderDocument
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @cached_property
    def document(self) -> bytes:
        return canonical(self.order.model_dump(mode="json", exclude_unset=True))

    @cached_property
    def version_tag(self) -> str:
        return tag_of(self.document)

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


def validate_body(body: bytes) -> tuple[list[Accepted], list[Rejected]]:
    """The common case first: every order valid, validated straight from the bytes. Anything
    else is gone through order by order (raises ``BadRequest`` for a malformed request)."""
    if NUL not in body:  # a byte search: an order with a NUL is rejected on its own below
        try:
            return [Accepted(i, o)
                    for i, o in enumerate(OrdersBody.model_validate_json(body).orders)], []
        except ValidationError:
            pass
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson refuses lone surrogates: Python's parser takes them, and the orders that hold
        # one are rejected on their own below, naming the field.
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            raise BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("orders"), list):
        raise BadRequest('body must be an object {"orders": [...]}')
    raw = parsed["orders"]
    if not 1 <= len(raw) <= MAX_ORDERS_PER_REQUEST:
        raise BadRequest(f"send 1 to {MAX_ORDERS_PER_REQUEST} orders, got {len(raw)}")
    return validate_orders(raw)


def validate_orders(raw: list[Any]) -> tuple[list[Accepted], list[Rejected]]:
    """Each order on its own."""
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(raw):
        ext_id = item.get("externalOrderId") if isinstance(item, dict) else None
        # Text PostgreSQL cannot store (NUL, lone surrogates), nesting too deep to write again.
        if problem := problem_in(item, MAX_DEPTH):
            field, message, kind = problem
            shown = (ext_id.encode("utf-8", "backslashreplace").decode()  # may hold the surrogate
                     if isinstance(ext_id, str) else None)
            rejected.append(Rejected(index, shown,
                                     [{"field": field, "message": message, "type": kind}]))
            continue
        try:
            accepted.append(Accepted(index, validate_order(item)))
        except ValidationError as exc:
            rejected.append(Rejected(index, ext_id, field_errors(exc.errors())))
    return accepted, rejected
