-- clerk-webhooks sync schema, migration 2: `data_exact`, the object's JSON text exactly as sent
-- when `data` cannot hold it. PostgreSQL's JSONB refuses the escape `\u0000` and unpaired
-- surrogates, which a user can type into `unsafe_metadata` from the browser (and every later
-- event about that user carries them). The mirror then stores each as `\ufffd` in `data` (and
-- U+0000 in a typed column as U+FFFD), and the text as sent here; NULL otherwise, which is nearly
-- always, and always on SQLite. Adding a nullable column rewrites nothing.
ALTER TABLE clerk_users ADD COLUMN data_exact TEXT;
ALTER TABLE clerk_organizations ADD COLUMN data_exact TEXT;
ALTER TABLE clerk_organization_memberships ADD COLUMN data_exact TEXT;
