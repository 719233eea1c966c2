//! The databases the sync runs on, and the SQL each of them speaks.
//!
//! Every statement is the same on both; only the schema's column types, how `data` is sent, the
//! migrations' lock and steps, and what a text column can hold differ, and
//! `impl_sync_database!` writes the rest once.

use std::borrow::Cow;

use serde_json::value::RawValue;
use std::future::Future;
use std::pin::Pin;

use super::change::{Admission, Change, ObjectKind};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A database the sync runs on: [`sqlx::Postgres`] (feature `postgres`) or [`sqlx::Sqlite`]
/// (feature `sqlite`). Sealed: the crate's SQL lives behind it, not an extension point.
pub trait SyncDatabase: sqlx::Database + sealed::Sealed {}

/// The crate's SQL for each database, out of the public API: a type outside this crate cannot
/// name this trait, so it can neither implement [`SyncDatabase`] nor call these.
pub(crate) mod sealed {
    use super::{Admission, BoxFuture, Change, FailedDelivery, MirrorRow, ObjectKind};

    pub trait Sealed: sqlx::Database {
        fn claim<'c>(
            conn: &'c mut Self::Connection,
            key: &'c str,
            now_ms: i64,
        ) -> BoxFuture<'c, sqlx::Result<bool>>;
        fn admit<'c>(
            conn: &'c mut Self::Connection,
            change: &'c Change<'_>,
        ) -> BoxFuture<'c, sqlx::Result<Admission>>;
        fn write<'c>(
            conn: &'c mut Self::Connection,
            row: &'c MirrorRow<'_>,
        ) -> BoxFuture<'c, sqlx::Result<()>>;
        fn end_memberships<'c>(
            conn: &'c mut Self::Connection,
            of: ObjectKind,
            id: &'c str,
            version: i64,
        ) -> BoxFuture<'c, sqlx::Result<()>>;
        fn lock_owners<'c>(
            conn: &'c mut Self::Connection,
            owners: &'c [String],
        ) -> BoxFuture<'c, sqlx::Result<()>>;
        fn inherit_deletion<'c>(
            conn: &'c mut Self::Connection,
            membership_id: &'c str,
        ) -> BoxFuture<'c, sqlx::Result<()>>;
        fn set_aside<'c>(
            conn: &'c mut Self::Connection,
            failed: &'c FailedDelivery<'_>,
        ) -> BoxFuture<'c, sqlx::Result<()>>;
        fn purge<'c>(
            pool: &'c sqlx::Pool<Self>,
            before_ms: i64,
            limit: i64,
        ) -> BoxFuture<'c, sqlx::Result<u64>>;
        fn migrate(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, sqlx::Result<()>>;
    }
}

/// One of the mirror's tables: its upsert, which binds the id, `text_columns` text columns, the
/// created, updated and deleted times, and the object as JSON.
#[derive(Debug)]
pub(crate) struct MirrorTable {
    statement: &'static str,
    text_columns: usize,
}

pub(crate) const USERS: MirrorTable = MirrorTable {
    statement: WRITE_USER,
    text_columns: 5,
};
pub(crate) const ORGANIZATIONS: MirrorTable = MirrorTable {
    statement: WRITE_ORGANIZATION,
    text_columns: 3,
};
pub(crate) const MEMBERSHIPS: MirrorTable = MirrorTable {
    statement: WRITE_MEMBERSHIP,
    text_columns: 3,
};

/// A row of one of the mirror's tables, as written (text columns past the table's are unused).
#[derive(Debug)]
pub struct MirrorRow<'a> {
    pub(crate) table: &'static MirrorTable,
    pub(crate) id: &'a str,
    pub(crate) texts: [Option<&'a str>; 5],
    pub(crate) created_at: Option<i64>,
    pub(crate) updated_at: Option<i64>,
    pub(crate) deleted_at: Option<i64>,
    pub(crate) data: &'a RawValue,
}

/// A delivery the database cannot hold, as recorded in `clerk_webhooks_failed_deliveries`.
#[derive(Debug)]
pub struct FailedDelivery<'a> {
    pub(crate) key: &'a str,
    pub(crate) svix_id: &'a str,
    pub(crate) event_type: Option<&'a str>,
    pub(crate) failed_at: i64,
    pub(crate) reason: &'static str,
    pub(crate) sqlstate: Option<&'a str>,
    pub(crate) detail: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

