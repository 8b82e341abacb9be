//! Trials that share one expensive environment (Kafka clusters, a gateway),
//! for test binaries with `harness = false`: the environment is started
//! once if any selected trial needs it and stopped after the last one.
//! Trials run one at a time, in the order given.
//!
//! Where Kafka cannot run (see [`crate::kafka::availability`]) the trials
//! are reported ignored, after one line saying why; where a run requires
//! Kafka they fail instead.

use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::kafka::{self, Availability};

pub type TestFn<E> = fn(&E);

/// Runs `tests` against the environment `start` builds on a real Kafka,
/// then exits with libtest's status.
pub fn run_with_kafka<E: Send + Sync + 'static>(
    tests: &[(&'static str, TestFn<E>)],
    start: impl FnOnce() -> E,
) -> ! {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let selected = tests.iter().any(|(name, _)| is_selected(&args, name));
    if args.list || !selected {
        // Nothing will run: neither ask for Kafka nor start anything.
        let trials = tests
            .iter()
            .map(|(name, _)| Trial::test(*name, || Ok(())))
            .collect();
        libtest_mimic::run(&args, trials).exit();
    }
    match kafka::availability() {
        Availability::Ready => run_in(&args, tests, start),
        Availability::Skip(reason) => {
            kafka::print_skip_notice_once(&reason);
            let trials = tests.iter().map(|(name, _)| {
                Trial::ignorable_test(*name, || Ok(Completion::ignored_with("needs Kafka")))
            });
            libtest_mimic::run(&args, trials.collect()).exit();
        }
        Availability::Required(reason) => {
            let trials = tests.iter().map(|(name, _)| {
                let reason = reason.clone();
                Trial::test(*name, move || Err(Failed::from(reason)))
            });
            libtest_mimic::run(&args, trials.collect()).exit();
        }
    }
}

fn run_in<E: Send + Sync + 'static>(
    args: &Arguments,
    tests: &[(&'static str, TestFn<E>)],
    start: impl FnOnce() -> E,
) -> ! {
    let env = Arc::new(start());
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            let env = env.clone();
            Trial::test(name, move || {
                test(&env);
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(args, trials);
    // Stop clusters and gateways before exiting: exit() skips destructors.
    drop(env);
    conclusion.exit();
}

fn is_selected(args: &Arguments, name: &str) -> bool {
    match &args.filter {
        Some(filter) if args.exact => filter == name,
        Some(filter) => name.contains(filter.as_str()),
        None => true,
    }
}
