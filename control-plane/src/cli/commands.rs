//! The client commands: each one call to the admin API and a plain-text
//! rendering of its answer.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::client::{AdminClient, Verb};
use crate::diff::ConfigDiff;
use crate::store::{NodeRecord, VersionInfo};

/// The file's text and its content type: JSON for `.json`, YAML otherwise
/// (as `sluice run --config` decides).
fn read_document(file: &Path) -> anyhow::Result<(String, &'static str)> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
    };
    let is_json = file
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
    let content_type = if is_json {
        "application/json"
    } else {
        "application/yaml"
    };
    Ok((text, content_type))
}

fn put_config(client: &AdminClient, file: &Path, dry_run: bool) -> anyhow::Result<Value> {
    let (text, content_type) = read_document(file)?;
    let path = format!("/v1/config?dry_run={dry_run}");
    Ok(client.call(Verb::Put, &path, Some((content_type, text)))?)
}

fn diff_of(answer: &Value) -> anyhow::Result<ConfigDiff> {
    Ok(serde_json::from_value(
        answer.get("diff").cloned().unwrap_or_default(),
    )?)
}

fn version_of(answer: &Value) -> u64 {
    answer.get("version").and_then(Value::as_u64).unwrap_or(0)
}

pub(super) fn apply(client: &AdminClient, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let answer = put_config(client, file, dry_run)?;
    let diff = diff_of(&answer)?;
    let changed = answer
        .get("changed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let version = version_of(&answer);
    match (dry_run, changed) {
        (_, false) => println!("no changes; version {version} is current"),
        (true, true) => println!("dry run: applying would change version {version}:"),
        (false, true) => println!("stored as version {version}:"),
    }
    for line in diff.lines() {
        println!("  {line}");
    }
    Ok(())
}

pub(super) fn diff(client: &AdminClient, file: &Path) -> anyhow::Result<()> {
    let answer = put_config(client, file, true)?;
    let diff = diff_of(&answer)?;
    if diff.is_empty() {
        println!("no differences from version {}", version_of(&answer));
        return Ok(());
    }
    println!("differences from version {}:", version_of(&answer));
    for (kind, changes) in diff.kinds() {
        for name in &changes.added {
            println!("+ {}/{name}", kind.key());
        }
        for name in &changes.removed {
            println!("- {}/{name}", kind.key());
        }
        for changed in &changes.changed {
            println!("~ {}/{}", kind.key(), changed.name);
            for line in field_changes(&changed.old, &changed.new) {
                println!("    {line}");
            }
        }
    }
    Ok(())
}

/// `field: old -> new` for each top-level field that differs.
fn field_changes(old: &Value, new: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| old.get(*key) != new.get(*key))
        .map(|key| {
            let show =
                |v: Option<&Value>| v.map_or_else(|| "(absent)".to_owned(), Value::to_string);
            format!("{key}: {} -> {}", show(old.get(key)), show(new.get(key)))
        })
        .collect()
}

pub(super) fn get(client: &AdminClient, version: Option<u64>, json: bool) -> anyhow::Result<()> {
    let path = match version {
        Some(version) => format!("/v1/config?version={version}"),
        None => "/v1/config".to_owned(),
    };
    let answer = client.get(&path)?;
    let version = version_of(&answer);
    let config = answer.get("config").cloned().unwrap_or_default();
    // Through the typed schema, so fields come out in schema order.
    match serde_json::from_value::<cp_sync::config::Config>(config.clone()) {
        Ok(typed) => print_config(&typed, version, json),
        Err(_) => print_config(&config, version, json),
    }
}

fn print_config(config: &impl serde::Serialize, version: u64, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(config)?);
    } else {
        // A comment keeps the output a document that `apply` accepts as is.
        println!("# sluice-cp configuration version {version}");
        print!("{}", serde_yaml_ng::to_string(config)?);
    }
    Ok(())
}

pub(super) fn versions(client: &AdminClient) -> anyhow::Result<()> {
    let answer = client.get("/v1/versions")?;
    let current = answer.get("current").and_then(Value::as_u64);
    let versions: Vec<VersionInfo> =
        serde_json::from_value(answer.get("versions").cloned().unwrap_or_default())?;
    println!("{:<9} {:<21} SUMMARY", "VERSION", "CREATED");
    for info in versions {
        let marker = if Some(info.version) == current {
            "*"
        } else {
            " "
        };
        println!(
            "{marker}{:<8} {:<21} {}",
            info.version, info.created_at, info.summary
        );
    }
    Ok(())
}

pub(super) fn rollback(client: &AdminClient, version: u64) -> anyhow::Result<()> {
    let answer = client.post_json("/v1/rollback", &serde_json::json!({"version": version}))?;
    println!(
        "version {} now has the content of version {version}",
        version_of(&answer)
    );
    for line in diff_of(&answer)?.lines() {
        println!("  {line}");
    }
    Ok(())
}

pub(super) fn nodes(client: &AdminClient) -> anyhow::Result<()> {
    let answer = client.get("/v1/nodes")?;
    let nodes: Vec<NodeRecord> =
        serde_json::from_value(answer.get("nodes").cloned().unwrap_or_default())?;
    println!(
        "{:<20} {:<20} {:<9} {:<8} {:<21} ERRORS",
        "NODE", "HOSTNAME", "SLUICE", "APPLIED", "LAST SEEN"
    );
    for node in nodes {
        let applied = node
            .applied_version
            .map_or_else(|| "-".to_owned(), |v| v.to_string());
        println!(
            "{:<20} {:<20} {:<9} {:<8} {:<21} {}",
            node.id,
            node.hostname,
            node.sluice_version,
            applied,
            node.last_seen,
            node.last_errors.len()
        );
        for error in &node.last_errors {
            println!("    {error}");
        }
    }
    Ok(())
}
