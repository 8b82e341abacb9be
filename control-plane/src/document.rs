//! Entity kinds and edits on a configuration document. Edits work on the
//! JSON form of the whole configuration, which is then parsed and validated
//! by `cp_sync` exactly like a document a user sent, so every error is
//! reported with its path in the resulting configuration.

use cp_sync::config::{parse_config_str, Config, ConfigErrors, ConfigFormat};
use serde_json::{Map, Value};

/// The three entity lists of a configuration document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    BackendClusters,
    VirtualClusters,
    Listeners,
}

impl Kind {
    pub const ALL: [Kind; 3] = [
        Kind::BackendClusters,
        Kind::VirtualClusters,
        Kind::Listeners,
    ];

    /// The list's key in the document, which is also its URL segment.
    pub fn key(self) -> &'static str {
        match self {
            Kind::BackendClusters => "backend_clusters",
            Kind::VirtualClusters => "virtual_clusters",
            Kind::Listeners => "listeners",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::BackendClusters => 0,
            Kind::VirtualClusters => 1,
            Kind::Listeners => 2,
        }
    }

    /// For messages: "backend cluster".
    pub fn singular(self) -> &'static str {
        match self {
            Kind::BackendClusters => "backend cluster",
            Kind::VirtualClusters => "virtual cluster",
            Kind::Listeners => "listener",
        }
    }

    /// The entities of this kind, as JSON, in document order.
    pub fn entities(self, config: &Config) -> Result<Vec<Value>, serde_json::Error> {
        let values = match self {
            Kind::BackendClusters => serde_json::to_value(&config.backend_clusters)?,
            Kind::VirtualClusters => serde_json::to_value(&config.virtual_clusters)?,
            Kind::Listeners => serde_json::to_value(&config.listeners)?,
        };
        Ok(match values {
            Value::Array(items) => items,
            _ => Vec::new(),
        })
    }
}

/// The `name` of an entity's JSON, if it has a string one.
pub fn name_of(entity: &Value) -> Option<&str> {
    entity.get("name").and_then(Value::as_str)
}

/// Why an edit cannot be made, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    NotAnObject,
    NotFound,
    Exists,
    NameMismatch { body: String },
}

/// A configuration as JSON entity lists that edits apply to.
pub struct Document {
    /// Indexed by [`Kind::index`].
    lists: [Vec<Value>; 3],
}

impl Document {
    pub fn from_config(config: &Config) -> Result<Document, serde_json::Error> {
        Ok(Document {
            lists: [
                Kind::BackendClusters.entities(config)?,
                Kind::VirtualClusters.entities(config)?,
                Kind::Listeners.entities(config)?,
            ],
        })
    }

    fn list(&mut self, kind: Kind) -> &mut Vec<Value> {
        &mut self.lists[kind.index()]
    }

    fn position(&mut self, kind: Kind, name: &str) -> Option<usize> {
        self.list(kind)
            .iter()
            .position(|entity| name_of(entity) == Some(name))
    }

    /// Appends a new entity. An entity without a name is appended too, so
    /// validation reports the missing name with its path.
    pub fn create(&mut self, kind: Kind, entity: Value) -> Result<(), EditError> {
        if !entity.is_object() {
            return Err(EditError::NotAnObject);
        }
        if let Some(name) = name_of(&entity).map(str::to_owned) {
            if self.position(kind, &name).is_some() {
                return Err(EditError::Exists);
            }
        }
        self.list(kind).push(entity);
        Ok(())
    }

    /// Replaces the entity called `name`, or appends it when there is none
    /// (returns whether it was created). The body may omit `name`; a
    /// different one is refused rather than treated as a rename.
    pub fn put(&mut self, kind: Kind, name: &str, mut entity: Value) -> Result<bool, EditError> {
        let Some(object) = entity.as_object_mut() else {
            return Err(EditError::NotAnObject);
        };
        match object.get("name") {
            None => {
                object.insert("name".into(), Value::String(name.to_owned()));
            }
            Some(Value::String(body)) if body == name => {}
            Some(other) => {
                let body = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned);
                return Err(EditError::NameMismatch { body });
            }
        }
        match self.position(kind, name) {
            Some(index) => {
                self.list(kind)[index] = entity;
                Ok(false)
            }
            None => {
                self.list(kind).push(entity);
                Ok(true)
            }
        }
    }

    pub fn delete(&mut self, kind: Kind, name: &str) -> Result<(), EditError> {
        let index = self.position(kind, name).ok_or(EditError::NotFound)?;
        self.list(kind).remove(index);
        Ok(())
    }

    /// Parses and validates the edited document with the data plane's code.
    pub fn into_config(self) -> Result<Config, ConfigErrors> {
        let mut root = Map::new();
        for (kind, list) in Kind::ALL.into_iter().zip(self.lists) {
            root.insert(kind.key().into(), Value::Array(list));
        }
        let text = serde_json::to_string(&Value::Object(root))
            .map_err(|e| ConfigErrors::single("", format!("cannot encode document: {e}")))?;
        parse_config_str(&text, ConfigFormat::Json)
    }
}

/// Checks a stored configuration again with today's rules (used before a
/// rollback: validation may have become stricter since it was stored).
pub fn revalidate(config: &Config) -> Result<Config, ConfigErrors> {
    Document::from_config(config)
        .map_err(|e| ConfigErrors::single("", format!("cannot encode document: {e}")))?
        .into_config()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Config {
        let text = r#"
backend_clusters:
  - name: main
    bootstrap_servers: ["127.0.0.1:9092"]
virtual_clusters:
  - { name: team-a, dns_label: team-a, destination: { name: main } }
listeners:
  - name: plain
    ports: [19092, "19093-19096"]
    policies:
      - type: forward_to_virtual_cluster
        config: { type: port_mapping, destination: { name: team-a }, advertised_host: 127.0.0.1 }
"#;
        parse_config_str(text, ConfigFormat::Yaml).unwrap()
    }

    #[test]
    fn a_config_survives_the_json_round_trip() {
        let config = sample();
        assert_eq!(revalidate(&config).unwrap(), config);
    }

    #[test]
    fn edits_are_validated_as_a_whole() {
        let mut document = Document::from_config(&sample()).unwrap();
        document.delete(Kind::BackendClusters, "main").unwrap();
        let errors = document.into_config().unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("virtual_clusters[0].destination.name"),
            "{text}"
        );
    }

    #[test]
    fn put_checks_names_and_reports_creation() {
        let mut document = Document::from_config(&sample()).unwrap();
        let backend = json!({"bootstrap_servers": ["b:9092"]});
        assert_eq!(
            document.put(Kind::BackendClusters, "other", backend),
            Ok(true)
        );
        let renamed = json!({"name": "x", "bootstrap_servers": ["b:9092"]});
        assert_eq!(
            document.put(Kind::BackendClusters, "main", renamed),
            Err(EditError::NameMismatch { body: "x".into() })
        );
        let again = json!({"name": "main", "bootstrap_servers": ["c:9092"]});
        assert_eq!(
            document.put(Kind::BackendClusters, "main", again),
            Ok(false)
        );
        let duplicate = json!({"name": "main", "bootstrap_servers": ["c:9092"]});
        assert_eq!(
            document.create(Kind::BackendClusters, duplicate),
            Err(EditError::Exists)
        );
        let config = document.into_config().unwrap();
        assert_eq!(config.backend_clusters.len(), 2);
        assert_eq!(config.backend_clusters[0].bootstrap_servers, ["c:9092"]);
    }
}
