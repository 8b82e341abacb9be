# Shared helpers of the table scripts (compare-kafka.sh, ceiling.sh,
# latency.sh, idle-connections.sh, tls.sh, sweep.sh, profile.sh). Sourced,
# not run. Every process started here is recorded and stopped by
# `bench_cleanup`, which the scripts install as their EXIT trap.
# shellcheck shell=bash
# shellcheck disable=SC2034 # variables used by the scripts that source this

BENCH_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_LIB_DIR/../.." && pwd)"
KAFKA_LOCAL="$ROOT/deploy/kafka-local.sh"
PEERS="$BENCH_LIB_DIR/peers.sh"
TABLES_PY="$BENCH_LIB_DIR/tables.py"
BENCH_BIN="${SLUICE_BENCH_BIN:-$ROOT/target/release/sluice-bench}"
SLUICE_BIN="${SLUICE_BIN:-$ROOT/target/release/sluice}"
CACHE_DIR="${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}"
CLK_TCK="$(getconf CLK_TCK)"
SCRIPT_NAME="${SCRIPT_NAME:-$(basename "$0" .sh)}"
# The command line that reproduces a table (sourced without arguments, this
# file sees the script's own).
BENCH_COMMAND="${BENCH_COMMAND:-benchmarks/scripts/$SCRIPT_NAME.sh${*:+ $*}}"
export BENCH_COMMAND

# CPU layout (2-core default): Kafka, the load tool and the responder share
# CPU 0; the proxy under test (sluice, a peer or the relay) has CPU 1 to
# itself. Overridable per run.
CPU_KAFKA="${SLUICE_BENCH_CPU_KAFKA:-0}"
CPU_TOOL="${SLUICE_BENCH_CPU_TOOL:-0}"
CPU_PROXY="${SLUICE_BENCH_CPU_PROXY:-1}"
CPU_RESPONDER="${SLUICE_BENCH_CPU_RESPONDER:-0}"
# Where the plain TCP relay listens: a second loopback address, so that the
# addresses Kafka or the responder advertise for it lead back to it.
RELAY_HOST=127.0.0.2
# Wait for a quiet machine before measuring: 1-minute load below this, polled
# every 30 s for at most QUIET_WAIT seconds (0: do not wait).
QUIET_LOAD="${SLUICE_BENCH_QUIET_LOAD:-1.5}"
QUIET_WAIT="${SLUICE_BENCH_QUIET_WAIT:-1200}"

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# note_not_run TARGET REASON: a target left out of this pass. tables.py
# prints these lines under the table, so a missing row is explained.
note_not_run() {
  log "warning: $1 not run: $2"
  printf '%s: %s\n' "$1" "$2" >>"$RESULTS/not-run.txt"
}

# --------------------------------------------------------------- options ---

# parse_options ARGS...: the options every table script takes (--help,
# --no-wait, --results-dir) are read here; a script's own go to its
# table_flag NAME and table_option NAME VALUE, which return 1 for a name
# they do not know, so unknown options fail the same way everywhere.
parse_options() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --no-wait) QUIET_WAIT=0; shift; continue ;;
    esac
    if table_flag "$1"; then shift; continue; fi
    [[ $# -ge 2 ]] || die "option $1 needs a value"
    case "$1" in
      --results-dir) RESULTS="$2" ;;
      *) table_option "$1" "$2" || die "unknown option $1 (see --help)" ;;
    esac
    shift 2
  done
}

# Defaults for scripts without flags or values of their own.
table_flag() { return 1; }
table_option() { return 1; }

# The timing options of the scripts that run interleaved `compare` rounds.
rounds_option() {
  case "$1" in
    --rounds) ROUNDS="$2" ;;
    --duration) DURATION="$2" ;;
    --warmup) WARMUP="$2" ;;
    *) return 1 ;;
  esac
}

# The options of the scripts that compare proxies in front of Kafka: which
# ones (for start_kafka_targets), and the rounds.
kafka_targets_option() {
  case "$1" in
    --targets) TARGETS="$2" ;;
    *) rounds_option "$@" ;;
  esac
}

# prepare_run [SUBDIR...]: the results dir (the given one or a fresh default)
# with logs/ and SUBDIRs, the traps that stop what the run starts, and the
# binaries it measures.
# shellcheck disable=SC2120 # the subdirectories are optional
prepare_run() {
  RESULTS="$(realpath -m -- "${RESULTS:-$(default_results)}")"
  mkdir -p "$RESULTS/logs" "${@/#/$RESULTS/}"
  install_traps
  ensure_binaries
}

# -------------------------------------------------------------- building ---

