//! The control plane's data directory: database, CA, server certificate
//! and admin token, created on first start.

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::secret::AdminToken;

/// Paths inside the data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates the directory (0700: it holds the CA key) if it is missing.
    pub fn create(root: &Path) -> io::Result<Self> {
        DirBuilder::new().recursive(true).mode(0o700).create(root)?;
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    /// An existing directory, for commands that must not create one (a typo
    /// in `issue-cert --data-dir` must not mint a second CA).
    pub fn open(root: &Path) -> io::Result<Self> {
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "data directory {} does not exist; start `sluice-cp serve --data-dir {}` once to create it",
                    root.display(),
                    root.display()
                ),
            ));
        }
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("sluice-cp.sqlite3")
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("ca.pem")
    }

    pub fn ca_key(&self) -> PathBuf {
        self.root.join("ca.key")
    }

    pub fn server_cert(&self) -> PathBuf {
        self.root.join("server.pem")
    }

    pub fn server_key(&self) -> PathBuf {
        self.root.join("server.key")
    }

    pub fn admin_token(&self) -> PathBuf {
        self.root.join("admin-token")
    }

    /// The stored admin token, if one was generated before.
    pub fn load_token(&self) -> io::Result<Option<AdminToken>> {
        let path = self.admin_token();
        match std::fs::read_to_string(&path) {
            Ok(text) => AdminToken::new(text).map(Some).map_err(|message| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {message}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Writes a file readable by its owner only (keys, the token), atomically:
/// a crash leaves the old file or the new one, never half of one.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    cp_sync::files::write_atomic(path, contents, 0o600)
}

/// Writes a file anyone may read (certificates), atomically.
pub fn write_public(path: &Path, contents: &[u8]) -> io::Result<()> {
    cp_sync::files::write_atomic(path, contents, 0o644)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn private_files_are_owner_only_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn open_refuses_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let error = DataDir::open(&dir.path().join("nope")).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }
}
