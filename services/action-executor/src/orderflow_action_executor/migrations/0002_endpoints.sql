-- Endpoints (issue 11): a URL prefix, the secret its webhooks are signed with (and the previous
-- one until the rotation's grace ends), and whether it takes deliveries (a 410 Gone disables it
-- until an operator enables it again).
CREATE TABLE endpoints (
    id text PRIMARY KEY,
    url text NOT NULL UNIQUE,
    secret text NOT NULL,
    previous_secret text,
    previous_until timestamptz,
    disabled_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A request waits ('paused') while its endpoint is disabled; attempt_base is where a re-drive
-- starts counting the retry schedule again (attempt numbers themselves go on, so every
-- attempt's result keeps an id of its own).
ALTER TABLE requests
    ADD COLUMN endpoint_id text,
    ADD COLUMN attempt_base int NOT NULL DEFAULT 0,
    ADD COLUMN dead_at timestamptz;
CREATE INDEX requests_paused ON requests (endpoint_id) WHERE state = 'paused';
CREATE INDEX requests_dead ON requests (dead_at DESC, request_id) WHERE state = 'dead';
