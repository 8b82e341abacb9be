//! Which CPU each shard runs on: `--shards`, `--cpus` and `--no-pin`.

use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CpuError {
    #[error("invalid CPU list {list:?}: {reason}")]
    BadList { list: String, reason: String },
    #[error("CPU {cpu} is not available to this process (available: {available})")]
    Unavailable { cpu: usize, available: String },
    #[error("--shards {shards} needs {shards} CPUs to pin to but only {cpus} are given; list more CPUs or pass --no-pin")]
    TooFewCpus { shards: usize, cpus: usize },
    #[error("--shards must be at least 1")]
    ZeroShards,
}

/// Parses `0,2-3` into `[0, 2, 3]`, keeping the order given and refusing
/// duplicates (two shards on one CPU defeat the point of pinning).
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>, CpuError> {
    sluice_runtime::parse_cpu_list(list).map_err(|reason| CpuError::BadList {
        list: list.to_string(),
        reason,
    })
}

/// The CPU each shard is pinned to; `None` entries run unpinned.
pub fn plan_shards(
    shards: Option<usize>,
    cpus: Option<&[usize]>,
    no_pin: bool,
    available: &[usize],
) -> Result<Vec<Option<usize>>, CpuError> {
    if let Some(list) = cpus {
        if let Some(&cpu) = list.iter().find(|c| !available.contains(c)) {
            let available = format_cpus(available);
            return Err(CpuError::Unavailable { cpu, available });
        }
    }
    let pool: Vec<usize> = cpus
        .map(<[usize]>::to_vec)
        .unwrap_or_else(|| available.to_vec());
    let count = shards.unwrap_or(pool.len().max(1));
    if count == 0 {
        return Err(CpuError::ZeroShards);
    }
    if no_pin {
        return Ok(vec![None; count]);
    }
    if count > pool.len() {
        return Err(CpuError::TooFewCpus {
            shards: count,
            cpus: pool.len(),
        });
    }
    Ok(pool.into_iter().take(count).map(Some).collect())
}

/// CPUs the process may use and no shard is pinned to: room for the
/// non-shard threads.
pub fn spare_cpus(plan: &[Option<usize>], available: &[usize]) -> Vec<usize> {
    let used: BTreeSet<usize> = plan.iter().flatten().copied().collect();
    available
        .iter()
        .copied()
        .filter(|c| !used.contains(c))
        .collect()
}

pub use sluice_runtime::available_cpus;

/// Pins the calling (non-shard) thread to the spare CPUs, if there are any.
pub fn pin_current_thread_to(spare: &[usize]) {
    if let Some(&cpu) = spare.first() {
        core_affinity::set_for_current(core_affinity::CoreId { id: cpu });
    }
}

fn format_cpus(cpus: &[usize]) -> String {
    let list: Vec<String> = cpus.iter().map(usize::to_string).collect();
    list.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_ranges_in_order() {
        assert_eq!(parse_cpu_list("0,2-3").unwrap(), vec![0, 2, 3]);
        assert_eq!(parse_cpu_list("3, 1").unwrap(), vec![3, 1]);
    }

    #[test]
    fn rejects_bad_lists() {
        for list in ["", "a", "3-1", "1,1", "0-", "-2"] {
            assert!(parse_cpu_list(list).is_err(), "{list:?} accepted");
        }
    }

    #[test]
    fn default_is_one_pinned_shard_per_available_cpu() {
        let plan = plan_shards(None, None, false, &[0, 1]).unwrap();
        assert_eq!(plan, vec![Some(0), Some(1)]);
    }

    #[test]
    fn shard_i_goes_to_the_ith_listed_cpu() {
        let plan = plan_shards(Some(2), Some(&[3, 1, 2]), false, &[0, 1, 2, 3]).unwrap();
        assert_eq!(plan, vec![Some(3), Some(1)]);
        assert_eq!(spare_cpus(&plan, &[0, 1, 2, 3]), vec![0, 2]);
    }

    #[test]
    fn refuses_unavailable_cpus_and_too_many_pinned_shards() {
        let err = plan_shards(None, Some(&[7]), false, &[0, 1]).unwrap_err();
        assert!(matches!(err, CpuError::Unavailable { cpu: 7, .. }));
        let err = plan_shards(Some(3), None, false, &[0, 1]).unwrap_err();
        assert_eq!(err, CpuError::TooFewCpus { shards: 3, cpus: 2 });
        assert_eq!(
            plan_shards(Some(0), None, false, &[0]),
            Err(CpuError::ZeroShards)
        );
    }

    #[test]
    fn no_pin_allows_more_shards_than_cpus() {
        assert_eq!(
            plan_shards(Some(3), None, true, &[0]).unwrap(),
            vec![None; 3]
        );
    }
}
