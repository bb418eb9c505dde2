-- A batch looks up when triggers last fired by order (store/runs.py load): with the order
-- second in the key that lookup read the whole table, once per batch, slower as it grew (at
-- 80,000 rows the database spent more CPU on it than the engine did on its events).
ALTER TABLE trigger_fires DROP CONSTRAINT trigger_fires_pkey,
    ADD PRIMARY KEY (external_order_id, trigger_id);
