//! Schema migrations, in code so a binary and its schema never disagree.
//! `PRAGMA user_version` records how many have run; each runs in its own
//! transaction together with the version bump.

use rusqlite::Connection;

use super::StoreError;

/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: configuration versions and data-plane nodes.
    "CREATE TABLE config_versions (
         version    INTEGER PRIMARY KEY,
         created_at TEXT NOT NULL,
         summary    TEXT NOT NULL,
         config     TEXT NOT NULL
     );
     CREATE TABLE nodes (
         id              TEXT PRIMARY KEY,
         hostname        TEXT NOT NULL DEFAULT '',
         sluice_version  TEXT NOT NULL DEFAULT '',
         applied_version INTEGER,
         last_seen       TEXT NOT NULL,
         last_errors     TEXT NOT NULL DEFAULT '[]'
     );",
];

pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "database schema version {applied} is newer than this sluice-cp knows ({}); run a newer sluice-cp",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