# Builds what is missing, then runs from copies in $RESULTS/bin (once per
# run; all.sh's copies are inherited): other work in the same tree may
# rebuild target/release while a run is going, and every table of a run must
# measure the same binaries. bin/BUILD.txt says what they are.
# shellcheck disable=SC2120 # the argument is optional
ensure_binaries() {
  if [[ ! -x "$BENCH_BIN" ]]; then
    log "building sluice-bench"
    (cd "$ROOT" && cargo build --release -p sluice-bench --bin sluice-bench) >&2
  fi
  if [[ "${1:-}" != bench-only && ! -x "$SLUICE_BIN" ]]; then
    log "building sluice"
    (cd "$ROOT" && cargo build --release --bin sluice) >&2
  fi
  [[ -z "${SLUICE_BENCH_SNAPSHOT:-}" ]] || return 0
  local dir="$RESULTS/bin" b
  mkdir -p "$dir"
  {
    echo "copied $(date -u +%Y-%m-%dT%H:%M:%SZ) from $ROOT/target/release"
    echo "HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
    echo "uncommitted changes in dataplane/ cp-sync/ benchmarks/: $(git -C "$ROOT" status --porcelain -- dataplane cp-sync benchmarks 2>/dev/null | wc -l) files"
  } >"$dir/BUILD.txt"
  for b in "$SLUICE_BIN" "$BENCH_BIN"; do
    [[ -x "$b" ]] || continue
    cp -p "$b" "$dir/"
    echo "$(basename "$b") built $(date -u -r "$b" +%Y-%m-%dT%H:%M:%SZ) sha256 $(sha256sum "$b" | cut -c1-16)" >>"$dir/BUILD.txt"
  done
  [[ ! -x "$dir/sluice" ]] || SLUICE_BIN="$dir/sluice"
  BENCH_BIN="$dir/sluice-bench"
  SLUICE_BENCH_SNAPSHOT="$dir"
  export SLUICE_BIN SLUICE_BENCH_BIN="$BENCH_BIN" SLUICE_BENCH_SNAPSHOT
}

# ----------------------------------------------------------------- ports ---

# A block of $1 consecutive free loopback ports below the ephemeral range
# (so no outgoing connection takes one between this check and the bind).
# Sets PORT_BASE.
pick_ports() {
  local size="$1" used low base tries p ok
  used=" $(ss -Htan | awk '{n=split($4,a,":"); print a[n]}' | sort -un | tr '\n' ' ') "
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  for tries in {1..200}; do
    base=$((20000 + RANDOM % (low - 20000 - size)))
    ok=1
    for ((p = base; p < base + size; p++)); do
      [[ "$used" != *" $p "* ]] || { ok=0; break; }
    done
    ((ok)) && { PORT_BASE="$base"; return 0; }
  done
  die "no free block of $size ports after $tries tries"
}

# ------------------------------------------------------------- processes ---

STARTED_PIDFILES=()
KAFKA_DIRS=()
PEER_DIRS=()

proc_start() {
  local stat rest f
  stat="$(<"/proc/$1/stat")" 2>/dev/null || return 1
  rest="${stat##*) }"
  read -r -a f <<<"$rest"
  echo "${f[19]}"
}

# utime+stime of a process (all threads) in seconds.
cpu_seconds() {
  local stat rest f
  stat="$(<"/proc/$1/stat")" || return 1
  rest="${stat##*) }"
  read -r -a f <<<"$rest"
  awk -v t=$((f[11] + f[12])) -v h="$CLK_TCK" 'BEGIN {printf "%.3f", t / h}'
}

# start_bg NAME CPUS LOGFILE CMD...: runs CMD in its own session, pinned to
# CPUS (empty: unpinned), records pid and start time in $RESULTS/NAME.pid.
# Sets BG_PID (not printed: a command substitution would lose the record
# that cleanup stops it by).
start_bg() {
  local name="$1" cpus="$2" logf="$3" pidf="$RESULTS/$1.pid" i
  shift 3
  local pin=()
  [[ -z "$cpus" ]] || pin=(taskset -c "$cpus")
  rm -f "$pidf"
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner bash.
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' "$name" "$pidf" "${pin[@]}" "$@" \
    </dev/null >"$logf" 2>&1 &
  for i in {1..50}; do
    [[ -s "$pidf" ]] && break
    sleep 0.1
  done
  [[ -s "$pidf" ]] || die "$name did not start (log: $logf)"
  local pid
  pid="$(cat "$pidf")"
  echo "$pid $(proc_start "$pid")" >"$pidf"
  STARTED_PIDFILES+=("$pidf")
  BG_PID="$pid"
}

