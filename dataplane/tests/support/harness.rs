//! Trials that share one expensive environment (Kafka clusters, a gateway):
//! started once if any selected trial needs it, stopped after the last one.
//! Trials run one at a time, in the order given.

use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};

pub type TestFn<E> = fn(&E);

pub fn run<E: Send + Sync + 'static>(
    tests: &[(&'static str, TestFn<E>)],
    start: impl FnOnce() -> E,
) -> ! {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let selected = tests.iter().any(|(name, _)| is_selected(&args, name));
    if args.list || !selected {
        let trials = tests
            .iter()
            .map(|(name, _)| Trial::test(*name, || Ok(())))
            .collect();
        libtest_mimic::run(&args, trials).exit();
    }
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
    let conclusion = libtest_mimic::run(&args, trials);
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
