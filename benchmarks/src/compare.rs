//! `compare`: one workload against several targets, interleaved round by
//! round (A, B, A, B...) so drift on a shared machine (page cache, thermal,
//! other builds) spreads over every target instead of favouring one. For
//! each figure: median and min-max over rounds, and the ratio of medians to
//! the first target. A target given with a pid also gets the CPU seconds
//! its process spent per GB the workload moved: the gateway's efficiency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cli::{CompareArgs, CompareWorkload, Target, TimingArgs};
use crate::error::BenchError;
use crate::kafka::tls;
use crate::report::{self, row, Summary, TOOL};
use crate::workload::{consume, handshakes, ping, produce, Measured, RunSetup};
use crate::{add_notes, placement, procfs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundResult {
    pub summary: Summary,
    pub target_cpu_seconds: Option<f64>,
    pub target_cpu_s_per_gb: Option<f64>,
    pub tool_cpu_s_per_gb: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Median divided by the first target's median.
    pub ratio_to_first: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub name: String,
    pub address: String,
    pub pid: Option<u32>,
    pub rounds: Vec<RoundResult>,
    pub figures: BTreeMap<String, Figure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    pub tool: String,
    pub version: String,
    pub workload: String,
    pub rounds: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub targets: Vec<TargetReport>,
}

type Extract = fn(&RoundResult) -> Option<f64>;

/// (JSON key, table label, value of one round), in table order.
pub const FIGURES: &[(&str, &str, Extract)] = &[
    ("mb_per_sec", "MB/s", |r| Some(r.summary.mb_per_sec)),
    ("records_per_sec", "records/s", |r| {
        Some(r.summary.records_per_sec)
    }),
    ("requests_per_sec", "requests/s", |r| {
        Some(r.summary.requests_per_sec)
    }),
    ("latency_p50_ms", "p50 ms", |r| {
        r.summary.latency_ms.as_ref().map(|p| p.p50)
    }),
    ("latency_p99_ms", "p99 ms", |r| {
        r.summary.latency_ms.as_ref().map(|p| p.p99)
    }),
    ("latency_p999_ms", "p99.9 ms", |r| {
        r.summary.latency_ms.as_ref().map(|p| p.p999)
    }),
    ("errors", "errors", |r| Some(r.summary.errors as f64)),
    ("target_cpu_seconds", "target CPU s", |r| {
        r.target_cpu_seconds
    }),
    ("target_cpu_s_per_gb", "target CPU s/GB", |r| {
        r.target_cpu_s_per_gb
    }),
    ("tool_cpu_seconds", "tool CPU s", |r| {
        r.summary.tool_cpu_seconds
    }),
    ("tool_cpu_s_per_gb", "tool CPU s/GB", |r| {
        r.tool_cpu_s_per_gb
    }),
];

pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

pub fn ratio(value: f64, baseline: f64) -> Option<f64> {
    (baseline != 0.0 && baseline.is_finite()).then(|| value / baseline)
}

/// Median, min and max of the rounds that have the figure.
pub fn figure(values: &[f64]) -> Option<Figure> {
    let median = median(values)?;
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let min = finite.clone().fold(f64::INFINITY, f64::min);
    let max = finite.fold(f64::NEG_INFINITY, f64::max);
    Some(Figure {
        median,
        min,
        max,
        ratio_to_first: None,
    })
}

fn workload_parts(workload: &CompareWorkload) -> (&'static str, &TimingArgs) {
    match workload {
        CompareWorkload::Produce(a) => ("produce", &a.timing),
        CompareWorkload::Consume(a) => ("consume", &a.timing),
        CompareWorkload::Ping(a) => ("ping", &a.timing),
        CompareWorkload::Handshakes(a) => ("handshakes", &a.timing),
    }
}

fn run_workload(
    workload: &CompareWorkload,
    bootstrap: &str,
    setup: &RunSetup,
) -> Result<Measured, BenchError> {
    match workload {
        CompareWorkload::Produce(a) => produce::run(bootstrap, a, setup),
        CompareWorkload::Consume(a) => consume::run(bootstrap, a, setup),
        CompareWorkload::Ping(a) => ping::run(bootstrap, a, setup),
        CompareWorkload::Handshakes(a) => handshakes::run(bootstrap, a, setup),
    }
}

pub fn run(args: &CompareArgs) -> Result<(), BenchError> {
    let plan = placement::plan_from_args(&args.placement)?;
    let (name, timing) = workload_parts(&args.workload);
    let resume = !matches!(args.workload, CompareWorkload::Handshakes(_));
    let client = tls::from_args(&args.tls, resume)?;
    if client.is_none() && args.targets.iter().any(|t| t.tls) {
        return Err(BenchError::Usage(
            "a target is marked tls but --tls-ca is missing".to_string(),
        ));
    }
    let all_tls = !args.targets.iter().any(|t| t.tls);
    let mut results: Vec<Vec<RoundResult>> = vec![Vec::new(); args.targets.len()];
    for round in 1..=args.rounds {
        for (i, target) in args.targets.iter().enumerate() {
            if round > 1 || i > 0 {
                std::thread::sleep(args.pause);
            }
            let setup = RunSetup {
                label: format!("{name} [{} round {round}/{}]", target.name, args.rounds),
                plan: plan.clone(),
                quiet: args.output.quiet,
                warmup: timing.warmup,
                duration: timing.duration,
                pids: target.pid.into_iter().collect(),
            };
            tls::set_current(if target.tls || all_tls {
                client.clone()
            } else {
                None
            });
            let measured = run_workload(&args.workload, &target.addr, &setup)?;
            let result = round_result(name, target, &setup, &measured);
            if !args.output.quiet {
                eprintln!(
                    "sluice-bench compare: {} round {round}: {:.3} MB/s, {} requests/s, {} errors",
                    target.name,
                    result.summary.mb_per_sec,
                    crate::stats::format_count(result.summary.requests_per_sec),
                    result.summary.errors
                );
            }
            results[i].push(result);
        }
    }
    let report = build_report(name, args, timing, results);
    print_report(&report);
    if let Some(path) = &args.output.json {
        report::write_json(path, &report)?;
    }
    Ok(())
}

fn round_result(name: &str, target: &Target, setup: &RunSetup, measured: &Measured) -> RoundResult {
    let mut summary = Summary::new(name, &target.addr, setup, measured);
    add_notes(&mut summary);
    let target_cpu = measured.cpu.pid_seconds.first().copied().flatten();
    let bytes = summary.bytes;
    RoundResult {
        target_cpu_seconds: target_cpu,
        target_cpu_s_per_gb: target_cpu.and_then(|c| procfs::cpu_seconds_per_gb(c, bytes)),
        tool_cpu_s_per_gb: summary
            .tool_cpu_seconds
            .and_then(|c| procfs::cpu_seconds_per_gb(c, bytes)),
        summary,
    }
}

pub fn build_report(
    name: &str,
    args: &CompareArgs,
    timing: &TimingArgs,
    results: Vec<Vec<RoundResult>>,
) -> CompareReport {
    let mut targets: Vec<TargetReport> = args
        .targets
        .iter()
        .zip(results)
        .map(|(target, rounds)| {
            let figures = FIGURES
                .iter()
                .filter_map(|(key, _, extract)| {
                    let values: Vec<f64> = rounds.iter().filter_map(extract).collect();
                    figure(&values).map(|f| (key.to_string(), f))
                })
                .collect();
            TargetReport {
                name: target.name.clone(),
                address: target.addr.clone(),
                pid: target.pid,
                rounds,
                figures,
            }
        })
        .collect();
    set_ratios(&mut targets);
    CompareReport {
        tool: TOOL.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        workload: name.to_string(),
        rounds: args.rounds,
        duration_s: timing.duration.as_secs_f64(),
        warmup_s: timing.warmup.as_secs_f64(),
        targets,
    }
}

pub fn set_ratios(targets: &mut [TargetReport]) {
    let Some(first) = targets.first() else {
        return;
    };
    let baseline: BTreeMap<String, f64> = first
        .figures
        .iter()
        .map(|(k, f)| (k.clone(), f.median))
        .collect();
    for target in targets.iter_mut() {
        for (key, figure) in target.figures.iter_mut() {
            figure.ratio_to_first = baseline.get(key).and_then(|b| ratio(figure.median, *b));
        }
    }
}

fn print_report(report: &CompareReport) {
    let names: Vec<&str> = report.targets.iter().map(|t| t.name.as_str()).collect();
    println!(
        "{} compare {}: {} round(s) of {:.1} s (after {:.1} s warmup), interleaved {}",
        report.tool,
        report.workload,
        report.rounds,
        report.duration_s,
        report.warmup_s,
        names.join(", ")
    );
    let baseline = names.first().copied().unwrap_or("first");
    println!(
        "  {:<18} {:<12} {:>14} {:>30} {:>10}",
        "figure",
        "target",
        "median",
        "min .. max",
        format!("vs {baseline}")
    );
    for (key, label, _) in FIGURES {
        let mut first_line = true;
        for target in &report.targets {
            let Some(f) = target.figures.get(*key) else {
                continue;
            };
            let shown = if first_line { *label } else { "" };
            first_line = false;
            let ratio = f
                .ratio_to_first
                .map_or("-".to_string(), |r| format!("{r:.3}"));
            let range = format!("{} .. {}", number(f.min), number(f.max));
            println!(
                "  {:<18} {:<12} {:>14} {:>30} {:>10}",
                shown,
                target.name,
                number(f.median),
                range,
                ratio
            );
        }
    }
    for target in &report.targets {
        for round in &target.rounds {
            for note in &round.summary.notes {
                row(&target.name, &format!("note: {note}"));
            }
        }
    }
}

fn number(v: f64) -> String {
    if v.abs() >= 1000.0 {
        crate::stats::format_count(v)
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn figure_has_median_and_range() {
        let f = figure(&[10.0, 30.0, 20.0, 50.0, 40.0]).unwrap();
        assert_eq!((f.median, f.min, f.max), (30.0, 10.0, 50.0));
    }

    #[test]
    fn ratios_are_of_medians_to_the_first_target() {
        let target = |name: &str, median: f64| TargetReport {
            name: name.to_string(),
            address: "127.0.0.1:1".to_string(),
            pid: None,
            rounds: Vec::new(),
            figures: BTreeMap::from([(
                "mb_per_sec".to_string(),
                Figure {
                    median,
                    min: median,
                    max: median,
                    ratio_to_first: None,
                },
            )]),
        };
        let mut targets = vec![target("direct", 400.0), target("sluice", 300.0)];
        set_ratios(&mut targets);
        assert_eq!(targets[0].figures["mb_per_sec"].ratio_to_first, Some(1.0));
        assert_eq!(targets[1].figures["mb_per_sec"].ratio_to_first, Some(0.75));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