/// The schema's migrations, in order: a version and the scripts that make it (`{json}` and
/// `{bytes}` stand for the database's types). Each runs once, recorded in
/// `clerk_webhooks_schema`, so a change to a table ships as a new migration and existing tables
/// are migrated in place.
type Migrations = &'static [(i32, &'static [&'static str])];

const TABLES: &str = include_str!("schema/0001_tables.sql");
const FAILED_DELIVERIES: &str = include_str!("schema/0002_failed_deliveries.sql");
const EXACT_DATA: &str = include_str!("schema/0002_exact_data.sql");

const CREATE_VERSIONS: &str =
    "CREATE TABLE IF NOT EXISTS clerk_webhooks_schema (version INTEGER PRIMARY KEY)";
const CURRENT_VERSION: &str = "SELECT MAX(version) FROM clerk_webhooks_schema";
const RECORD_VERSION: &str = "INSERT INTO clerk_webhooks_schema (version) VALUES ($1)";

/// PostgreSQL's text types cannot hold U+0000: a typed column holds each as U+FFFD, the
/// replacement character (`data_exact` keeps the value exactly; see [`jsonb_safe`]).
#[cfg(feature = "postgres")]
fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `data` as PostgreSQL's `jsonb` can hold it, when it cannot hold it as sent: `jsonb` refuses
/// the escape `\u0000` and unpaired surrogates (`\ud800`), which a user can type into
/// `unsafe_metadata` from the browser, and every later event about that user carries them. Each
/// becomes `\ufffd`, the replacement character, and the row's `data_exact` keeps the text exactly
/// as sent; `None` (and `data_exact` NULL) for everything else, which is nearly everything.
#[cfg(feature = "postgres")]
fn jsonb_safe(data: &RawValue) -> Option<Box<RawValue>> {
    let text = data.get();
    // A backslash occurs in JSON only inside a string, where it starts an escape.
    if !text.contains("\\u") {
        return None;
    }
    let bytes = text.as_bytes();
    let hex = |at: usize| {
        bytes
            .get(at + 2..at + 6)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u16::from_str_radix(digits, 16).ok())
    };
    let mut safe = String::with_capacity(text.len());
    let (mut copied, mut at, mut changed) = (0, 0, false);
    while let Some(offset) = text[at..].find('\\') {
        at += offset;
        if bytes.get(at + 1) != Some(&b'u') {
            at += 2; // a two-character escape, such as `\\` or `\"`
            continue;
        }
        let unit = hex(at).unwrap_or(0xfffd);
        let fits = match unit {
            0 => false,
            0xd800..=0xdbff => {
                let low = (bytes.get(at + 6) == Some(&b'\\') && bytes.get(at + 7) == Some(&b'u'))
                    .then(|| hex(at + 6))
                    .flatten();
                if matches!(low, Some(0xdc00..=0xdfff)) {
                    at += 12; // a surrogate pair
                    continue;
                }
                false
            }
            0xdc00..=0xdfff => false,
            _ => true,
        };
        if !fits {
            safe.push_str(&text[copied..at]);
            safe.push_str("\\ufffd");
            copied = at + 6;
            changed = true;
        }
        at += 6;
    }
    if !changed {
        return None;
    }
    safe.push_str(&text[copied..]);
    // Only escapes inside strings changed, each for another valid one: still valid JSON.
    RawValue::from_string(safe).ok()
}

#[cfg(feature = "sqlite")]
fn as_is_json(_data: &RawValue) -> Option<Box<RawValue>> {
    None
}

