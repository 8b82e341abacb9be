//! The last configuration this node accepted from the control plane, kept
//! on disk so a restart while the control plane is down still has one.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{parse_config_str, Config, ConfigFormat};

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u64,
    control_plane: String,
    config: serde_json::Value,
}

/// Writes the cache atomically (temporary file, fsync, rename): a crash
/// leaves the previous cache or the new one. Owner-only, because a
/// configuration may carry inline private keys.
pub(crate) fn write(path: &Path, version: u64, url: &str, config: &Config) -> std::io::Result<()> {
    let file = CacheFile {
        version,
        control_plane: url.to_owned(),
        config: serde_json::to_value(config)?,
    };
    let text = serde_json::to_vec_pretty(&file)?;
    crate::files::write_atomic(path, &text, 0o600)
}

/// Reads and validates the cache with the same code as any configuration
/// document: (version, configuration).
pub(crate) fn read(path: &Path) -> Result<(u64, Config), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let file: CacheFile =
        serde_json::from_str(&text).map_err(|e| format!("not a sluice cache file: {e}"))?;
    let config = parse_config_str(&file.config.to_string(), ConfigFormat::Json)
        .map_err(|errors| errors.to_string().replace('\n', "; "))?;
    Ok((file.version, config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trips_and_is_owner_only() {
        let dir = std::env::temp_dir().join(format!("sluice-cache-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cache.json");
        let config = parse_config_str(
            "backend_clusters: [{name: a, bootstrap_servers: [\"a:9092\"]}]",
            ConfigFormat::Yaml,
        )
        .unwrap();
        write(&path, 7, "https://cp:9443", &config).unwrap();
        write(&path, 8, "https://cp:9443", &config).unwrap();
        assert_eq!(read(&path).unwrap(), (8, config));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(
            &path,
            "{\"version\": 1, \"control_plane\": \"x\", \"config\": {\"listeners\": 3}}",
        )
        .unwrap();
        assert!(read(&path).unwrap_err().contains("listeners"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
