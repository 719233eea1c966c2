-- clerk-webhooks sync schema, migration 2: deliveries no retry can apply. `{bytes}` is BYTEA on
-- PostgreSQL, BLOB on SQLite.
--
-- A delivery the database cannot hold, for good (a value it refuses, an id too long for an index),
-- or that cannot be ordered (no id or version), is recorded here with the delivery's inbox record,
-- logged at `error` and answered 200, so that Svix stops retrying what cannot succeed. `body` is
-- the delivery exactly as received, to apply again once the cause is fixed.
CREATE TABLE IF NOT EXISTS clerk_webhooks_failed_deliveries (
    delivery_key TEXT PRIMARY KEY,        -- {endpoint}:{svix-id}, as in the inbox
    svix_id TEXT NOT NULL,
    event_type TEXT,
    failed_at BIGINT NOT NULL,
    reason TEXT NOT NULL,                 -- unordered, or database_refused
    sqlstate TEXT,                        -- the database's code for its refusal
    detail TEXT,                          -- the database's message (it may quote the data)
    body {bytes} NOT NULL
);
