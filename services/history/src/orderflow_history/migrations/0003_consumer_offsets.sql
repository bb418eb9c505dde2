-- The next offset of each partition projected, written in the same transaction as the rows
-- (orderflow_runtime.positions): a record seen again is skipped, so timeline rows can be
-- COPYed straight into the table instead of going through ON CONFLICT.
CREATE TABLE consumer_offsets (
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);
