//! Configuration versions and node status in an embedded SQLite database.
//!
//! Every accepted change is one new row in `config_versions`, written in one
//! transaction: a crash leaves the previous version current, never half of
//! a change. Versions are never deleted, so any of them can be shown or
//! rolled back to.

mod migrations;
mod nodes;

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use cp_sync::config::Config;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use nodes::{NodeRecord, NodeSeen};

use nodes::to_sql_int;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database lock poisoned by a panic in another request")]
    Poisoned,
}

/// One stored configuration version. Version 0 is the empty configuration
/// a new control plane starts with; it is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub version: u64,
    pub created_at: Option<String>,
    pub summary: String,
    pub config: Config,
}

impl VersionRecord {
    fn initial() -> Self {
        VersionRecord {
            version: 0,
            created_at: None,
            summary: "empty configuration (nothing applied yet)".into(),
            config: Config::default(),
        }
    }
}

/// A version as `GET /v1/versions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: u64,
    pub created_at: String,
    pub summary: String,
}

/// What a change wants stored, decided while the database is locked.
#[derive(Debug)]
pub struct Proposal {
    pub config: Config,
    pub summary: String,
    /// Store a new version even when `config` equals the current one
    /// (a rollback is an event worth a version of its own).
    pub always: bool,
}

/// The outcome of [`Store::commit`].
#[derive(Debug)]
pub struct Committed {
    /// The version now current: a new one, or the old one when nothing
    /// changed.
    pub version: u64,
    pub created: bool,
    pub previous: VersionRecord,
    pub config: Config,
}

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // Owner-only like the keys: configurations may carry inline PEM
        // keys. SQLite gives its -wal and -shm files the same mode.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
        let mut conn = Connection::open(path)?;
        // WAL keeps readers off the writer's back; FULL makes a committed
        // version survive a power cut, which is what a version number
        // promises.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// The newest version (version 0 when none was stored yet).
    pub fn current(&self) -> Result<VersionRecord, StoreError> {
        let conn = self.lock()?;
        current_in(&conn)
    }

    /// A stored version; `Ok(None)` when there is no such version.
    pub fn version(&self, version: u64) -> Result<Option<VersionRecord>, StoreError> {
        if version == 0 {
            return Ok(Some(VersionRecord::initial()));
        }
        let conn = self.lock()?;
        let row = conn
            .query_row(
                "SELECT version, created_at, summary, config FROM config_versions WHERE version = ?1",
                [to_sql_int(version)?],
                read_row,
            )
            .optional()?;
        row.map(into_record).transpose()
    }

    /// Every stored version, oldest first.
    pub fn versions(&self) -> Result<Vec<VersionInfo>, StoreError> {
        let conn = self.lock()?;
        let mut statement = conn
            .prepare("SELECT version, created_at, summary FROM config_versions ORDER BY version")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
        })?;
        let mut versions = Vec::new();
        for row in rows {
            let (version, created_at, summary) = row?;
            versions.push(VersionInfo {
                version: from_sql_int(version)?,
                created_at,
                summary,
            });
        }
        Ok(versions)
    }

    /// Runs `decide` on the current version and stores what it proposes as
    /// the next version, all in one transaction. `decide` may refuse (its
    /// error is returned and nothing is written). A proposal equal to the
    /// current configuration stores nothing unless `always` is set.
    pub fn commit<E: From<StoreError>>(
        &self,
        decide: impl FnOnce(&VersionRecord) -> Result<Proposal, E>,
    ) -> Result<Committed, E> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let previous = current_in(&tx)?;
        let proposal = decide(&previous)?;
        if proposal.config == previous.config && !proposal.always {
            return Ok(Committed {
                version: previous.version,
                created: false,
                config: proposal.config,
                previous,
            });
        }
        let version = previous.version + 1;
        let text = serde_json::to_string(&proposal.config).map_err(StoreError::from)?;
        tx.execute(
            "INSERT INTO config_versions (version, created_at, summary, config) VALUES (?1, ?2, ?3, ?4)",
            params![to_sql_int(version)?, now_rfc3339(), proposal.summary, text],
        )
        .map_err(StoreError::from)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(Committed {
            version,
            created: true,
            config: proposal.config,
            previous,
        })
    }
}

type Row = (i64, String, String, String);

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn into_record((version, created_at, summary, config): Row) -> Result<VersionRecord, StoreError> {
    let version = from_sql_int(version)?;
    let config = serde_json::from_str(&config)
        .map_err(|e| StoreError::Corrupt(format!("configuration version {version}: {e}")))?;
    Ok(VersionRecord {
        version,
        created_at: Some(created_at),
        summary,
        config,
    })
}

fn current_in(conn: &Connection) -> Result<VersionRecord, StoreError> {
    let row = conn
        .query_row(
            "SELECT version, created_at, summary, config FROM config_versions ORDER BY version DESC LIMIT 1",
            [],
            read_row,
        )
        .optional()?;
    match row {
        Some(row) => into_record(row),
        None => Ok(VersionRecord::initial()),
    }
}

fn from_sql_int(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative version {value}")))
}

/// Seconds are enough for "last seen" and version dates, and shorter to read.
pub(crate) fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests;
