-- The contact preview is found by any id a shop knows a customer by (seed 004 matches contacts
-- by externalCustomerId, then e-mail or phone), not only by orderflow's customer key.
CREATE INDEX customers_external_id ON customers (external_customer_id);
CREATE INDEX customers_email ON customers (lower(email));
CREATE INDEX customers_phone_digits ON customers (regexp_replace(phone, '\D', '', 'g'));
