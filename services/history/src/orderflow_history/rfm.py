"""The customers read model as the API shows it: contact preview and RFM (seed 004).

Figures come from DELIVERED orders only. R, F and M scores are quintiles (1 to 5, 5 best) over
every customer with at least one delivered order: the most recent, most frequent and highest
spending fifth score 5. Ties are split by customer id so that a score is stable."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

SCORED = """
WITH scored AS (
    SELECT customer_key,
           ntile(5) OVER (ORDER BY last_delivered_at, customer_key) AS r_score,
           ntile(5) OVER (ORDER BY delivered_count, customer_key) AS f_score,
           ntile(5) OVER (ORDER BY delivered_sum, customer_key) AS m_score
    FROM customers WHERE delivered_count > 0)
"""

# Found by orderflow's key first, then the shop's customer id, e-mail (any case), phone (digits
# only); ``$2`` narrows it to one of them. Several customers with the same e-mail or phone (orders
# not matched to one customer): the one who ordered last.
CUSTOMER = SCORED + """
, found AS (
    SELECT customer_key FROM (
        SELECT customer_key, 0 AS rank, last_order_at FROM customers
        WHERE $2 IN ('any', 'id') AND customer_key = $1
        UNION ALL
        SELECT customer_key, 1, last_order_at FROM customers
        WHERE $2 IN ('any', 'externalCustomerId') AND external_customer_id = $1
        UNION ALL
        SELECT customer_key, 2, last_order_at FROM customers
        WHERE $2 IN ('any', 'email') AND lower(email) = lower($1)
        UNION ALL
        SELECT customer_key, 3, last_order_at FROM customers
        WHERE $2 IN ('any', 'phone') AND regexp_replace($1, '\\D', '', 'g') <> ''
          AND regexp_replace(phone, '\\D', '', 'g') = regexp_replace($1, '\\D', '', 'g')
    ) m ORDER BY rank, last_order_at DESC NULLS LAST LIMIT 1)
SELECT c.*, s.r_score, s.f_score, s.m_score
FROM customers c JOIN found f USING (customer_key) LEFT JOIN scored s USING (customer_key)
"""

# Customers with delivered orders, in customer id order, keyset-paged.
SEGMENT = SCORED + """
SELECT c.*, s.r_score, s.f_score, s.m_score
FROM customers c JOIN scored s USING (customer_key)
WHERE ($1::numeric IS NULL OR c.average_check >= $1)
  AND ($2::numeric IS NULL OR c.average_check <= $2)
  AND ($3::int IS NULL OR c.delivered_count >= $3)
  AND ($4::int IS NULL OR c.delivered_count <= $4)
  AND ($5::timestamptz IS NULL OR c.last_delivered_at >= $5)
  AND ($6::timestamptz IS NULL OR c.last_delivered_at < $6)
  AND c.customer_key > $7
ORDER BY c.customer_key LIMIT $8
"""


def _num(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 2)


def customer_json(row: Any, now: datetime) -> dict[str, Any]:
    """A customers row (with scores) as the API returns it."""
    last = row["last_delivered_at"]
    scores = None
    if row["r_score"] is not None:
        scores = {"r": row["r_score"], "f": row["f_score"], "m": row["m_score"],
                  "rfm": f"{row['r_score']}{row['f_score']}{row['m_score']}"}
    return {
        "customerId": row["customer_key"],
        "externalCustomerId": row["external_customer_id"],
        "email": row["email"],
        "phone": row["phone"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "orderCount": row["order_count"],
        "lastOrderAt": row["last_order_at"].isoformat() if row["last_order_at"] else None,
        "rfm": {
            "recencyDays": (now - last).days if last else None,
            "frequency": row["delivered_count"],
            "monetary": {"sum": _num(row["delivered_sum"]),
                         "averageCheck": _num(row["average_check"])},
            "firstDeliveredAt": row["first_delivered_at"].isoformat() if last else None,
            "lastDeliveredAt": last.isoformat() if last else None,
            "scores": scores,
        },
    }
