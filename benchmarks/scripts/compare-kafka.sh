#!/usr/bin/env bash
# Table (b): sluice-bench `compare` against a real 1-broker Kafka, directly,
# through sluice and through the peer proxies: produce 1 KiB records, then
# consume, interleaved rounds. See usage().
set -euo pipefail
SCRIPT_NAME=compare-kafka
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/compare-kafka.sh [OPTIONS]

Starts a 1-broker Kafka (CPU 0), sluice with one shard, Kroxylicious,
kafka-proxy and a plain TCP relay (`sluice-bench relay` on 127.0.0.2 to a
second Kafka listener that advertises 127.0.0.2: what any proxy's extra hop
costs; each pinned to CPU 1), then runs `sluice-bench compare` (CPU 0) over
the targets direct, sluice, kroxylicious, kafka-proxy, relay: produce 1 KiB
records (16 per request, 2 connections x 5 in flight, acks=all) to a
6-partition topic, then consume a topic filled beforehand. Prints a Markdown
table (MB/s, ratio to direct, p50/p99, proxy CPU s/GB: median [min-max]) and
writes produce.json, consume.json, meta.json, table.md, summary.json and
logs to the results dir. Stops everything on exit.
A peer that cannot be installed here is left out with a warning, and the
table says why.

Options:
  --rounds N          Interleaved rounds (default 5)
  --duration S        Measured seconds per run (default 3)
  --warmup S          Warm-up seconds per run (default 1)
  --targets LIST      Comma list from direct,sluice,kroxylicious,kafka-proxy,
                      relay (default all five; direct is always first)
  --results-dir DIR   Default .sluice-cache/bench/compare-kafka-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help

Environment: SLUICE_BENCH_CPU_KAFKA/_TOOL/_PROXY (default 0/0/1),
SLUICE_BENCH_QUIET_LOAD (1.5), SLUICE_BENCH_QUIET_WAIT (1200 s), plus those
of deploy/kafka-local.sh and peers.sh.
EOF
}

ROUNDS=5 DURATION=3 WARMUP=1 TARGETS="direct,sluice,kroxylicious,kafka-proxy,relay" RESULTS=""
table_option() { kafka_targets_option "$@"; }
parse_options "$@"
prepare_run
start_kafka_targets "$TARGETS" bench-produce bench-consume

# The consume topic: ~600 MB written once, read again and again (rewind).
log "filling bench-consume"
bench produce --bootstrap "$KAFKA_BOOTSTRAP" --topic bench-consume --duration 4 --warmup 0 -q \
  >"$RESULTS/logs/fill.txt"

warm_up "${TARGET_ARGS[@]}"
wait_quiet
write_meta "{\"workload\": \"produce and consume\", \"rounds\": $ROUNDS, \"duration\": $DURATION, \"warmup\": $WARMUP}"
log "compare produce: ${TARGET_ARGS[*]}"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${TARGET_ARGS[@]}" --json "$RESULTS/produce.json" \
  produce --topic bench-produce --record-size 1024 --records-per-batch 16 --acks -1 \
  --connections 2 --pipeline 5 --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/produce.txt"
log "compare consume"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${TARGET_ARGS[@]}" --json "$RESULTS/consume.json" \
  consume --topic bench-consume --max-wait-ms 100 --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/consume.txt"
python3 "$TABLES_PY" compare-kafka "$RESULTS"
log "results in $RESULTS"
