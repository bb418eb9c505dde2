"""The customers table (adapter of ``contacts.py``): load the customers a batch of orders can
match in one query, resolve every order in memory, save what changed, in a transaction the
caller opens for it alone (it holds the lock below for as short a time as it can).

A transaction-scoped advisory lock serialises matching across processor instances, so that two
partitions never create the same customer twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg
from orderflow_schemas import OrderDocument

from .contacts import Contact, ContactBook, Customer

_LOCK = 0x0C057  # pg_advisory_xact_lock key of customer matching


async def link_customers(conn: asyncpg.Connection,
                         orders: Sequence[OrderDocument]) -> list[str | None]:
    """The orderflow customer id of each order (None without any contact), in order."""
    contacts = [Contact.of(o) for o in orders]
    wanted = [c for c in contacts if c]
    if not wanted:
        return [None] * len(contacts)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
    rows = await conn.fetch(
        """
        SELECT customer_id, external_customer_id, emails, phones FROM customers
        WHERE customer_id IN (
            SELECT customer_id FROM customers WHERE external_customer_id = ANY($1::text[])
            UNION
            SELECT customer_id FROM customer_contacts WHERE contact = ANY($2::text[]))
        ORDER BY created_at, customer_id
        """,
        list({c.external_id for c in wanted if c.external_id}),
        list({key for c in wanted for key in _keys([c.email], [c.phone])}),
    )
    book = ContactBook(Customer(r["customer_id"], r["external_customer_id"], set(r["emails"]),
                                set(r["phones"])) for r in rows)
    ids = [book.resolve(c) for c in contacts]
    if book.changed:
        await conn.executemany(
            """
            INSERT INTO customers(customer_id, external_customer_id, emails, phones)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (customer_id) DO UPDATE SET
                external_customer_id = excluded.external_customer_id,
                emails = excluded.emails, phones = excluded.phones, updated_at = now()
            """,
            [(c.id, c.external_id, sorted(c.emails), sorted(c.phones))
             for c in book.changed.values()],
        )
        pairs = [(key, c.id) for c in book.changed.values() for key in _keys(c.emails, c.phones)]
        await conn.execute(
            """
            INSERT INTO customer_contacts(contact, customer_id)
            SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING
            """,
            [k for k, _ in pairs], [i for _, i in pairs])
    return ids


def _keys(emails: Iterable[str | None], phones: Iterable[str | None]) -> list[str]:
    """customer_contacts keys of normalised e-mails and phones."""
    return [f"email:{e}" for e in emails if e] + [f"phone:{p}" for p in phones if p]
