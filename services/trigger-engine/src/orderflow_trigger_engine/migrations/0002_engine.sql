-- Every revision of every trigger is kept (a waiting run pins the revision it started with);
-- `triggers` holds the latest, with a change number that workers follow.
DROP INDEX IF EXISTS triggers_by_event;
ALTER TABLE triggers DROP COLUMN event;
ALTER TABLE triggers ADD COLUMN deleted boolean NOT NULL DEFAULT false;
CREATE SEQUENCE trigger_changes;
ALTER TABLE triggers ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('trigger_changes');
CREATE INDEX triggers_by_change ON triggers (change_seq);

CREATE TABLE trigger_revisions (
    trigger_id text NOT NULL,
    revision int NOT NULL,
    spec jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trigger_id, revision)
);
INSERT INTO trigger_revisions (trigger_id, revision, spec) SELECT id, revision, spec FROM triggers;

-- The latest state of each order, forward-only by the event's sequence, and what it adds to
-- its customer's figures.
ALTER TABLE latest_orders ADD COLUMN sequence bigint NOT NULL DEFAULT 0;

CREATE TABLE customer_stats (
    customer_key text PRIMARY KEY,
    delivered_orders int NOT NULL,
    total_spent double precision NOT NULL,
    last_order_date text
);

-- Events already decided: a copy of an event (same id, another offset) is not evaluated again.
CREATE TABLE decided_events (
    event_id text PRIMARY KEY,
    decided_at timestamptz NOT NULL DEFAULT now()
);

-- Next offset per partition, written with what the records produced (orderflow_runtime.positions).
CREATE TABLE consumer_offsets (
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- What a batch produced, one row per batch, published after the commit and then deleted.
CREATE TABLE outbox_batches (
    seq bigserial PRIMARY KEY,
    messages bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Written once, read once: not worth compressing (pglz cost more than the write).
ALTER TABLE outbox_batches ALTER COLUMN messages SET STORAGE EXTERNAL;
