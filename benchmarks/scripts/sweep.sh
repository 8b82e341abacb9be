#!/usr/bin/env bash
# Plots (g): throughput and p99 produce latency against offered load, for
# direct Kafka, sluice and each peer. See usage().
set -euo pipefail
SCRIPT_NAME=sweep
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/sweep.sh [OPTIONS]

Starts a 1-broker Kafka (CPU 0), sluice (1 shard), Kroxylicious and
kafka-proxy (CPU 1). Measures the maximum produce rate straight to Kafka
(1 KiB records x 16 per request, acks=all), then for each fraction of it in
--fractions runs `compare produce --rate R` (open loop, sluice-bench on CPU
0) over every target. Writes rate-<R>.json per rate, sweep.csv, meta.json,
table.md, summary.json, and the plots sweep-throughput.png and sweep-p99.png
(also copied to --plots-dir) drawn by plot.py with matplotlib, installed
from PyPI into a venv under ${SLUICE_CACHE_DIR:-~/.cache/sluice}/venv-plot.

Options:
  --fractions LIST    Offered load as fractions of the direct maximum
                      (default 0.1,0.3,0.5,0.7,0.85,1.0,1.2)
  --rounds N          Rounds per rate (default 1; each round runs every target)
  --duration S        Measured seconds per run (default 3)
  --warmup S          Warm-up seconds per run (default 1)
  --targets LIST      As compare-kafka.sh (default all four; a peer that
                      cannot be installed here is left out, and the table
                      says why)
  --plots-dir DIR     Where the PNGs are copied (default benchmarks/plots)
  --results-dir DIR   Default .sluice-cache/bench/sweep-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help
EOF
}

FRACTIONS="0.1,0.3,0.5,0.7,0.85,1.0,1.2" ROUNDS=1 DURATION=3 WARMUP=1 RESULTS=""
TARGETS="direct,sluice,kroxylicious,kafka-proxy" PLOTS="$ROOT/benchmarks/plots"
table_option() {
  case "$1" in
    --fractions) FRACTIONS="$2" ;;
    --plots-dir) PLOTS="$2" ;;
    *) kafka_targets_option "$@" ;;
  esac
}
parse_options "$@"
prepare_run

# matplotlib first: a missing package should fail before minutes of runs.
VENV="$CACHE_DIR/venv-plot"
if ! "$VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  log "installing matplotlib into $VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet matplotlib >&2
fi

start_kafka_targets "$TARGETS" bench-sweep
produce=(produce --topic bench-sweep --record-size 1024 --records-per-batch 16 --acks -1
  --connections 2 --pipeline 5)

warm_up "${TARGET_ARGS[@]}"
wait_quiet
bench "${produce[@]}" --bootstrap "$KAFKA_BOOTSTRAP" --duration "$DURATION" --warmup "$WARMUP" -q \
  --json "$RESULTS/max-rate.json" >"$RESULTS/logs/max-rate.txt"
MAX_RATE="$(jq .records_per_sec "$RESULTS/max-rate.json")"
log "max direct rate $MAX_RATE records/s"
write_meta "{\"rounds\": $ROUNDS, \"duration\": $DURATION, \"warmup\": $WARMUP, \"max_rate\": $MAX_RATE, \"fractions\": \"$FRACTIONS\"}"
for f in ${FRACTIONS//,/ }; do
  rate="$(awk -v m="$MAX_RATE" -v f="$f" 'BEGIN {printf "%.0f", m * f}')"
  log "offered $rate records/s ($f x max)"
  bench compare --rounds "$ROUNDS" --pause 0.5 -q "${TARGET_ARGS[@]}" --json "$RESULTS/rate-$rate.json" \
    "${produce[@]}" --rate "$rate" --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/rate-$rate.txt"
done
python3 "$TABLES_PY" sweep "$RESULTS"
"$VENV/bin/python" "$BENCH_LIB_DIR/plot.py" "$RESULTS/sweep.csv" "$RESULTS"
mkdir -p "$PLOTS"
cp "$RESULTS"/sweep-throughput.png "$RESULTS"/sweep-p99.png "$PLOTS"/
log "results in $RESULTS; plots in $PLOTS"
