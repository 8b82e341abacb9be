#!/usr/bin/env bash
# Runs every benchmark table script in turn and regenerates the tables, the
# targets check and the plots in BENCHMARKS.md. See usage().
set -euo pipefail
SCRIPT_NAME=all
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/all.sh [OPTIONS]

Builds sluice and sluice-bench (cargo build --release), then runs, one after
the other, each waiting for a quiet machine (1-minute load < 1.5, up to 20
minutes) before it measures:

  a  kafka-perf.sh        Kafka's perf tools: direct, sluice, Kroxylicious, kafka-proxy
  b  compare-kafka.sh     sluice-bench compare on real Kafka, produce + consume
  c  ceiling.sh           responder (not Kafka): sluice vs relay vs direct
  d  latency.sh           added p99 produce latency at half the max rate
  e  idle-connections.sh  RSS per idle connection (10,000 asked)
  f  tls.sh               TLS vs plaintext per shard, handshakes/s
  g  sweep.sh             throughput and p99 vs offered load (plots)
     profile.sh           callgrind (or perf) profile of sluice's hot path

and rewrites the marked blocks of BENCHMARKS.md (tables, commands, machine,
targets with pass/miss) and benchmarks/plots/*.png. Raw results go to
<results-root>/<table>/. About 25 minutes with the defaults on a quiet
2-core machine.

Options:
  --rounds N          Rounds for every table (default 5)
  --duration S        Measured seconds per sluice-bench run (default 3)
  --records N         Records per kafka-perf run (default 100000)
  --only LIST         Comma list of a,b,c,d,e,f,g,profile (default all)
  --results-root DIR  Default .sluice-cache/bench/all-<UTC time>
  --no-wait           Do not wait for a quiet machine
  --no-build          Use the binaries as they are
  -h, --help          This help

Scaling up: e.g. --rounds 9 --duration 10 --records 500000 (about 1.5 h).
EOF
}

ROUNDS=5 DURATION=3 RECORDS=100000 ONLY="a,b,c,d,e,f,g,profile" ROOT_DIR="" NO_WAIT=() BUILD=1
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --no-wait) NO_WAIT=(--no-wait); QUIET_WAIT=0; shift; continue ;;
    --no-build) BUILD=0; shift; continue ;;
  esac
  [[ $# -ge 2 ]] || die "option $1 needs a value"
  case "$1" in
    --rounds) ROUNDS="$2" ;;
    --duration) DURATION="$2" ;;
    --records) RECORDS="$2" ;;
    --only) ONLY="$2" ;;
    --results-root) ROOT_DIR="$2" ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift 2
done
ROOT_DIR="$(realpath -m -- "${ROOT_DIR:-$ROOT/.sluice-cache/bench/all-$(date -u +%Y%m%dT%H%M%SZ)}")"
mkdir -p "$ROOT_DIR"
if ((BUILD)); then
  log "building (cargo build --release)"
  (cd "$ROOT" && cargo build --release -p sluice-bench --bin sluice-bench && cargo build --release --bin sluice) >&2
fi
RESULTS="$ROOT_DIR" ensure_binaries
log "binaries: $(tr '\n' ';' <"$ROOT_DIR/bin/BUILD.txt")"

wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
declare -A DIRS=()
STARTED_AT=$SECONDS

# run_table NAME SCRIPT ARGS...: the script with its own command line
# recorded (the one BENCHMARKS.md shows), results in ROOT_DIR/NAME.
run_table() {
  local name="$1" script="$2" t0=$SECONDS
  shift 2
  log "=== $name: $script $*"
  if BENCH_COMMAND="benchmarks/scripts/$script $*" \
    "$BENCH_LIB_DIR/$script" "$@" "${NO_WAIT[@]}" --results-dir "$ROOT_DIR/$name" \
    >"$ROOT_DIR/$name.out" 2>"$ROOT_DIR/$name.err"; then
    DIRS[$name]="$ROOT_DIR/$name"
    log "=== $name done in $((SECONDS - t0)) s"
  else
    log "=== $name FAILED after $((SECONDS - t0)) s; see $ROOT_DIR/$name.err"
    tail -n 15 "$ROOT_DIR/$name.err" >&2 || true
  fi
}

common=(--rounds "$ROUNDS" --duration "$DURATION")
if wanted a; then
  # kafka-perf.sh predates lib.sh: it does not wait for a quiet machine
  # or write meta.json itself.
  RESULTS="$ROOT_DIR/kafka-perf"
  mkdir -p "$RESULTS"
  wait_quiet
  a_args=(--targets all --brokers 1 --rounds "$ROUNDS" --records "$RECORDS" --order rotate
    --cpus-kafka "$CPU_KAFKA" --cpus-proxy "$CPU_PROXY" --cpus-tool "$CPU_TOOL")
  # The run's copy of sluice, not the tree's (left out of the command shown).
  a_bin=(--sluice-bin "$SLUICE_BIN")
  BENCH_COMMAND="benchmarks/scripts/kafka-perf.sh ${a_args[*]}" write_meta '{}'
  t0=$SECONDS
  log "=== kafka-perf: kafka-perf.sh ${a_args[*]}"
  if "$BENCH_LIB_DIR/kafka-perf.sh" "${a_args[@]}" "${a_bin[@]}" --results-dir "$RESULTS" \
    >"$ROOT_DIR/kafka-perf.out" 2>"$ROOT_DIR/kafka-perf.err"; then
    python3 "$TABLES_PY" kafka-perf "$RESULTS" >/dev/null
    DIRS[kafka-perf]="$RESULTS"
    log "=== kafka-perf done in $((SECONDS - t0)) s"
  else
    log "=== kafka-perf FAILED; see $ROOT_DIR/kafka-perf.err"
    tail -n 15 "$ROOT_DIR/kafka-perf.err" >&2 || true
  fi
fi
! wanted b || run_table compare-kafka compare-kafka.sh "${common[@]}"
! wanted c || run_table ceiling ceiling.sh "${common[@]}"
! wanted d || run_table latency latency.sh --rounds "$ROUNDS" --duration "$((DURATION + 1))"
! wanted e || run_table idle-connections idle-connections.sh --connections 10000
! wanted f || run_table tls tls.sh "${common[@]}"
! wanted g || run_table sweep sweep.sh --duration "$DURATION"
! wanted profile || run_table profile profile.sh --duration 6 --perf-clock

pairs=()
for name in "${!DIRS[@]}"; do pairs+=("$name=${DIRS[$name]}"); done
python3 "$TABLES_PY" benchmarks-md "$ROOT/BENCHMARKS.md" "${pairs[@]}"
log "BENCHMARKS.md updated from $ROOT_DIR ($((SECONDS - STARTED_AT)) s in all)"
