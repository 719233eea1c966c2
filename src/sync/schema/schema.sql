-- clerk-webhooks sync schema, version 2. `{json}` is the JSON column type: JSON on PostgreSQL (the
-- text exactly as sent: JSONB refuses `\u0000`, which a user can put in `unsafe_metadata` from the
-- browser), TEXT on SQLite; `{bytes}` is BYTEA on PostgreSQL, BLOB on SQLite. Timestamps are
-- Clerk's own: Unix milliseconds. On PostgreSQL a text column cannot hold U+0000: the typed
-- columns hold each one as U+FFFD, and `data` holds the value exactly.

-- The transactional inbox: one row per delivery processed, committed with the handler's writes.
CREATE TABLE IF NOT EXISTS clerk_webhooks_inbox (
    delivery_key TEXT PRIMARY KEY,        -- {endpoint}:{svix-id}
    processed_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_webhooks_inbox_processed_at ON clerk_webhooks_inbox (processed_at);

-- The order guard: the last version applied to each object, and its tombstone once deleted.
CREATE TABLE IF NOT EXISTS clerk_webhooks_versions (
    kind TEXT NOT NULL,                   -- user, organization, organization_membership
    id TEXT NOT NULL,
    version BIGINT NOT NULL,              -- updated_at, or the deletion's envelope timestamp
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (kind, id)
);

-- The mirror. A deleted object keeps its row (so the app's references to it still resolve) with
-- `deleted_at` set and nothing else but what the deletion itself carried. A membership is also
-- deleted when its user or organization is (at the earliest such deletion's time).
CREATE TABLE IF NOT EXISTS clerk_users (
    id TEXT PRIMARY KEY,
    email TEXT,                           -- the primary email address
    first_name TEXT,
    last_name TEXT,
    username TEXT,
    image_url TEXT,
    created_at BIGINT,
    updated_at BIGINT,
    deleted_at BIGINT,
    data {json} NOT NULL                  -- the event's whole `data`, as Clerk sent it
);
CREATE INDEX IF NOT EXISTS clerk_users_email ON clerk_users (email);

CREATE TABLE IF NOT EXISTS clerk_organizations (
    id TEXT PRIMARY KEY,
    name TEXT,
    slug TEXT,
    image_url TEXT,
    created_at BIGINT,
    updated_at BIGINT,
    deleted_at BIGINT,
    data {json} NOT NULL
);

CREATE TABLE IF NOT EXISTS clerk_organization_memberships (
    id TEXT PRIMARY KEY,
    organization_id TEXT,
    user_id TEXT,
    role TEXT,
    created_at BIGINT,
    updated_at BIGINT,
    deleted_at BIGINT,
    data {json} NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organization_memberships_organization
    ON clerk_organization_memberships (organization_id);
CREATE INDEX IF NOT EXISTS clerk_organization_memberships_user
    ON clerk_organization_memberships (user_id);

-- Deliveries the database cannot hold, for good (a value it refuses, an id too long for an index)
-- or that cannot be ordered (no id or version): recorded here with the delivery's inbox record,
-- logged at `error`, answered 200 so Svix stops retrying what cannot succeed. `body` is the
-- delivery exactly as received, to apply again once the cause is fixed.
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

CREATE TABLE IF NOT EXISTS clerk_webhooks_schema (version INTEGER PRIMARY KEY);
INSERT INTO clerk_webhooks_schema (version) VALUES (1) ON CONFLICT DO NOTHING;
INSERT INTO clerk_webhooks_schema (version) VALUES (2) ON CONFLICT DO NOTHING;