#[cfg(feature = "sqlite")]
fn as_is(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

const SET_ASIDE: &str = "INSERT INTO clerk_webhooks_failed_deliveries \
     (delivery_key, svix_id, event_type, failed_at, reason, sqlstate, detail, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (delivery_key) DO NOTHING";

/// Applies a change unless the object is deleted, or (for a created/updated change) holds a version
/// at least as new. Returns the row when it applied.
const ADMIT: &str =
    "INSERT INTO clerk_webhooks_versions (kind, id, version, deleted) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted \
     WHERE clerk_webhooks_versions.deleted = FALSE \
       AND (excluded.deleted OR clerk_webhooks_versions.version < excluded.version) \
     RETURNING version";
const DELETED: &str = "SELECT deleted FROM clerk_webhooks_versions WHERE kind = $1 AND id = $2";

/// A membership cannot outlive its user or its organization in Clerk: their deletion marks every
/// membership the mirror holds of them deleted at the deletion's time (the earliest, when both
/// go), unless the membership's own deletion was applied: that one's time stands. The guard is
/// left alone, so later updates of the membership still apply in order and every delivery order
/// ends in the same rows.
const END_MEMBERSHIPS_OF_USER: &str = "UPDATE clerk_organization_memberships SET deleted_at = $2 \
     WHERE user_id = $1 AND (deleted_at IS NULL OR deleted_at > $2) AND NOT EXISTS \
     (SELECT 1 FROM clerk_webhooks_versions WHERE kind = 'organization_membership' \
      AND id = clerk_organization_memberships.id AND deleted = TRUE)";
const END_MEMBERSHIPS_OF_ORGANIZATION: &str =
    "UPDATE clerk_organization_memberships SET deleted_at = $2 \
     WHERE organization_id = $1 AND (deleted_at IS NULL OR deleted_at > $2) AND NOT EXISTS \
     (SELECT 1 FROM clerk_webhooks_versions WHERE kind = 'organization_membership' \
      AND id = clerk_organization_memberships.id AND deleted = TRUE)";
/// A membership written (created or updated) after its user or organization was deleted is
/// marked deleted at the earliest of those deletions.
const INHERIT_DELETION: &str = "UPDATE clerk_organization_memberships SET deleted_at = \
     (SELECT MIN(version) FROM clerk_webhooks_versions WHERE deleted = TRUE AND \
      ((kind = 'user' AND id = clerk_organization_memberships.user_id) OR \
       (kind = 'organization' AND id = clerk_organization_memberships.organization_id))) \
     WHERE id = $1";
const CLAIM: &str =
    "INSERT INTO clerk_webhooks_inbox (delivery_key, processed_at) VALUES ($1, $2) \
     ON CONFLICT (delivery_key) DO NOTHING";
const PURGE: &str = "DELETE FROM clerk_webhooks_inbox WHERE delivery_key IN \
     (SELECT delivery_key FROM clerk_webhooks_inbox WHERE processed_at < $1 LIMIT $2)";

const WRITE_USER: &str = "INSERT INTO clerk_users \
     (id, email, first_name, last_name, username, image_url, created_at, updated_at, deleted_at, data, \
      data_exact) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, first_name = excluded.first_name, \
     last_name = excluded.last_name, username = excluded.username, image_url = excluded.image_url, \
     created_at = excluded.created_at, updated_at = excluded.updated_at, \
     deleted_at = excluded.deleted_at, data = excluded.data, data_exact = excluded.data_exact";
const WRITE_ORGANIZATION: &str = "INSERT INTO clerk_organizations \
     (id, name, slug, image_url, created_at, updated_at, deleted_at, data, data_exact) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, slug = excluded.slug, \
     image_url = excluded.image_url, created_at = excluded.created_at, \
     updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, data = excluded.data, \
     data_exact = excluded.data_exact";
const WRITE_MEMBERSHIP: &str = "INSERT INTO clerk_organization_memberships \
     (id, organization_id, user_id, role, created_at, updated_at, deleted_at, data, data_exact) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, \
     user_id = excluded.user_id, role = excluded.role, created_at = excluded.created_at, \
     updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, data = excluded.data, \
     data_exact = excluded.data_exact";

macro_rules! impl_sync_database {
    (
        $db:ty,
        json_type = $json_type:literal,
        bytes_type = $bytes_type:literal,
        migration_begin = $begin:literal,
        migration_lock = $lock:literal,
        migrations = $migrations:expr,
        owner_lock = $owner_lock:expr,
        text = $text:path,
        json = $json:path
    ) => {
        impl SyncDatabase for $db {}

        impl sealed::Sealed for $db {
            fn claim<'c>(
                conn: &'c mut Self::Connection,
                key: &'c str,
                now_ms: i64,
            ) -> BoxFuture<'c, sqlx::Result<bool>> {
                Box::pin(async move {
                    let inserted = sqlx::query(CLAIM)
                        .bind(key)
                        .bind(now_ms)
                        .execute(&mut *conn)
                        .await?;
                    Ok(inserted.rows_affected() == 1)
                })
            }

            fn admit<'c>(
                conn: &'c mut Self::Connection,
                change: &'c Change<'_>,
            ) -> BoxFuture<'c, sqlx::Result<Admission>> {
                Box::pin(async move {
                    let kind = change.kind().as_str();
                    let applied = sqlx::query(ADMIT)
                        .bind(kind)
                        .bind(change.id())
                        .bind(change.version())
                        .bind(change.is_deletion())
                        .fetch_optional(&mut *conn)
                        .await?;
                    if applied.is_some() {
                        return Ok(Admission::Apply);
                    }
                    let deleted: bool = sqlx::query_scalar(DELETED)
                        .bind(kind)
                        .bind(change.id())
                        .fetch_one(&mut *conn)
                        .await?;
                    Ok(if deleted {
                        Admission::Deleted
                    } else {
                        Admission::Stale
                    })
                })
            }

            fn write<'c>(
                conn: &'c mut Self::Connection,
                row: &'c MirrorRow<'_>,
            ) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    let mut query = sqlx::query(row.table.statement).bind(row.id);
                    for text in &row.texts[..row.table.text_columns] {
                        query = query.bind(text.map($text));
                    }
                    let safe = $json(row.data);
                    query
                        .bind(row.created_at)
                        .bind(row.updated_at)
                        .bind(row.deleted_at)
                        .bind(sqlx::types::Json(safe.as_deref().unwrap_or(row.data)))
                        .bind(safe.is_some().then(|| row.data.get()))
                        .execute(&mut *conn)
                        .await
                        .map(drop)
                })
            }

            fn end_memberships<'c>(
                conn: &'c mut Self::Connection,
                of: ObjectKind,
                id: &'c str,
                version: i64,
            ) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    let statement = match of {
                        ObjectKind::User => END_MEMBERSHIPS_OF_USER,
                        ObjectKind::Organization => END_MEMBERSHIPS_OF_ORGANIZATION,
                        ObjectKind::OrganizationMembership => return Ok(()),
                    };
                    sqlx::query(statement)
                        .bind(id)
                        .bind(version)
                        .execute(&mut *conn)
                        .await
                        .map(drop)
                })
            }

            fn lock_owners<'c>(
                conn: &'c mut Self::Connection,
                owners: &'c [String],
            ) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    let Some(statement) = $owner_lock else {
                        return Ok(());
                    };
                    for owner in owners {
                        sqlx::query(statement)
                            .bind(owner)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            }

            fn inherit_deletion<'c>(
                conn: &'c mut Self::Connection,
                membership_id: &'c str,
            ) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    sqlx::query(INHERIT_DELETION)
                        .bind(membership_id)
                        .execute(&mut *conn)
                        .await
                        .map(drop)
                })
            }

            fn set_aside<'c>(
                conn: &'c mut Self::Connection,
                failed: &'c FailedDelivery<'_>,
            ) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    sqlx::query(SET_ASIDE)
                        .bind(failed.key)
                        .bind(failed.svix_id)
                        .bind(failed.event_type.map($text))
                        .bind(failed.failed_at)
                        .bind(failed.reason)
                        .bind(failed.sqlstate)
                        .bind(failed.detail.map($text))
                        .bind(failed.body)
                        .execute(&mut *conn)
                        .await
                        .map(drop)
                })
            }

            fn purge<'c>(
                pool: &'c sqlx::Pool<Self>,
                before_ms: i64,
                limit: i64,
            ) -> BoxFuture<'c, sqlx::Result<u64>> {
                Box::pin(async move {
                    let deleted = sqlx::query(PURGE)
                        .bind(before_ms)
                        .bind(limit)
                        .execute(pool)
                        .await?;
                    Ok(deleted.rows_affected())
                })
            }

            fn migrate(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, sqlx::Result<()>> {
                Box::pin(async move {
                    let mut tx = pool.begin_with($begin).await?;
                    let conn: &mut Self::Connection = &mut tx;
                    // Two instances starting at once must not both migrate.
                    // A query without arguments runs as a script of several statements.
                    sqlx::Executor::execute(&mut *conn, $lock).await?;
                    sqlx::Executor::execute(&mut *conn, CREATE_VERSIONS).await?;
                    let current: Option<i32> = sqlx::query_scalar(CURRENT_VERSION)
                        .fetch_one(&mut *conn)
                        .await?;
                    let migrations: Migrations = $migrations;
                    for (version, scripts) in migrations {
                        if current.is_some_and(|current| current >= *version) {
                            continue;
                        }
                        for script in *scripts {
                            let script = script
                                .replace("{json}", $json_type)
                                .replace("{bytes}", $bytes_type);
                            // The script is ours, with the database's type names filled in.
                            sqlx::Executor::execute(&mut *conn, sqlx::AssertSqlSafe(script))
                                .await?;
                        }
                        sqlx::query(RECORD_VERSION)
                            .bind(*version)
                            .execute(&mut *conn)
                            .await?;
                    }
                    tx.commit().await
                })
            }
        }
    };
}

