-- The number of the order's latest event (OrderEvent.sequence): each accepted change of an order
-- gets the next one, so read models keep the newest version whatever order copies arrive in.
-- Orders processed before this column existed continue from 0 (their events carried 0).
ALTER TABLE orders ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
