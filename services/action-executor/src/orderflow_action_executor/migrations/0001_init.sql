-- One row per action request: the tracking row that makes each effect happen once. A worker
-- claims a due row with a lease; a crash mid-attempt lets the lease expire and another attempt
-- (with the same Idempotency-Key) follows.
CREATE TABLE requests (
    request_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending',  -- pending | succeeded | skipped | dead
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_due ON requests (next_attempt_at) WHERE state = 'pending';

CREATE TABLE outbox (
    seq bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text,
    payload bytea NOT NULL
);