pid_of() { cut -d' ' -f1 "$RESULTS/$1.pid"; }

# SIGTERM, up to 15 s, then SIGKILL; only if the pid still is the process
# that was started (same start time).
stop_pidfile() {
  local pidf="$1" pid start i
  [[ -s "$pidf" ]] || return 0
  read -r pid start <"$pidf"
  if [[ "$(proc_start "$pid" 2>/dev/null)" == "$start" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in {1..75}; do
      [[ "$(proc_start "$pid" 2>/dev/null)" == "$start" ]] || break
      sleep 0.2
    done
    [[ "$(proc_start "$pid" 2>/dev/null)" != "$start" ]] || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

stop_bg() { stop_pidfile "$RESULTS/$1.pid"; }

BENCH_CLEANED=0
bench_cleanup() {
  ((BENCH_CLEANED == 0)) || return 0
  BENCH_CLEANED=1
  local i d
  for ((i = ${#STARTED_PIDFILES[@]} - 1; i >= 0; i--)); do
    stop_pidfile "${STARTED_PIDFILES[$i]}"
  done
  for d in "${PEER_DIRS[@]}"; do
    "$PEERS" stop --dir "$d" >/dev/null 2>&1 || log "warning: stopping the peer in $d failed"
  done
  for d in "${KAFKA_DIRS[@]}"; do
    "$KAFKA_LOCAL" stop --dir "$d" >/dev/null 2>&1 || log "warning: stopping Kafka in $d failed"
    rm -rf "$d"/node-*/data
  done
}

install_traps() {
  trap bench_cleanup EXIT
  trap 'log "interrupted; stopping what was started"; exit 130' INT
  trap 'exit 143' TERM
}

# ----------------------------------------------------------------- Kafka ---

# start_kafka DIR PORT: a 1-broker KRaft Kafka pinned to $CPU_KAFKA (node id
# 1 on 127.0.0.1:PORT, controller on PORT+1). Sets KAFKA_BOOTSTRAP.
# start_kafka DIR PORT: a 1-broker Kafka on PORT (controller PORT+1) with a
# second client listener on 127.0.0.1:PORT+2 that advertises
# $RELAY_HOST:PORT+2, for the plain relay target (see start_kafka_target).
start_kafka() {
  local dir="$1" port="$2"
  "$KAFKA_LOCAL" install >&2
  log "starting Kafka (1 broker) on 127.0.0.1:$port, CPU $CPU_KAFKA"
  KAFKA_DIRS+=("$dir")
  KAFKA_BOOTSTRAP="$(taskset -c "$CPU_KAFKA" "$KAFKA_LOCAL" start --dir "$dir" --brokers 1 \
    --port-base "$port" --relay-host "$RELAY_HOST" | tail -n 1)"
}

kafka_pid() { cat "$1"/node-1/kafka.pid; }

kafka_tool() { taskset -c "$CPU_TOOL" "$KAFKA_LOCAL" tool "$@"; }

# A topic on Kafka with a size cap, so long runs do not fill the disk.
create_kafka_topic() {
  local topic="$1" partitions="$2"
  kafka_tool kafka-topics --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor 1 \
    --config retention.bytes=536870912 --config segment.bytes=134217728 >/dev/null
}

# ---------------------------------------------------------------- sluice ---

# start_sluice CONFIG [EXTRA ARGS]: one shard on $CPU_PROXY. Sets SLUICE_PID.
start_sluice() {
  local config="$1" i
  shift
  "$SLUICE_BIN" validate "$config" >/dev/null || die "invalid sluice config $config"
  start_bg sluice "" "$RESULTS/sluice.log" \
    "$SLUICE_BIN" run --config "$config" --shards 1 --cpus "$CPU_PROXY" "$@"
  SLUICE_PID="$BG_PID"
  for i in {1..100}; do
    grep -q 'sluice is serving' "$RESULTS/sluice.log" && break
    [[ -n "$(proc_start "$SLUICE_PID")" ]] || break
    sleep 0.1
  done
  grep -q 'sluice is serving' "$RESULTS/sluice.log" || { tail -n 20 "$RESULTS/sluice.log" >&2; die "sluice did not start"; }
  log "sluice (1 shard, CPU $CPU_PROXY) pid $SLUICE_PID"
}

# --------------------------------------------------------------- helpers ---

# A tool run's Metadata through ADDR lists BROKERS brokers at 127.0.0.1.
wait_ready() {
  local addr="$1" i
  for i in {1..60}; do
    "$BENCH_BIN" ping --bootstrap "$addr" --duration 0.2 --warmup 0 -q >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

# start_peer NAME KAFKA_BOOTSTRAP PORT: Kroxylicious or kafka-proxy pinned
# to $CPU_PROXY via peers.sh. Sets PEER_ADDR and PEER_PID. Returns 1 when
# the peer cannot be installed here (the reason goes under the table); the
# other targets still run.
start_peer() {
  local peer="$1" kafka="$2" port="$3" dir="$RESULTS/peers/$1" line
  local install_log="$RESULTS/logs/install-$1.txt"
  if ! "$PEERS" install "$peer" >"$install_log" 2>&1; then
    cat "$install_log" >&2
    note_not_run "$peer" "could not be installed: $(tail -n 1 "$install_log" | sed "s/^peers: error: //")"
    return 1
  fi
  PEER_DIRS+=("$dir")
  line="$(taskset -c "$CPU_PROXY" "$PEERS" start "$peer" --kafka "$kafka" \
    --listen-port-base "$port" --dir "$dir" | tail -n 1)"
  [[ "$line" =~ ^bootstrap=([^ ]+)\ pid=([0-9]+)$ ]] || die "unexpected line from peers.sh: $line"
  PEER_ADDR="${BASH_REMATCH[1]}" PEER_PID="${BASH_REMATCH[2]}"
  log "$peer (CPU $CPU_PROXY) on $PEER_ADDR pid $PEER_PID"
}

# warm_up TARGET-ARGS...: one unmeasured 3 s produce through every target
# (JIT compilation of the JVM peer, first connections, topic metadata).
warm_up() {
  log "warm-up: 3 s of produce through every target (not measured)"
  bench compare --rounds 1 --pause 0 -q "$@" produce --topic bench-warmup --create-partitions 6 \
    --connections 2 --duration 3 --warmup 1 >"$RESULTS/logs/warm-up.txt" 2>&1 ||
    log "warning: warm-up failed (log: $RESULTS/logs/warm-up.txt)"
}

# Blocks until the 1-minute load average is below $QUIET_LOAD, polling every
# 30 s for at most $QUIET_WAIT s. Sets LOAD_AT_START to the load then.
wait_quiet() {
  local waited=0 load
  while :; do
    read -r load _ </proc/loadavg
    if awk -v l="$load" -v q="$QUIET_LOAD" 'BEGIN {exit !(l < q)}'; then break; fi
    if ((waited >= QUIET_WAIT)); then
      log "load $load still >= $QUIET_LOAD after ${waited}s; measuring anyway"
      break
    fi
    log "load $load >= $QUIET_LOAD; waiting (${waited}s of ${QUIET_WAIT}s)"
    sleep 30
    waited=$((waited + 30))
  done
  LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
}

# meta.json of a results dir: machine, commit, load, CPU layout, command.
write_meta() {
  local extra="${1:-{\}}"
  python3 - "$RESULTS/meta.json" "$extra" <<PY
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True, cwd="$ROOT").stdout.strip()
    except Exception: return ""
model = next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
meta = {
  "script": "$SCRIPT_NAME",
  "command": os.environ.get("BENCH_COMMAND", ""),
  "date": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
  "nproc": int(sh("nproc") or 0),
  "cpu_model": model,
  "mem_gib": round(mem / 1048576, 1),
  "kernel": platform.release(),
  "load_at_start": "${LOAD_AT_START:-}",
  "commit": sh("git rev-parse --short HEAD"),
  "uncommitted_changes": bool(sh("git status --porcelain --untracked-files=no")),
  "cpus": {"kafka": "$CPU_KAFKA", "tool": "$CPU_TOOL", "proxy": "$CPU_PROXY", "responder": "$CPU_RESPONDER"},
  "binaries": open(os.path.join("${SLUICE_BENCH_SNAPSHOT:-/nonexistent}", "BUILD.txt")).read().strip()
      if os.path.exists(os.path.join("${SLUICE_BENCH_SNAPSHOT:-/nonexistent}", "BUILD.txt")) else "",
}
meta.update(json.loads(sys.argv[2]))
json.dump(meta, open(sys.argv[1], "w"), indent=2)
PY
}

default_results() { echo "$ROOT/.sluice-cache/bench/$SCRIPT_NAME-$(date -u +%Y%m%dT%H%M%SZ)"; }

# The tool pinned to the tool CPU.
bench() { taskset -c "$CPU_TOOL" "$BENCH_BIN" "$@"; }

# The start-up sequences of the table scripts, in their own file to keep this
# one readable.
# shellcheck source=sluice-config.sh
source "$BENCH_LIB_DIR/sluice-config.sh"
# shellcheck source=lib-start.sh
source "$BENCH_LIB_DIR/lib-start.sh"
