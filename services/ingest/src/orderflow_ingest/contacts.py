"""Which customer an order belongs to (seed 004). Pure: no I/O; ``customers.py`` loads and
saves what this module decides.

Rules, in order:

1. an ``externalCustomerId`` already known is that customer; the order's e-mail and phone are
   added to what is known about them (a new e-mail keeps one customer);
2. else a customer with the same e-mail, then the same phone (the oldest one, when several
   share it). When the order carries an
   ``externalCustomerId``, only a customer without one matches, and adopts it: two different
   externalCustomerIds are two customers even if they share an address;
3. else a new customer, if the order has any contact at all; without one, no customer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from orderflow_schemas import OrderDocument


def normal_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def normal_phone(phone: str | None) -> str | None:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits or None


@dataclass(eq=False)  # compared by identity: one object per customer in a ContactBook
class Customer:
    id: str
    external_id: str | None = None
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Contact:
    """What of an order can identify its customer, normalised."""

    external_id: str | None
    email: str | None
    phone: str | None

    @classmethod
    def of(cls, order: OrderDocument) -> Contact:
        return cls(order.externalCustomerId or None, normal_email(order.email),
                   normal_phone(order.phone))

    def __bool__(self) -> bool:
        return bool(self.external_id or self.email or self.phone)


class ContactBook:
    """The customers a batch can match, indexed; ``resolve`` matches or creates and remembers
    which customers changed (to be saved in the same transaction)."""

    def __init__(self, known: Iterable[Customer] = ()) -> None:
        self.by_external: dict[str, Customer] = {}
        # contact -> {customer id: customer}, oldest first (dicts keep insertion order)
        self.by_email: dict[str, dict[str, Customer]] = defaultdict(dict)
        self.by_phone: dict[str, dict[str, Customer]] = defaultdict(dict)
        self.changed: dict[str, Customer] = {}
        for customer in known:
            self._index(customer)

    def resolve(self, contact: Contact) -> str | None:
        """The orderflow customer id of ``contact``; None when it has no contact at all."""
        if not contact:
            return None
        customer = self._match(contact)
        if customer is None:
            customer = Customer(str(uuid.uuid4()), contact.external_id)
            self.changed[customer.id] = customer
        self._learn(customer, contact)
        return customer.id

    def _match(self, contact: Contact) -> Customer | None:
        if contact.external_id and contact.external_id in self.by_external:
            return self.by_external[contact.external_id]
        for index, value in ((self.by_email, contact.email), (self.by_phone, contact.phone)):
            for candidate in index.get(value or "", {}).values():
                if not contact.external_id or candidate.external_id is None:
                    return candidate
        return None

    def _learn(self, customer: Customer, contact: Contact) -> None:
        changed = False
        if contact.external_id and customer.external_id is None:
            customer.external_id = contact.external_id
            changed = True
        if contact.email and contact.email not in customer.emails:
            customer.emails.add(contact.email)
            changed = True
        if contact.phone and contact.phone not in customer.phones:
            customer.phones.add(contact.phone)
            changed = True
        if changed:
            self.changed[customer.id] = customer
            self._index(customer)

    def _index(self, customer: Customer) -> None:
        if customer.external_id:
            self.by_external[customer.external_id] = customer
        for email in customer.emails:
            self.by_email[email].setdefault(customer.id, customer)
        for phone in customer.phones:
            self.by_phone[phone].setdefault(customer.id, customer)
