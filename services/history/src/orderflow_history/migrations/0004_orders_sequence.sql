-- The order's event number (OrderEvent.sequence): the orders read model keeps the highest, so a
-- redelivered or re-published older event (a newer offset) never moves an order back. Offsets
-- only break ties between events without a number (0: before ingest numbered them).
ALTER TABLE orders ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
