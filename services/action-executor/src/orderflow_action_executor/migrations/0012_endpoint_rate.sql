-- A rate limit per endpoint (requests per second, per executor process); NULL: none.
ALTER TABLE endpoints ADD COLUMN rate_per_second double precision;