#[cfg(feature = "postgres")]
impl_sync_database!(
    sqlx::Postgres,
    json_type = "JSONB",
    bytes_type = "BYTEA",
    migration_begin = "BEGIN",
    // `IF NOT EXISTS` makes PostgreSQL send a notice per existing object, which sqlx logs at
    // INFO: ten lines at every start. Warnings still come through.
    migration_lock = "SET LOCAL client_min_messages = warning; \
                      SELECT pg_advisory_xact_lock(7242615806917473537)",
    migrations = &[(1, &[TABLES]), (2, &[FAILED_DELIVERIES, EXACT_DATA])],
    // A membership's write and its user's or organization's deletion take the owner's lock
    // first, so they never run side by side: under READ COMMITTED, a deletion would not see a
    // membership inserted by a transaction still running, which would not see the deletion.
    owner_lock = Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 7242615806917473537))"),
    text = without_nul,
    json = jsonb_safe
);

// SQLite has one writer at a time. A deferred transaction that reads the schema and then
// writes fails at once with "database is locked" (not after the busy timeout) when another
// connection wrote in between: the migration takes the write lock when it begins.
#[cfg(feature = "sqlite")]
impl_sync_database!(
    sqlx::Sqlite,
    json_type = "TEXT",
    bytes_type = "BLOB",
    migration_begin = "BEGIN IMMEDIATE",
    migration_lock = "SELECT 1",
    migrations = &[(1, &[TABLES]), (2, &[FAILED_DELIVERIES, EXACT_DATA])],
    // A delivery's first statement takes SQLite's one write lock: deliveries are serialised.
    owner_lock = None::<&'static str>,
    text = as_is,
    json = as_is_json
);

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    fn safe(text: &str) -> Option<String> {
        let raw = RawValue::from_string(text.to_owned()).unwrap();
        jsonb_safe(&raw).map(|safe| safe.get().to_owned())
    }

    #[test]
    fn only_what_jsonb_refuses_is_rewritten() {
        // Nothing to rewrite: no escape, other escapes, an escaped backslash before `u0000`, a
        // surrogate pair.
        for kept in [
            r#"{"a":"b"}"#,
            r#"{"a":"\n\"\u00e9\u0041"}"#,
            r#"{"a":"\\u0000"}"#,
            r#"{"a":"\ud83d\ude00"}"#,
        ] {
            assert_eq!(safe(kept), None, "{kept}");
        }
        for (sent, stored) in [
            (r#"{"a\u0000":"x\u0000y"}"#, r#"{"a\ufffd":"x\ufffdy"}"#),
            (r#"{"a":"\\\u0000"}"#, r#"{"a":"\\\ufffd"}"#),
            (r#"{"a":"\ud800x"}"#, r#"{"a":"\ufffdx"}"#),
            (r#"{"a":"\udc00"}"#, r#"{"a":"\ufffd"}"#),
            (r#"{"a":"\ud800\u0041"}"#, r#"{"a":"\ufffd\u0041"}"#),
            (r#"{"a":"\ud800"}"#, r#"{"a":"\ufffd"}"#),
        ] {
            assert_eq!(safe(sent).as_deref(), Some(stored), "{sent}");
        }
    }
}
