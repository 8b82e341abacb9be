//! CPU time and resident memory of a process, from /proc: how much the
//! gateway (or this tool) spent on the bytes a run moved.

use std::fs;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("unexpected format of {what}: {reason}")]
    Format { what: String, reason: String },
}

/// utime + stime (fields 14 and 15) in clock ticks. The command name (field
/// 2) is in parentheses and may itself contain spaces and ')', so fields
/// are counted from the last ')'.
pub fn parse_stat_cpu_ticks(stat: &str) -> Result<u64, ProcError> {
    let bad = |reason: &str| ProcError::Format {
        what: "/proc/PID/stat".to_string(),
        reason: reason.to_string(),
    };
    let close = stat
        .rfind(')')
        .ok_or_else(|| bad("no ')' after the command name"))?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // fields[0] is field 3 (state), so field n is fields[n - 3].
    let tick = |n: usize| -> Result<u64, ProcError> {
        fields
            .get(n - 3)
            .ok_or_else(|| bad("too few fields"))?
            .parse::<u64>()
            .map_err(|_| bad(&format!("field {n} is not a number")))
    };
    Ok(tick(14)? + tick(15)?)
}

/// VmRSS from /proc/PID/status, in bytes.
pub fn parse_vm_rss(status: &str) -> Result<u64, ProcError> {
    let bad = |reason: &str| ProcError::Format {
        what: "/proc/PID/status".to_string(),
        reason: reason.to_string(),
    };
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or_else(|| bad("no VmRSS line (is it a kernel thread?)"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let kib: u64 = parts
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad("VmRSS is not a number"))?;
    match parts.next() {
        Some("kB") => Ok(kib * 1024),
        other => Err(bad(&format!("VmRSS unit {other:?}, expected kB"))),
    }
}

fn read(path: String) -> Result<String, ProcError> {
    fs::read_to_string(&path).map_err(|e| ProcError::Read {
        path,
        reason: e.to_string(),
    })
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions; it only reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// User plus system CPU seconds of a whole process (all its threads, the
/// exited ones included).
pub fn cpu_seconds(pid: u32) -> Result<f64, ProcError> {
    let ticks = parse_stat_cpu_ticks(&read(format!("/proc/{pid}/stat"))?)?;
    Ok(ticks as f64 / ticks_per_second())
}

pub fn own_cpu_seconds() -> Result<f64, ProcError> {
    cpu_seconds(std::process::id())
}

pub fn rss_bytes(pid: u32) -> Result<u64, ProcError> {
    parse_vm_rss(&read(format!("/proc/{pid}/status"))?)
}

/// CPU seconds spent per 10^9 bytes moved; `None` when nothing moved.
pub fn cpu_seconds_per_gb(cpu_seconds: f64, bytes: u64) -> Option<f64> {
    (bytes > 0).then(|| cpu_seconds / (bytes as f64 / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (sluice shard) 0) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
        250 75 0 0 20 0 3 0 98765 123456789 2345 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_with_spaces_and_parens_in_the_command_name() {
        assert_eq!(parse_stat_cpu_ticks(STAT), Ok(325));
    }

    #[test]
    fn stat_that_is_cut_short_or_garbled_is_an_error() {
        assert!(parse_stat_cpu_ticks("4242 (x) S 1 2 3").is_err());
        assert!(parse_stat_cpu_ticks("no parens at all").is_err());
        let garbled = STAT.replace(" 250 ", " x ");
        assert!(parse_stat_cpu_ticks(&garbled).is_err());
    }

    #[test]
    fn vm_rss_in_bytes() {
        let status = "Name:\tsluice\nVmPeak:\t 9000 kB\nVmRSS:\t   20480 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Ok(20480 * 1024));
        assert!(parse_vm_rss("Name:\tkthreadd\n").is_err());
    }

    #[test]
    fn own_process_is_readable() {
        assert!(own_cpu_seconds().unwrap() >= 0.0);
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn cpu_per_gigabyte() {
        assert_eq!(cpu_seconds_per_gb(1.5, 3_000_000_000), Some(0.5));
        assert_eq!(cpu_seconds_per_gb(2.0, 500_000_000), Some(4.0));
        assert_eq!(cpu_seconds_per_gb(1.0, 0), None);
    }
}
