-- Customers as the order processor matched them (seed 004): by externalCustomerId first, then
-- by a known e-mail (lower-cased) or phone (digits only). orders.customer_id refers to them.
CREATE TABLE customers (
    customer_id text PRIMARY KEY,
    external_customer_id text UNIQUE,
    emails text[] NOT NULL DEFAULT '{}',
    phones text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_emails ON customers USING gin (emails);
CREATE INDEX customers_phones ON customers USING gin (phones);
