//! File descriptors. Every client connection holds two (its socket and its
//! upstream socket), so the soft `RLIMIT_NOFILE` many systems start a
//! process with (1024) caps a node at a few hundred clients while the hard
//! limit allows far more. sluice raises its soft limit to the hard limit at
//! start, as a broker's packaging usually does for the JVM. The limit and
//! the count of open descriptors are read again when `/metrics` or
//! `/status` is asked for, never by a shard.

use rlimit::Resource;

/// The descriptor limit before and after raising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NofileLimit {
    pub soft_before: u64,
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft limit to the hard limit; never lowers it.
pub fn raise_nofile_limit() -> std::io::Result<NofileLimit> {
    let (soft_before, hard) = Resource::NOFILE.get()?;
    let soft = rlimit::increase_nofile_limit(hard)?;
    Ok(NofileLimit {
        soft_before,
        soft: soft.max(soft_before),
        hard,
    })
}

/// The soft and hard `RLIMIT_NOFILE` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nofile {
    pub soft: u64,
    pub hard: u64,
}

pub fn nofile_limit() -> std::io::Result<Nofile> {
    let (soft, hard) = Resource::NOFILE.get()?;
    Ok(Nofile { soft, hard })
}

/// Descriptors the process has open, by its entries in `/proc/self/fd`.
pub fn open_fds() -> std::io::Result<usize> {
    let entries = std::fs::read_dir("/proc/self/fd")?.count();
    // Reading the directory holds one descriptor of its own: not sluice's.
    Ok(entries.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let (_, hard) = Resource::NOFILE.get().unwrap();
        let lowered = hard.min(512);
        Resource::NOFILE.set(lowered, hard).unwrap();
        let limit = raise_nofile_limit().unwrap();
        assert_eq!(limit.soft_before, lowered);
        assert_eq!(limit.soft, hard);
        assert_eq!(Resource::NOFILE.get().unwrap(), (hard, hard));
    }

    #[test]
    fn open_descriptors_are_counted() {
        let files: Vec<std::fs::File> = (0..8)
            .map(|_| std::fs::File::open("/dev/null").unwrap())
            .collect();
        // Other tests open and close files meanwhile: only a lower bound holds.
        assert!(open_fds().unwrap() >= files.len());
        let limit = nofile_limit().unwrap();
        assert!(limit.soft <= limit.hard && limit.soft > 0);
    }
}
