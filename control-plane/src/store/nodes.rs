//! What the control plane knows about data-plane nodes: who they are, what
//! they run and when they were last heard from.

use cp_sync::config::ConfigError;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{now_rfc3339, Store, StoreError};

/// What a node said about itself in one request; `None` leaves the stored
/// value as it was.
#[derive(Debug, Clone, Default)]
pub struct NodeSeen {
    pub id: String,
    pub hostname: Option<String>,
    pub sluice_version: Option<String>,
    pub applied_version: Option<u64>,
    /// `Some` replaces the errors of the node's last attempt (an empty list
    /// clears them).
    pub errors: Option<Vec<ConfigError>>,
}

/// One node as `GET /v1/nodes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub id: String,
    pub hostname: String,
    pub sluice_version: String,
    pub applied_version: Option<u64>,
    pub last_seen: String,
    pub last_errors: Vec<ConfigError>,
}

impl Store {
    /// Records a poll or a report from a node.
    pub fn node_seen(&self, seen: &NodeSeen) -> Result<(), StoreError> {
        let errors = match &seen.errors {
            Some(errors) => Some(serde_json::to_string(errors)?),
            None => None,
        };
        let applied = seen.applied_version.map(to_sql_int).transpose()?;
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO nodes (id, hostname, sluice_version, applied_version, last_seen, last_errors)
             VALUES (?1, coalesce(?2, ''), coalesce(?3, ''), ?4, ?5, coalesce(?6, '[]'))
             ON CONFLICT(id) DO UPDATE SET
                 hostname = coalesce(?2, hostname),
                 sluice_version = coalesce(?3, sluice_version),
                 applied_version = coalesce(?4, applied_version),
                 last_seen = ?5,
                 last_errors = coalesce(?6, last_errors)",
            params![
                seen.id,
                seen.hostname,
                seen.sluice_version,
                applied,
                now_rfc3339(),
                errors
            ],
        )?;
        Ok(())
    }

    /// Every node that ever polled or reported, by id.
    pub fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let conn = self.lock()?;
        let mut statement = conn.prepare(
            "SELECT id, hostname, sluice_version, applied_version, last_seen, last_errors
             FROM nodes ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        let mut nodes = Vec::new();
        for row in rows {
            let (id, hostname, sluice_version, applied, last_seen, errors) = row?;
            nodes.push(NodeRecord {
                last_errors: serde_json::from_str(&errors)?,
                applied_version: applied.and_then(|v| u64::try_from(v).ok()),
                id,
                hostname,
                sluice_version,
                last_seen,
            });
        }
        Ok(nodes)
    }
}

pub(super) fn to_sql_int(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("version {value} is too large")))
}
