-- Matching looks customers up by e-mail and phone through this table (a btree per contact):
-- `emails && $array` over the GIN indexes went to a sequential scan of all customers, 100 ms
-- per batch at 5,000 customers and growing with every new one.
CREATE TABLE customer_contacts (
    contact text NOT NULL,  -- 'email:<lower-case>' or 'phone:<digits>' (contacts.py)
    customer_id text NOT NULL REFERENCES customers,
    PRIMARY KEY (contact, customer_id)
);
INSERT INTO customer_contacts
SELECT 'email:' || e, customer_id FROM customers, unnest(emails) AS e
UNION
SELECT 'phone:' || p, customer_id FROM customers, unnest(phones) AS p;
DROP INDEX customers_emails;
DROP INDEX customers_phones;
