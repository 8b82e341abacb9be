//! Which CPU each executor runs on, from `--cpus`, `--threads` and
//! `--no-pin`, and starting one glommio executor per planned CPU.

use std::future::Future;

use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};

use crate::cli::PlacementArgs;
use crate::error::BenchError;

/// glommio reserves memory for file I/O per executor; sluice-bench does
/// none, so keep it at the minimum and well inside RLIMIT_MEMLOCK.
const EXECUTOR_IO_MEMORY: usize = 64 * 1024;

/// The CPU of each executor; `None` runs unpinned.
pub fn plan(args: &PlacementArgs, available: &[usize]) -> Result<Vec<Option<usize>>, BenchError> {
    if let Some(list) = &args.cpus {
        if let Some(cpu) = list.0.iter().find(|c| !available.contains(c)) {
            return Err(BenchError::Usage(format!(
                "CPU {cpu} is not available to this process (available: {available:?})"
            )));
        }
        if args.no_pin {
            return Ok(vec![None; list.0.len()]);
        }
        return Ok(list.0.iter().copied().map(Some).collect());
    }
    let Some(threads) = args.threads else {
        return Ok(vec![None]);
    };
    if args.no_pin {
        return Ok(vec![None; threads]);
    }
    if threads > available.len() {
        return Err(BenchError::Usage(format!(
            "--threads {threads} needs {threads} CPUs to pin to but only {} are available; \
             pass --no-pin to run more executors than CPUs",
            available.len()
        )));
    }
    Ok(available.iter().take(threads).copied().map(Some).collect())
}

pub use sluice_runtime::available_cpus;

pub fn plan_from_args(args: &PlacementArgs) -> Result<Vec<Option<usize>>, BenchError> {
    plan(args, &available_cpus())
}

/// Starts one executor per planned CPU, each running `work(index)`.
pub fn spawn_executors<T, F, Fut>(
    plan: &[Option<usize>],
    name: &str,
    work: F,
) -> Result<Vec<ExecutorJoinHandle<T>>, BenchError>
where
    T: Send + 'static,
    F: FnOnce(usize) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = T> + 'static,
{
    plan.iter()
        .enumerate()
        .map(|(index, cpu)| {
            let placement = cpu.map(Placement::Fixed).unwrap_or(Placement::Unbound);
            let work = work.clone();
            LocalExecutorBuilder::new(placement)
                .name(&format!("{name}-{index}"))
                .io_memory(EXECUTOR_IO_MEMORY)
                .spawn(move || work(index))
                .map_err(|e| BenchError::Io(format!("cannot start executor {index}: {e}")))
        })
        .collect()
}

pub fn join_executors<T: Send + 'static>(
    handles: Vec<ExecutorJoinHandle<T>>,
) -> Result<Vec<T>, BenchError> {
    handles
        .into_iter()
        .enumerate()
        .map(|(index, handle)| {
            handle
                .join()
                .map_err(|e| BenchError::Io(format!("executor {index} failed: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::CpuList;

    fn args(cpus: Option<Vec<usize>>, threads: Option<usize>, no_pin: bool) -> PlacementArgs {
        PlacementArgs {
            cpus: cpus.map(CpuList),
            threads,
            no_pin,
        }
    }

    #[test]
    fn defaults_to_one_unpinned_executor() {
        assert_eq!(plan(&args(None, None, false), &[0, 1]).unwrap(), vec![None]);
    }

    #[test]
    fn cpus_pin_one_executor_each_in_order() {
        let planned = plan(&args(Some(vec![1, 0]), None, false), &[0, 1]).unwrap();
        assert_eq!(planned, vec![Some(1), Some(0)]);
        assert!(plan(&args(Some(vec![5]), None, false), &[0, 1]).is_err());
    }

    #[test]
    fn threads_pin_to_the_first_cpus_unless_told_not_to() {
        assert_eq!(
            plan(&args(None, Some(2), false), &[2, 3, 4]).unwrap(),
            vec![Some(2), Some(3)]
        );
        assert!(plan(&args(None, Some(3), false), &[0, 1]).is_err());
        assert_eq!(
            plan(&args(None, Some(3), true), &[0]).unwrap(),
            vec![None; 3]
        );
    }
}
