-- A run: a trigger's firing that waits (a delay, a working window, later workflow steps). It is
-- pinned to the trigger revision it started with; `step` is what it performs next (0: the
-- trigger's effects after a delay; 1...: later steps). The scheduler claims due runs with
-- FOR UPDATE SKIP LOCKED and, in the same transaction, moves them on and writes what they emit
-- to the outbox: a run's step is performed once, whichever worker claims it.
CREATE TABLE runs (
    run_id text PRIMARY KEY,
    trigger_id text NOT NULL,
    revision int NOT NULL,
    external_order_id text NOT NULL,
    event_id text NOT NULL,
    event jsonb NOT NULL,           -- what the conditions read of the event that started it
    step int NOT NULL,
    state text NOT NULL CHECK (state IN ('waiting', 'done', 'stopped', 'cancelled', 'not_fired',
                                         'skipped')),
    due_at timestamptz NOT NULL,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_due ON runs (due_at) WHERE state = 'waiting';
CREATE INDEX runs_waiting_by_order ON runs (external_order_id) WHERE state = 'waiting';
CREATE INDEX runs_by_trigger ON runs (trigger_id, run_id);

-- When a trigger last fired for an order, for frequency limits (once, once per period).
CREATE TABLE trigger_fires (
    trigger_id text NOT NULL,
    external_order_id text NOT NULL,
    last_fired_at timestamptz NOT NULL,
    PRIMARY KEY (trigger_id, external_order_id)
);
