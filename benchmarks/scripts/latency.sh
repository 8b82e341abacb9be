#!/usr/bin/env bash
# Table (d): the p99 produce latency a proxy adds at half of the maximum
# rate. See usage().
set -euo pipefail
SCRIPT_NAME=latency
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/latency.sh [OPTIONS]

Starts a 1-broker Kafka (CPU 0), sluice (1 shard), Kroxylicious and
kafka-proxy (CPU 1). Finds the maximum produce rate straight to Kafka
(sluice-bench produce --rate max, 1 KiB records x 16 per request, acks=all,
median of --max-runs runs), then runs `compare produce --rate <50% of it>`
(open loop) over direct, sluice, kroxylicious, kafka-proxy in interleaved
rounds and reports p50/p99/p99.9 produce latency and the p99 each proxy adds
over direct. Writes max-rate-*.json, half-rate.json, meta.json, table.md,
summary.json and logs to the results dir.

Options:
  --rounds N          Interleaved rounds at half rate (default 5)
  --duration S        Measured seconds per run (default 4)
  --warmup S          Warm-up seconds per run (default 1)
  --max-runs N        Runs to find the maximum rate (default 3)
  --fraction F        Fraction of the maximum rate to run at (default 0.5)
  --targets LIST      As compare-kafka.sh (default all four; a peer that
                      cannot be installed here is left out, and the table
                      says why)
  --no-responder      Skip the second part: the same rate against the
                      sluice-bench responder (not Kafka), direct / sluice /
                      relay, which shows the latency of the hop itself
  --results-dir DIR   Default .sluice-cache/bench/latency-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help
EOF
}

ROUNDS=5 DURATION=4 WARMUP=1 MAX_RUNS=3 FRACTION=0.5 RESULTS="" RESPONDER=1
TARGETS="direct,sluice,kroxylicious,kafka-proxy"
table_flag() { [[ "$1" == --no-responder ]] && RESPONDER=0; }
table_option() {
  case "$1" in
    --max-runs) MAX_RUNS="$2" ;;
    --fraction) FRACTION="$2" ;;
    *) kafka_targets_option "$@" ;;
  esac
}
parse_options "$@"
prepare_run
start_kafka_targets "$TARGETS" bench-latency
produce=(produce --topic bench-latency --record-size 1024 --records-per-batch 16 --acks -1
  --connections 2 --pipeline 5)

warm_up "${TARGET_ARGS[@]}"
wait_quiet
rates=()
for ((i = 1; i <= MAX_RUNS; i++)); do
  bench "${produce[@]}" --bootstrap "$KAFKA_BOOTSTRAP" --duration "$DURATION" --warmup "$WARMUP" -q \
    --json "$RESULTS/max-rate-$i.json" >"$RESULTS/logs/max-rate-$i.txt"
  rates+=("$(jq .records_per_sec "$RESULTS/max-rate-$i.json")")
done
MAX_RATE="$(printf '%s\n' "${rates[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2)}')"
RATE="$(awk -v m="$MAX_RATE" -v f="$FRACTION" 'BEGIN {printf "%.0f", m * f}')"
log "max direct rate $MAX_RATE records/s (runs: ${rates[*]}); measuring at $RATE"
write_meta "{\"rounds\": $ROUNDS, \"duration\": $DURATION, \"warmup\": $WARMUP, \"max_rate\": $MAX_RATE, \"max_runs\": $MAX_RUNS, \"rate\": $RATE, \"fraction\": $FRACTION}"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${TARGET_ARGS[@]}" --json "$RESULTS/half-rate.json" \
  "${produce[@]}" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/half-rate.txt"

# The same open-loop produce against the responder (not Kafka), so the
# latency a hop adds is not buried in Kafka's own jitter: direct, sluice
# (1 shard) and the plain relay, at the same offered rate.
if ((RESPONDER)); then
  stop_bg sluice
  start_relay_targets "$RESULTS/sluice-responder.yaml"
  log "responder (not Kafka): direct, sluice, relay at $RATE records/s"
  bench compare --rounds "$ROUNDS" --pause 0.5 -q "${TARGET_ARGS[@]}" \
    --json "$RESULTS/responder-half-rate.json" produce --topic bench --record-size 1024 \
    --records-per-batch 16 --connections 2 --pipeline 5 --rate "$RATE" \
    --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/responder-half-rate.txt"
fi
python3 "$TABLES_PY" latency "$RESULTS"
log "results in $RESULTS"
