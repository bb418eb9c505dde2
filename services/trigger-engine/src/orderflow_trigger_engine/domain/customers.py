"""The customer as conditions see it, and the aggregates the engine keeps per customer.

The engine keeps its own figures (DELIVERED orders, total spent on them, last DELIVERED order
date: history's RFM rules) updated from the order events it consumes, in the transaction that
records the evaluation: the figures an evaluation saw are fixed with it, deterministic on
redelivery, and no call to history is made per event (which would also race history's own
projection of the same event)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DELIVERED = "DELIVERED"


@dataclass(frozen=True)
class Stats:
    delivered_orders: int = 0
    total_spent: float = 0.0
    last_order_date: str | None = None


@dataclass(frozen=True)
class Contribution:
    """What one order, in one state, adds to its customer's figures."""

    customer_key: str | None
    delivered: bool
    cost: float
    date: str | None


def customer_key(customer_id: str | None, order: dict[str, Any]) -> str | None:
    """orderflow's customer id when ingest matched one, else the order's contact ids (as history
    does)."""
    for candidate in (customer_id, order.get("externalCustomerId"), order.get("email"),
                      order.get("phone")):
        if candidate:
            return str(candidate)
    return None


def contribution(customer_id: str | None, order: dict[str, Any]) -> Contribution:
    cost = order.get("totalCost")
    delivered = order.get("status") == DELIVERED
    return Contribution(customer_key(customer_id, order), delivered,
                        float(cost) if delivered and isinstance(cost, int | float) else 0.0,
                        str(order["date"]) if delivered and order.get("date") else None)


def moved(stats: Stats, old: Contribution | None, new: Contribution) -> Stats:
    """``stats`` of ``new.customer_key`` after its order went from ``old`` to ``new``. The last
    order date only moves forward (an order leaving DELIVERED keeps it)."""
    count, spent = stats.delivered_orders, stats.total_spent
    if old is not None and old.customer_key == new.customer_key and old.delivered:
        count, spent = count - 1, spent - old.cost
    if new.delivered:
        count, spent = count + 1, spent + new.cost
    last = max(filter(None, (stats.last_order_date, new.date)), default=None)
    return Stats(count, round(spent, 2), last)


def withdrawn(stats: Stats, old: Contribution) -> Stats:
    """``stats`` of ``old.customer_key`` after its order moved to another customer."""
    if not old.delivered:
        return stats
    return Stats(stats.delivered_orders - 1, round(stats.total_spent - old.cost, 2),
                 stats.last_order_date)


@lru_cache(maxsize=65536)
def email_valid(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@lru_cache(maxsize=65536)
def phone_valid(phone: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return False


class CustomerView(dict[str, Any]):
    """``customer`` in conditions: id, email, phone, emailValid, phoneValid, deliveredOrders,
    totalSpent, lastOrderDate. Contact validity is computed only when a condition reads it."""

    def __missing__(self, key: str) -> Any:
        if key == "emailValid":
            value: Any = bool(self.get("email")) and email_valid(str(self["email"]))
        elif key == "phoneValid":
            value = bool(self.get("phone")) and phone_valid(str(self["phone"]))
        else:
            raise KeyError(key)
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in ("emailValid", "phoneValid") or super().__contains__(key)


def customer_view(customer_id: str | None, order: dict[str, Any], stats: Stats) -> CustomerView:
    return CustomerView(
        id=customer_id or order.get("externalCustomerId"), email=order.get("email"),
        phone=order.get("phone"), deliveredOrders=stats.delivered_orders,
        totalSpent=stats.total_spent, lastOrderDate=stats.last_order_date)
