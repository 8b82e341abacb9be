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

Starts a 1-broker Kafka (CPU 0), sluice with one shard, Kroxylicious and
kafka-proxy (each pinned to CPU 1), then runs `sluice-bench compare` (CPU 0)
over the targets direct, sluice, kroxylicious, kafka-proxy: produce 1 KiB
records (16 per request, 2 connections x 5 in flight, acks=all) to a
6-partition topic, then consume a topic filled beforehand. Prints a Markdown
table (MB/s, ratio to direct, p50/p99, proxy CPU s/GB: median [min-max]) and
writes produce.json, consume.json, meta.json, table.md, summary.json and
logs to the results dir. Stops everything on exit.

Options:
  --rounds N          Interleaved rounds (default 5)
  --duration S        Measured seconds per run (default 3)
  --warmup S          Warm-up seconds per run (default 1)
  --targets LIST      Comma list from direct,sluice,kroxylicious,kafka-proxy
                      (default all four; direct is always first)
  --results-dir DIR   Default .sluice-cache/bench/compare-kafka-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help

Environment: SLUICE_BENCH_CPU_KAFKA/_TOOL/_PROXY (default 0/0/1),
SLUICE_BENCH_QUIET_LOAD (1.5), SLUICE_BENCH_QUIET_WAIT (1200 s), plus those
of deploy/kafka-local.sh and peers.sh.
EOF
}

ROUNDS=5 DURATION=3 WARMUP=1 TARGETS="direct,sluice,kroxylicious,kafka-proxy" RESULTS=""
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --no-wait) QUIET_WAIT=0; shift; continue ;;
  esac
  [[ $# -ge 2 ]] || die "option $1 needs a value"
  case "$1" in
    --rounds) ROUNDS="$2" ;;
    --duration) DURATION="$2" ;;
    --warmup) WARMUP="$2" ;;
    --targets) TARGETS="$2" ;;
    --results-dir) RESULTS="$2" ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift 2
done
RESULTS="$(realpath -m -- "${RESULTS:-$(default_results)}")"
mkdir -p "$RESULTS/logs"
install_traps
ensure_binaries

# Ports: Kafka 2, sluice 2, kroxylicious 2, kafka-proxy 1.
pick_ports 8
start_kafka "$RESULTS/kafka" "$PORT_BASE"
create_kafka_topic bench-produce 6
create_kafka_topic bench-consume 6

args=(--target "direct=$KAFKA_BOOTSTRAP")
for t in ${TARGETS//,/ }; do
  case "$t" in
    direct) ;;
    sluice)
      write_sluice_config "$RESULTS/sluice.yaml" "$KAFKA_BOOTSTRAP" $((PORT_BASE + 2)) 1
      start_sluice "$RESULTS/sluice.yaml"
      wait_ready "127.0.0.1:$((PORT_BASE + 2))" || die "no Metadata through sluice"
      args+=(--target "sluice=127.0.0.1:$((PORT_BASE + 2)),pid=$SLUICE_PID") ;;
    kroxylicious)
      start_peer kroxylicious "$KAFKA_BOOTSTRAP" $((PORT_BASE + 4))
      args+=(--target "kroxylicious=$PEER_ADDR,pid=$PEER_PID") ;;
    kafka-proxy)
      start_peer kafka-proxy "$KAFKA_BOOTSTRAP" $((PORT_BASE + 6))
      args+=(--target "kafka-proxy=$PEER_ADDR,pid=$PEER_PID") ;;
    *) die "unknown target $t" ;;
  esac
done

# The consume topic: ~600 MB written once, read again and again (rewind).
log "filling bench-consume"
bench produce --bootstrap "$KAFKA_BOOTSTRAP" --topic bench-consume --duration 4 --warmup 0 -q \
  >"$RESULTS/logs/fill.txt"

warm_up "${args[@]}"
wait_quiet
write_meta "{\"workload\": \"produce and consume\", \"rounds\": $ROUNDS, \"duration\": $DURATION, \"warmup\": $WARMUP}"
log "compare produce: ${args[*]}"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${args[@]}" --json "$RESULTS/produce.json" \
  produce --topic bench-produce --record-size 1024 --records-per-batch 16 --acks -1 \
  --connections 2 --pipeline 5 --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/produce.txt"
log "compare consume"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${args[@]}" --json "$RESULTS/consume.json" \
  consume --topic bench-consume --max-wait-ms 100 --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/consume.txt"
python3 "$TABLES_PY" compare-kafka "$RESULTS"
log "results in $RESULTS"
