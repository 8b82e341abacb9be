//! The locked-memory limit (`RLIMIT_MEMLOCK`) and shards that cannot start.
//!
//! Each shard runs a glommio executor on io_uring rings. glommio refuses to
//! start one when the soft limit is below 512 KiB, and older kernels charge
//! the rings themselves to the limit, so a host or container with a small
//! `ulimit -l` stops sluice before it binds anything. sluice raises its
//! soft limit to the hard limit at start (as it does for file descriptors)
//! and, when a shard still cannot start, says which limit is in the way
//! and how to raise it, next to the executor's own error.

use glommio::{BuilderErrorKind, GlommioError, ReactorErrorKind};
use rlimit::Resource;

/// The soft and hard limits before and after raising, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemlockLimit {
    pub soft_before: u64,
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft limit to the hard limit; never lowers it.
pub fn raise_memlock_limit() -> std::io::Result<MemlockLimit> {
    let (soft_before, hard) = Resource::MEMLOCK.get()?;
    if soft_before < hard {
        Resource::MEMLOCK.set(hard, hard)?;
    }
    let (soft, hard) = Resource::MEMLOCK.get()?;
    Ok(MemlockLimit {
        soft_before,
        soft,
        hard,
    })
}

/// What to tell the operator about shards whose threads ended with an
/// error: one line per shard, then what the errors call for, once.
pub fn shard_failures(failures: &[(usize, GlommioError<()>)]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut advice: Vec<String> = Vec::new();
    for (shard, error) in failures {
        let (line, hint) = shard_failure(*shard, error);
        lines.push(line);
        if let Some(hint) = hint.filter(|hint| !advice.contains(hint)) {
            advice.push(hint);
        }
    }
    lines.extend(advice);
    lines.join("\n")
}

/// A panic, or (any other error) an executor that could not start, with
/// advice when the error points at the host.
fn shard_failure(shard: usize, error: &GlommioError<()>) -> (String, Option<String>) {
    if let GlommioError::BuilderError(BuilderErrorKind::ThreadPanic(_)) = error {
        return (format!("shard {shard} panicked: {error}"), None);
    }
    let line = format!("shard {shard} could not start its io_uring executor: {error}");
    let errno = match error {
        GlommioError::IoError(e) => e.raw_os_error(),
        GlommioError::EnhancedIoError { source, .. } => source.raw_os_error(),
        _ => None,
    };
    // glommio turns its own memlock check into an I/O error on the way out
    // of the executor thread ("MemLockLimit(have/need)"): only its text says.
    let memlock = matches!(
        error,
        GlommioError::ReactorError(ReactorErrorKind::MemLockLimit(..))
    ) || error.to_string().contains("MemLockLimit");
    let hint = if memlock || errno == Some(libc::ENOMEM) {
        Some(memlock_advice(Resource::MEMLOCK.get().ok()))
    } else if matches!(errno, Some(libc::EPERM | libc::ENOSYS | libc::EACCES)) {
        Some(
            "io_uring looks disabled here: the sysctl kernel.io_uring_disabled must be 0 \
             (or 1 with sluice's group in kernel.io_uring_group), and a container's seccomp \
             profile must allow io_uring_setup, io_uring_enter and io_uring_register"
                .to_owned(),
        )
    } else {
        None
    };
    (line, hint)
}

/// Names the limit, its value and the usual ways of raising it.
fn memlock_advice(limit: Option<(u64, u64)>) -> String {
    let now = match limit {
        Some((soft, hard)) => format!("soft {}, hard {}", size(soft), size(hard)),
        None => "unreadable".to_owned(),
    };
    format!(
        "io_uring needs locked memory, and the locked-memory limit RLIMIT_MEMLOCK is {now}: \
         sluice needs at least 512 KiB, 64 MiB leaves room. Raise the hard limit for the \
         process that starts sluice: `ulimit -l 65536` (KiB) in its shell, `LimitMEMLOCK=64M` \
         (or infinity) in its systemd unit, `--ulimit memlock=67108864` for docker run, or a \
         memlock line in /etc/security/limits.conf"
    )
}

fn size(bytes: u64) -> String {
    match bytes {
        u64::MAX => "unlimited".to_owned(),
        b if b >= 1024 && b % 1024 == 0 => format!("{b} bytes ({} KiB)", b / 1024),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(code: i32) -> GlommioError<()> {
        GlommioError::IoError(std::io::Error::from_raw_os_error(code))
    }

    #[test]
    fn a_memlock_failure_names_the_limit_and_how_to_raise_it_once() {
        let reactor = GlommioError::ReactorError(ReactorErrorKind::MemLockLimit(65536, 524288));
        // As the executor thread hands it over.
        let converted = GlommioError::IoError(std::io::Error::other("MemLockLimit(65536/524288)"));
        let text = shard_failures(&[(3, reactor), (4, converted), (5, os(libc::ENOMEM))]);
        for part in [
            "shard 3 could not start its io_uring executor: ",
            "The memlock resource limit is too low: 65536",
            "shard 4 could not start its io_uring executor: IO error occurred: MemLockLimit(65536/524288)",
            "shard 5 could not start",
            "RLIMIT_MEMLOCK is soft ",
            "ulimit -l",
            "LimitMEMLOCK=",
        ] {
            assert!(text.contains(part), "{part:?} missing in {text}");
        }
        assert_eq!(text.matches("LimitMEMLOCK=").count(), 1, "{text}");
    }

    #[test]
    fn a_disabled_io_uring_is_not_blamed_on_memory() {
        let text = shard_failures(&[(0, os(libc::EPERM))]);
        assert!(text.contains("kernel.io_uring_disabled"), "{text}");
        assert!(!text.contains("LimitMEMLOCK"), "{text}");
        let other = shard_failures(&[(0, os(libc::EINVAL))]);
        assert_eq!(other.lines().count(), 1, "{other}");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(65536), "65536 bytes (64 KiB)");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(size(u64::MAX), "unlimited");
        let advice = memlock_advice(Some((65536, 1 << 20)));
        assert!(
            advice.contains("soft 65536 bytes (64 KiB), hard 1048576 bytes (1024 KiB)"),
            "{advice}"
        );
    }
}
