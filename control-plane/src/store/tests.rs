use cp_sync::config::{parse_config_str, Config, ConfigFormat};

use super::*;

fn config(server: &str) -> Config {
    let text = format!("backend_clusters: [{{name: main, bootstrap_servers: [\"{server}\"]}}]");
    parse_config_str(&text, ConfigFormat::Yaml).unwrap()
}

fn propose(
    config: Config,
    always: bool,
) -> impl FnOnce(&VersionRecord) -> Result<Proposal, StoreError> {
    move |_| {
        Ok(Proposal {
            config,
            summary: "test".into(),
            always,
        })
    }
}

#[test]
fn versions_are_numbered_kept_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.current().unwrap().version, 0);
    let first = store.commit(propose(config("a:1"), false)).unwrap();
    assert_eq!((first.version, first.created), (1, true));
    let same = store.commit(propose(config("a:1"), false)).unwrap();
    assert_eq!((same.version, same.created), (1, false));
    let forced = store.commit(propose(config("a:1"), true)).unwrap();
    assert_eq!((forced.version, forced.created), (2, true));
    store.commit(propose(config("b:1"), false)).unwrap();
    drop(store);

    let store = Store::open(&path).unwrap();
    let current = store.current().unwrap();
    assert_eq!(current.version, 3);
    assert_eq!(current.config, config("b:1"));
    assert_eq!(store.version(1).unwrap().unwrap().config, config("a:1"));
    assert!(store.version(9).unwrap().is_none());
    let listed: Vec<u64> = store
        .versions()
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(listed, [1, 2, 3]);
}

#[test]
fn a_refused_change_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    store.commit(propose(config("a:1"), false)).unwrap();
    let refused: Result<Committed, StoreError> =
        store.commit(|_| Err(StoreError::Corrupt("no".into())));
    assert!(refused.is_err());
    assert_eq!(store.current().unwrap().version, 1);
    assert_eq!(store.versions().unwrap().len(), 1);
}

#[test]
fn nodes_keep_what_they_last_said() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let mut seen = NodeSeen {
        id: "n1".into(),
        hostname: Some("host-a".into()),
        applied_version: Some(3),
        ..NodeSeen::default()
    };
    store.node_seen(&seen).unwrap();
    seen.hostname = None;
    seen.errors = Some(vec![cp_sync::config::ConfigError::new("x", "bad")]);
    store.node_seen(&seen).unwrap();
    let nodes = store.nodes().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].hostname, "host-a");
    assert_eq!(nodes[0].applied_version, Some(3));
    assert_eq!(nodes[0].last_errors.len(), 1);
}
