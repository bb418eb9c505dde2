-- External actions (issue 12). The executor keeps the latest state of every order it has seen
-- on orderflow.order-events (forward-only by the event's sequence): an unknown order is a 404,
-- a LINK renders with the order as it is, templates match it.
CREATE TABLE known_orders (
    external_order_id text PRIMARY KEY,
    document jsonb NOT NULL,
    customer_id text,
    sequence bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Actions defined on one order; `version` moves on every update (optimistic concurrency).
CREATE TABLE external_actions (
    action_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    action_type text NOT NULL,
    spec jsonb NOT NULL,
    version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX external_actions_by_order ON external_actions (external_order_id, action_id);

-- Actions for every order (or those matching conditions).
CREATE TABLE action_templates (
    template_id text PRIMARY KEY,
    action_type text NOT NULL,
    spec jsonb NOT NULL,
    version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every execution, with who did it; the id is the message's (and the Idempotency-Key's).
CREATE TABLE executions (
    execution_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    action_id text NOT NULL,
    action_type text NOT NULL,
    user_id text,
    user_name text,
    inputs jsonb NOT NULL DEFAULT '{}',
    url text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX executions_by_order ON executions (external_order_id, created_at);

-- Comments accepted (from the topic or over HTTP); the id makes a repeat harmless.
CREATE TABLE comments (
    comment_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    related_action_id text,
    text text NOT NULL,
    author text,
    created_at timestamptz NOT NULL DEFAULT now()
);
