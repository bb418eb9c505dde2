-- Orders as last processed by the order processor (the stage that computes events).
CREATE TABLE orders (
    external_order_id text PRIMARY KEY,
    document jsonb NOT NULL,
    status text NOT NULL,
    version_tag text NOT NULL,
    customer_id text,
    has_contact boolean NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- The versionTag of the latest version accepted over HTTP, to tell a client "still pending".
CREATE TABLE submissions (
    external_order_id text PRIMARY KEY,
    version_tag text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now()
);

-- Next offset to process per inbound partition, written with the state it produced.
CREATE TABLE consumer_offsets (
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

CREATE TABLE outbox (
    seq bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text,
    payload bytea NOT NULL
);
