//! What changes between two configurations, entity by entity.

use std::collections::BTreeMap;

use cp_sync::config::Config;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document::{name_of, Kind};

/// Added, removed and changed entities of each kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigDiff {
    pub backend_clusters: KindDiff,
    pub virtual_clusters: KindDiff,
    pub listeners: KindDiff,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<ChangedEntity>,
}

/// An entity present on both sides with different content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedEntity {
    pub name: String,
    pub old: Value,
    pub new: Value,
}

impl KindDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl ConfigDiff {
    pub fn between(old: &Config, new: &Config) -> Result<ConfigDiff, serde_json::Error> {
        Ok(ConfigDiff {
            backend_clusters: kind_diff(Kind::BackendClusters, old, new)?,
            virtual_clusters: kind_diff(Kind::VirtualClusters, old, new)?,
            listeners: kind_diff(Kind::Listeners, old, new)?,
        })
    }

    pub fn kinds(&self) -> [(Kind, &KindDiff); 3] {
        [
            (Kind::BackendClusters, &self.backend_clusters),
            (Kind::VirtualClusters, &self.virtual_clusters),
            (Kind::Listeners, &self.listeners),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.kinds().iter().all(|(_, diff)| diff.is_empty())
    }

    /// One line per entity: `+ listeners/plain`, `- ...`, `~ ...`.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (kind, diff) in self.kinds() {
            let key = kind.key();
            lines.extend(diff.added.iter().map(|name| format!("+ {key}/{name}")));
            lines.extend(diff.removed.iter().map(|name| format!("- {key}/{name}")));
            lines.extend(diff.changed.iter().map(|c| format!("~ {key}/{}", c.name)));
        }
        lines
    }

    /// A short description for the version list.
    pub fn summary(&self) -> String {
        let lines = self.lines();
        if lines.is_empty() {
            return "no entity changed (order only)".into();
        }
        let shown: Vec<&str> = lines.iter().take(5).map(String::as_str).collect();
        let mut summary = shown.join(", ");
        if lines.len() > shown.len() {
            summary.push_str(&format!(" and {} more", lines.len() - shown.len()));
        }
        summary
    }
}

fn kind_diff(kind: Kind, old: &Config, new: &Config) -> Result<KindDiff, serde_json::Error> {
    let old = by_name(kind.entities(old)?);
    let new = by_name(kind.entities(new)?);
    let mut diff = KindDiff::default();
    for (name, entity) in &new {
        match old.get(name) {
            None => diff.added.push(name.clone()),
            Some(previous) if previous != entity => diff.changed.push(ChangedEntity {
                name: name.clone(),
                old: previous.clone(),
                new: entity.clone(),
            }),
            Some(_) => {}
        }
    }
    diff.removed = old
        .keys()
        .filter(|name| !new.contains_key(*name))
        .cloned()
        .collect();
    Ok(diff)
}

/// Names are unique in a validated config; sorted for stable output.
fn by_name(entities: Vec<Value>) -> BTreeMap<String, Value> {
    entities
        .into_iter()
        .filter_map(|entity| {
            name_of(&entity)
                .map(str::to_owned)
                .map(|name| (name, entity))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cp_sync::config::{parse_config_str, ConfigFormat};

    fn config(backends: &[(&str, &str)]) -> Config {
        let items: Vec<String> = backends
            .iter()
            .map(|(name, server)| format!("{{name: {name}, bootstrap_servers: [\"{server}\"]}}"))
            .collect();
        let text = format!("backend_clusters: [{}]", items.join(", "));
        parse_config_str(&text, ConfigFormat::Yaml).unwrap()
    }

    #[test]
    fn finds_added_removed_and_changed() {
        let old = config(&[("a", "a:1"), ("b", "b:1")]);
        let new = config(&[("b", "b:2"), ("c", "c:1")]);
        let diff = ConfigDiff::between(&old, &new).unwrap();
        assert_eq!(diff.backend_clusters.added, ["c"]);
        assert_eq!(diff.backend_clusters.removed, ["a"]);
        assert_eq!(diff.backend_clusters.changed.len(), 1);
        let changed = &diff.backend_clusters.changed[0];
        assert_eq!(changed.old["bootstrap_servers"][0], "b:1");
        assert_eq!(changed.new["bootstrap_servers"][0], "b:2");
        assert_eq!(
            diff.summary(),
            "+ backend_clusters/c, - backend_clusters/a, ~ backend_clusters/b"
        );
        assert!(ConfigDiff::between(&new, &new).unwrap().is_empty());
    }
}
