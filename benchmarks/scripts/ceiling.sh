#!/usr/bin/env bash
# Table (c): the proxy ceiling with the built-in responder (not Kafka):
# sluice (one shard) vs `sluice-bench relay` (a plain byte relay, one
# executor) vs the tool straight to the responder. See usage().
set -euo pipefail
SCRIPT_NAME=ceiling
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/ceiling.sh [OPTIONS]

sluice-bench responder (not Kafka) on CPU 0; sluice (--shards 1) and
`sluice-bench relay` (1 executor) on CPU 1; sluice-bench on CPU 0. Two
responders run: one advertises 127.0.0.1 (direct and sluice use it), one
advertises 127.0.0.2, where the relay listens on the same port, so every
connection of the relay target goes through the relay. Workloads, each run
with `compare` over direct, sluice, relay (interleaved rounds):

  produce-1mib   produce, 64 KiB records x 16 = 1 MiB requests,
                 2 connections x 4 in flight
  produce-16kib  produce, 1 KiB records x 16 = 16 KiB requests,
                 4 connections x 8 in flight
  ping           ApiVersions, 4 connections x 32 pipelined
  consume        Fetch, one in flight on one connection, each answered
                 with 6 partitions x 1 MiB of record batches

Prints a Markdown table (MB/s, requests/s, ratio to relay, p99, proxy CPU
s/GB and how busy the proxy's core was) and writes <workload>.json,
meta.json, table.md, summary.json and logs to the results dir.

Options:
  --rounds N          Interleaved rounds (default 5)
  --duration S        Measured seconds per run (default 3)
  --warmup S          Warm-up seconds per run (default 1)
  --results-dir DIR   Default .sluice-cache/bench/ceiling-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help

Environment: SLUICE_BENCH_CPU_TOOL/_PROXY/_RESPONDER (default 0/1/0),
SLUICE_BENCH_QUIET_LOAD, SLUICE_BENCH_QUIET_WAIT.
EOF
}

ROUNDS=5 DURATION=3 WARMUP=1 RESULTS=""
table_option() { rounds_option "$@"; }
parse_options "$@"
prepare_run
start_relay_targets "$RESULTS/sluice.yaml"

wait_quiet
write_meta "{\"rounds\": $ROUNDS, \"duration\": $DURATION, \"warmup\": $WARMUP}"
run() {
  local name="$1"
  shift
  log "compare $name"
  bench compare --rounds "$ROUNDS" --pause 0.5 -q "${TARGET_ARGS[@]}" --json "$RESULTS/$name.json" \
    "$@" --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/$name.txt"
}
run produce-1mib produce --topic bench --record-size 65536 --records-per-batch 16 \
  --connections 2 --pipeline 4
run produce-16kib produce --topic bench --record-size 1024 --records-per-batch 16 \
  --connections 4 --pipeline 8
run ping ping --connections 4 --pipeline 32
run consume consume --topic bench
python3 "$TABLES_PY" ceiling "$RESULTS"
log "results in $RESULTS"
