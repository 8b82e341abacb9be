#!/usr/bin/env bash
# Builds every cargo-fuzz target of sluice-wire and runs each one for a
# bounded time: a short smoke run in CI, a longer search by hand.
#
#   dataplane/wire/fuzz/run.sh [seconds-per-target]     (default 3)
#
# The corpus starts from the frames sluice-wire's own tests build (valid
# messages of every version), so even a few seconds reach deep into every
# decoder. Corpus, crash artifacts, logs and build output all stay in
# git-ignored directories here (corpus/, artifacts/, target/).
set -euo pipefail

usage() { echo "usage: $0 [seconds-per-target]" >&2; exit 2; }
[[ $# -le 1 ]] || usage
seconds="${1:-3}"
[[ "$seconds" =~ ^[1-9][0-9]{0,5}$ ]] || usage

cd "$(dirname "${BASH_SOURCE[0]}")"

# cargo-fuzz passes nightly-only flags (sanitizers, -Z options); stable rustc
# accepts them with this, so no nightly toolchain has to be installed.
export RUSTC_BOOTSTRAP=1
# A slow input is a finding: libFuzzer reports it and saves it, well before
# the hard limit below ends a run that hangs outright.
per_input_timeout=25
hard_limit=$((seconds + 300))

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing; installing it from crates.io"
  cargo install cargo-fuzz --locked
fi

echo "seeding corpus/ from sluice-wire's tests"
SLUICE_FUZZ_SEEDS="$PWD/corpus" cargo test --manifest-path ../Cargo.toml --tests --quiet

echo "building the fuzz targets"
cargo fuzz build

mapfile -t targets < <(cargo fuzz list)
[[ ${#targets[@]} -gt 0 ]] || { echo "no fuzz targets found" >&2; exit 1; }

logs=target/fuzz-logs
mkdir -p "$logs"
failed=()
for target in "${targets[@]}"; do
  log="$logs/$target.log"
  mkdir -p "corpus/$target"
  if timeout --kill-after=10 "$hard_limit" \
    cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout="$per_input_timeout" \
    >"$log" 2>&1; then
    # libFuzzer's last line: "Done <runs> runs in <n> second(s)".
    printf 'fuzz %-26s ok: %s\n' "$target" "$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)"
  else
    echo "fuzz $target FAILED; the end of $PWD/$log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz targets that failed: ${failed[*]} (inputs that crash are in $PWD/artifacts/)" >&2
  exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s each without a finding"
