-- clerk-webhooks sync schema, migration 2, on PostgreSQL only: `data` becomes JSON, its text
-- exactly as sent. JSONB refuses `\u0000`, which a user can put in `unsafe_metadata` from the
-- browser (and every later event about that user carries it): such a delivery could never be
-- stored. Each table is rewritten once, under a lock. A typed text column cannot hold U+0000
-- either: the mirror writes it there as U+FFFD, and `data` keeps the value exactly.
ALTER TABLE clerk_users ALTER COLUMN data TYPE JSON USING data::text::json;
ALTER TABLE clerk_organizations ALTER COLUMN data TYPE JSON USING data::text::json;
ALTER TABLE clerk_organization_memberships ALTER COLUMN data TYPE JSON USING data::text::json;
