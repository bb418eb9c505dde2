-- Everything that happened to an order, one row per message; the message id makes the
-- projection idempotent (a replay inserts nothing new).
CREATE TABLE timeline (
    message_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    customer_id text,
    related_id text,
    occurred_at timestamptz NOT NULL,
    source text NOT NULL,
    payload jsonb NOT NULL
);
CREATE INDEX timeline_order ON timeline (external_order_id, occurred_at, message_id);
CREATE INDEX timeline_events ON timeline (occurred_at DESC, message_id DESC) WHERE kind = 'order_event';
CREATE INDEX timeline_event_names ON timeline (name, occurred_at DESC) WHERE kind = 'order_event';
CREATE INDEX timeline_customers ON timeline (customer_id, occurred_at DESC) WHERE kind = 'order_event';

-- Each order as last processed; an older event (replay) never overwrites a newer one.
CREATE TABLE orders (
    external_order_id text PRIMARY KEY,
    document jsonb NOT NULL,
    status text NOT NULL,
    version_tag text NOT NULL,
    customer_id text,
    updated_at timestamptz NOT NULL,
    source_partition int NOT NULL,
    source_offset bigint NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id);
