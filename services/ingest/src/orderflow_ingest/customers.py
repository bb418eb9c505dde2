"""The customers table (adapter of ``contacts.py``): load the customers a batch of orders can
match in one query, resolve every order in memory, save what changed in one statement, all in
the order processor's transaction.

A transaction-scoped advisory lock serialises matching across processor instances, so that two
partitions never create the same customer twice."""

from __future__ import annotations

from collections.abc import Sequence

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
        WHERE external_customer_id = ANY($1::text[]) OR emails && $2::text[]
              OR phones && $3::text[]
        ORDER BY created_at, customer_id
        """,
        list({c.external_id for c in wanted if c.external_id}),
        list({c.email for c in wanted if c.email}),
        list({c.phone for c in wanted if c.phone}),
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
    return ids
