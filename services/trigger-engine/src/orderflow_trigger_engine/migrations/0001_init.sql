CREATE TABLE triggers (
    id text PRIMARY KEY,
    name text NOT NULL,
    event text NOT NULL,
    enabled boolean NOT NULL,
    spec jsonb NOT NULL,
    revision int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX triggers_by_event ON triggers (event) WHERE enabled;

-- The latest order seen on the order-events topic, for conditions of order actions.
CREATE TABLE latest_orders (
    external_order_id text PRIMARY KEY,
    document jsonb NOT NULL,
    customer_id text
);
