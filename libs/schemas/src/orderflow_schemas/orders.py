"""Orders as upstream systems send them (seed 004), the events made from them and order actions
(seed 002)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .base import Message, WireModel

MONEY_TOLERANCE = 0.005
MAX_ORDERS_PER_REQUEST = 1000
CURRENCIES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies)


class OrderStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    IN_PROGRESS = "IN_PROGRESS"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    ABANDONED_SHOPPING_CART = "ABANDONED_SHOPPING_CART"


def event_name(status: OrderStatus | str) -> str:
    """``orderDELIVERED`` for DELIVERED: the naming rule of seed 004."""
    return f"order{OrderStatus(status).value}"


ORDER_UPDATED = "orderUPDATED"


class OrderItem(BaseModel):
    """One line of an order; unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    externalItemId: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str | None = None
    quantity: float = Field(gt=0)
    cost: float = Field(ge=0)
    url: str = Field(min_length=1)
    imageUrl: str = Field(min_length=1)
    description: str | None = None


class OrderDocument(BaseModel):
    """An order as sent by a shop, ERP or OMS: the value of ``orderflow.orders.inbound`` and one
    entry of ``POST /api/v1/orders``. Field names are those of the public API; unknown fields are
    kept as they came."""

    model_config = ConfigDict(extra="allow")

    externalOrderId: str = Field(min_length=1, max_length=200)
    externalCustomerId: str | None = None
    totalCost: float = Field(ge=0)
    status: OrderStatus
    date: datetime
    email: str | None = None
    phone: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code")
    shipping: float = Field(default=0, ge=0)
    discount: float = Field(default=0, ge=0)
    deliveryMethod: str | None = None
    paymentMethod: str | None = None
    deliveryAddress: str | None = None
    items: list[OrderItem] | None = None

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        if value is not None and value not in CURRENCIES:
            raise ValueError(f"currency {value!r} is not an ISO 4217 code")
        return value

    @model_validator(mode="after")
    def _items_add_up(self) -> OrderDocument:
        if self.items:
            total = sum(i.cost * i.quantity for i in self.items) + self.shipping - self.discount
            if abs(total - self.totalCost) > MONEY_TOLERANCE:
                raise ValueError(
                    f"totalCost {self.totalCost} does not equal sum(items cost x quantity) "
                    f"+ shipping - discount = {round(total, 2)}"
                )
        return self

    @property
    def has_contact(self) -> bool:
        return bool(self.externalCustomerId or self.email or self.phone)


class FieldChange(WireModel):
    """One field that differs between two versions of an order (dotted path)."""

    field: str
    from_: Any = Field(default=None, alias="from")
    to: Any = None


class OrderEvent(Message):
    """One accepted order change: ``order<STATUS>`` when the status changed (or the order is new),
    ``orderUPDATED`` for any other change, with what changed."""

    TYPE: ClassVar[str] = "order.event"

    name: str = Field(description="order<STATUS> or orderUPDATED")
    external_order_id: str
    customer_id: str | None = Field(default=None, description="orderflow's customer id, if matched")
    status: OrderStatus
    previous_status: OrderStatus | None = None
    changes: list[FieldChange] = Field(default_factory=list)
    version_tag: str
    sequence: int = Field(
        default=0, ge=0,
        description="Per-order number, higher for each accepted change of the order; read "
                    "models keep the event with the highest one (0: unknown, older events)")
    order: dict[str, Any] = Field(description="The order document as accepted")


class OrderChanges(Message):
    """Changes to an order made inside orderflow (the executor's ``change_order`` and
    ``change_customer`` effects): top-level fields merged by ingest onto the order as it stands
    when ingest reaches them. Sending the whole order as last seen instead could put back an
    older version that arrived in between."""

    TYPE: ClassVar[str] = "order.changes"

    external_order_id: str
    changes: dict[str, Any] = Field(min_length=1, description="Field name to its new value")
    source: str | None = Field(None, description="What made them, e.g. the action request id")


class OrderAction(Message):
    """An accepted ``POST /api/v1/orders/{id}/action`` (seed 002)."""

    TYPE: ClassVar[str] = "order.action"

    action: str
    external_order_id: str
    version_tag: str
    language: str | None = None
    data: Any = None
