-- Customers and RFM (seed 004). The orders read model already holds each order once, as last
-- processed, so RFM is derived from it: an order counts once, and a DELIVERED order that later
-- changes status stops counting. The facts RFM needs are pulled out of the document here.
ALTER TABLE orders
    ADD COLUMN customer_key text,
    ADD COLUMN total_cost numeric,
    ADD COLUMN ordered_at timestamptz;

UPDATE orders SET
    customer_key = coalesce(customer_id, document->>'externalCustomerId', document->>'email',
                            document->>'phone'),
    total_cost = (document->>'totalCost')::numeric,
    ordered_at = coalesce((document->>'date')::timestamptz, updated_at);

CREATE INDEX orders_customer_key ON orders (customer_key, ordered_at DESC);

-- One row per customer: contact preview from the latest order document, figures over DELIVERED
-- orders only. Recomputed from `orders` for the customers a batch touched, in the batch's
-- transaction, so it is as idempotent as `orders` itself.
CREATE TABLE customers (
    customer_key text PRIMARY KEY,
    external_customer_id text,
    email text,
    phone text,
    first_name text,
    last_name text,
    order_count int NOT NULL,
    delivered_count int NOT NULL,
    delivered_sum numeric NOT NULL,
    average_check numeric,
    first_delivered_at timestamptz,
    last_delivered_at timestamptz,
    last_order_at timestamptz
);
CREATE INDEX customers_delivered ON customers (last_delivered_at, customer_key)
    WHERE delivered_count > 0;

INSERT INTO customers
SELECT o.customer_key,
       l.document->>'externalCustomerId', l.document->>'email', l.document->>'phone',
       l.document->>'firstName', l.document->>'lastName',
       count(*), count(*) FILTER (WHERE o.status = 'DELIVERED'),
       coalesce(sum(o.total_cost) FILTER (WHERE o.status = 'DELIVERED'), 0),
       avg(o.total_cost) FILTER (WHERE o.status = 'DELIVERED'),
       min(o.ordered_at) FILTER (WHERE o.status = 'DELIVERED'),
       max(o.ordered_at) FILTER (WHERE o.status = 'DELIVERED'),
       max(o.ordered_at)
FROM orders o
JOIN LATERAL (SELECT document FROM orders x WHERE x.customer_key = o.customer_key
              ORDER BY x.ordered_at DESC, x.updated_at DESC LIMIT 1) l ON true
WHERE o.customer_key IS NOT NULL
GROUP BY o.customer_key, l.document;
