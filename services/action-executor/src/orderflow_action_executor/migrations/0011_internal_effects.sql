-- Internal effects (seed 001). The ids come from the request's, so an attempt made again
-- finds its task or notification there and creates nothing twice.
CREATE TABLE tasks (
    task_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    trigger_id text NOT NULL,
    title text NOT NULL,
    note text,
    assignee text,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz,
    done_by_id text,
    done_by_name text
);
CREATE INDEX tasks_open ON tasks (state, created_at, task_id);
CREATE INDEX tasks_by_order ON tasks (external_order_id, created_at);

CREATE TABLE notifications (
    notification_id text PRIMARY KEY,
    external_order_id text NOT NULL,
    trigger_id text NOT NULL,
    recipient text NOT NULL,
    subject text NOT NULL,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_by_order ON notifications (external_order_id, created_at);
