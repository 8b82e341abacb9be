#!/usr/bin/env bash
# Compares Kafka's own perf tools (kafka-producer-perf-test and
# kafka-consumer-perf-test) run straight at Kafka with the same runs through
# sluice and, optionally, through peer proxies (benchmarks/scripts/peers.sh),
# on one local Kafka this script starts. Rounds are interleaved (A,B,A,B...)
# so drift on a shared machine hits every target alike. See usage().
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=sluice-config.sh
source "$SCRIPT_DIR/sluice-config.sh"
readonly SCRIPT_DIR
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly ROOT
readonly KAFKA_LOCAL="$ROOT/deploy/kafka-local.sh"
readonly PEERS="$SCRIPT_DIR/peers.sh"
readonly ALL_TARGETS="direct sluice kroxylicious kafka-proxy"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/kafka-perf.sh [OPTIONS]

Starts a local Apache Kafka (deploy/kafka-local.sh), sluice and any peer
proxies asked for, then per round runs, for each target in turn, a producer
perf test (fixed record count, no throttle) and a consumer perf test reading
the same records back, each on a fresh topic. Prints a Markdown summary
(median [min-max] per target, ratio of medians to direct, proxy CPU seconds
per GB) and writes results.csv, results.json, summary.md and all logs to the
results dir. Stops everything it started on exit, Ctrl-C included.
A peer that cannot be installed here is left out with a warning, and the
table says why.

Options:
  --targets LIST        Comma list from direct,sluice,kroxylicious,kafka-proxy,
                        or "all" (default: direct,sluice). Order = run order.
  --brokers 1|3         Kafka brokers (default 3; replication factor = brokers)
  --rounds N            Rounds; every target runs once per round (default 5)
  --records N           Records per producer/consumer run (default 200000)
  --record-size BYTES   Record value size (default 1024)
  --partitions N        Partitions of each topic (default 6)
  --acks ACKS           Producer acks (default all)
  --producer-props 'K=V ...'  Extra producer properties (default none)
  --warmup-records N    Records produced and consumed once per target before
                        round 1, not measured, to warm JITs and connections
                        (default 20000; 0 skips)
  --order fixed|rotate  fixed: every round runs targets in --targets order
                        (A,B,A,B...); rotate: round r starts at the r-th
                        target (A,B,B,A...), so no target is always first
                        after the previous round's cleanup (default fixed)
  --results-dir DIR     Default .sluice-cache/bench/kafka-perf-<UTC time>
  --port-base P         First port of the block used (Kafka, then sluice, then
                        peers); default: a free block below the ephemeral range
  --sluice-bin PATH     sluice binary (default target/release/sluice; built
                        with cargo build --release --bin sluice if missing)
  --sluice-args 'ARGS'  Extra `sluice run` flags, e.g. '--shards 1'
  --keep-data           Keep Kafka's data directories afterwards
  --cpus-kafka LIST     Pin Kafka's brokers to these CPUs (taskset -c LIST)
  --cpus-proxy LIST     Pin sluice and the peers to these CPUs (sluice then
                        runs one shard per listed CPU; the JVM and Go peers
                        size their thread pools from them)
  --cpus-tool LIST      Pin the perf tools (and kafka-topics) to these CPUs
                        (default for all three: unpinned)
  -h, --help            This help

Environment: SLUICE_CACHE_DIR and the variables of deploy/kafka-local.sh and
benchmarks/scripts/peers.sh (heap, JVM flags, kafka-proxy binary).
EOF
}

log() { printf 'kafka-perf: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- options ---

TARGETS=(direct sluice) BROKERS=3 ROUNDS=5 RECORDS=200000 RECORD_SIZE=1024
PARTITIONS=6 ACKS=all PRODUCER_PROPS="" WARMUP=20000 RESULTS="" PORT_BASE="" ORDER=fixed
SLUICE_BIN="$ROOT/target/release/sluice" SLUICE_ARGS="" KEEP_DATA=0
CPUS_KAFKA="" CPUS_PROXY="" CPUS_TOOL=""

parse_opts() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --keep-data) KEEP_DATA=1; shift; continue ;;
    esac
    [[ $# -ge 2 ]] || die "option $1 needs a value"
    case "$1" in
      --targets) parse_targets "$2" ;;
      --brokers) BROKERS="$2" ;;
      --rounds) ROUNDS="$2" ;;
      --records) RECORDS="$2" ;;
      --record-size) RECORD_SIZE="$2" ;;
      --partitions) PARTITIONS="$2" ;;
      --acks) ACKS="$2" ;;
      --producer-props) PRODUCER_PROPS="$2" ;;
      --warmup-records) WARMUP="$2" ;;
      --order) ORDER="$2" ;;
      --results-dir) RESULTS="$2" ;;
      --port-base) PORT_BASE="$2" ;;
      --sluice-bin) SLUICE_BIN="$2" ;;
      --sluice-args) SLUICE_ARGS="$2" ;;
      --cpus-kafka) CPUS_KAFKA="$2" ;;
      --cpus-proxy) CPUS_PROXY="$2" ;;
      --cpus-tool) CPUS_TOOL="$2" ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
  done
  local v
  for v in "$BROKERS" "$ROUNDS" "$RECORDS" "$RECORD_SIZE" "$PARTITIONS" "$WARMUP" "$PORT_BASE"; do
    [[ -z "$v" || "$v" =~ ^[0-9]+$ ]] || die "not a number: $v"
  done
  [[ "$BROKERS" == 1 || "$BROKERS" == 3 ]] || die "--brokers must be 1 or 3"
  [[ "$ORDER" == fixed || "$ORDER" == rotate ]] || die "--order must be fixed or rotate"
  ((ROUNDS > 0 && RECORDS > 0 && RECORD_SIZE > 0 && PARTITIONS > 0)) ||
    die "--rounds, --records, --record-size and --partitions must be > 0"
  RESULTS="$(realpath -m -- "${RESULTS:-$ROOT/.sluice-cache/bench/kafka-perf-$(date -u +%Y%m%dT%H%M%SZ)}")"
}

parse_targets() {
  local t list
  [[ "$1" == all ]] && list="$ALL_TARGETS" || list="${1//,/ }"
  TARGETS=()
  for t in $list; do
    [[ " $ALL_TARGETS " == *" $t "* ]] || die "unknown target '$t' (direct, sluice, kroxylicious, kafka-proxy)"
    [[ " ${TARGETS[*]} " != *" $t "* ]] || die "target '$t' given twice"
    TARGETS+=("$t")
  done
  ((${#TARGETS[@]})) || die "--targets is empty"
}

# pin CPUS CMD...: CMD under taskset when CPUS is set; children inherit it.
pin() {
  local cpus="$1"
  shift
  if [[ -n "$cpus" ]]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

is_peer() { [[ "$1" == kroxylicious || "$1" == kafka-proxy ]]; }

# ------------------------------------------------------------------ ports ---

# Ports: Kafka takes 2N (brokers, then controllers), sluice and every peer
# take N+1 (bootstrap plus one per broker), all in one contiguous block.
block_size() { echo $((2 * BROKERS + (BROKERS + 1) * (${#TARGETS[@]} + 1))); }

block_free() {
  local base="$1" size="$2" used="$3" p
  for ((p = base; p < base + size; p++)); do
    [[ " $used " != *" $p "* ]] || return 1
  done
}

# Listening and connected local ports alike count as used. Candidates stay
# below the ephemeral range so an outgoing connection cannot take a port
# between this check and the bind.
pick_port_base() {
  local size used low base tries
  size="$(block_size)"
  used="$(ss -Htan | awk '{n=split($4,a,":"); print a[n]}' | sort -un | tr '\n' ' ')"
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  if [[ -n "$PORT_BASE" ]]; then
    block_free "$PORT_BASE" "$size" "$used" || die "ports $PORT_BASE..$((PORT_BASE + size - 1)) are not all free"
    return 0
  fi
  for tries in {1..200}; do
    base=$((20000 + RANDOM % (low - 20000 - size)))
    if block_free "$base" "$size" "$used"; then PORT_BASE="$base"; return 0; fi
  done
  die "no free block of $size ports found after $tries tries; pass --port-base"
}

kafka_port() { echo "$PORT_BASE"; }
sluice_port() { echo $((PORT_BASE + 2 * BROKERS)); }
# Peers get the blocks after sluice's, in --targets order.
peer_port() {
  local i=0 t
  for t in "${TARGETS[@]}"; do
    i=$((i + 1))
    [[ "$t" == "$1" ]] && break
  done
  echo $((PORT_BASE + 2 * BROKERS + (BROKERS + 1) * i))
}

# -------------------------------------------------------------- processes ---

CLK_TCK="$(getconf CLK_TCK)"
readonly CLK_TCK
KAFKA_DIR="" BOOTSTRAP_DIRECT="" SLUICE_PID="" SLUICE_START=""
declare -A TARGET_BOOTSTRAP=() TARGET_PID=()
STARTED_PEERS=()

# utime+stime (fields 14 and 15 of /proc/PID/stat, all threads) in clock
# ticks. The command name may contain spaces, so split after its ')'.
cpu_ticks() {
  local stat rest f
  stat="$(<"/proc/$1/stat")" || die "process $1 is gone"
  rest="${stat##*) }"
  read -r -a f <<<"$rest"
  echo $((f[11] + f[12]))
}

proc_start() {
  local stat rest f
  stat="$(<"/proc/$1/stat")" || return 1
  rest="${stat##*) }"
  read -r -a f <<<"$rest"
  echo "${f[19]}"
}

# The brokers' JVMs, from deploy/kafka-local.sh's pid files.
kafka_pids() {
  local f
  for f in "$KAFKA_DIR"/node-*/kafka.pid; do
    if [[ -s "$f" ]]; then cat "$f"; fi
  done
}

kafka_ticks() {
  local pid sum=0
  for pid in $(kafka_pids); do sum=$((sum + $(cpu_ticks "$pid"))); done
  echo "$sum"
}

threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

start_kafka() {
  KAFKA_DIR="$RESULTS/kafka"
  log "starting Kafka: $BROKERS broker(s) from port $(kafka_port)"
  BOOTSTRAP_DIRECT="$(pin "$CPUS_KAFKA" "$KAFKA_LOCAL" start --dir "$KAFKA_DIR" --brokers "$BROKERS" \
    --port-base "$(kafka_port)" | tail -n 1)"
  TARGET_BOOTSTRAP[direct]="${BOOTSTRAP_DIRECT%%,*}"
}

# Own session, as for Kafka and the peers: a Ctrl-C reaches only this script
# and the perf tool, and cleanup stops the rest in order.
start_sluice() {
  [[ -x "$SLUICE_BIN" ]] || die "sluice binary $SLUICE_BIN missing"
  write_sluice_config "$RESULTS/sluice.yaml" "$BOOTSTRAP_DIRECT" "$(sluice_port)" "$BROKERS"
  "$SLUICE_BIN" validate "$RESULTS/sluice.yaml" >/dev/null
  local extra=() i
  read -r -a extra <<<"$SLUICE_ARGS"
  local pin=()
  [[ -z "$CPUS_PROXY" ]] || pin=(taskset -c "$CPUS_PROXY")
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner bash.
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' sluice "$RESULTS/sluice.pid" \
    "${pin[@]}" "$SLUICE_BIN" run --config "$RESULTS/sluice.yaml" "${extra[@]}" \
    </dev/null >"$RESULTS/sluice.log" 2>&1 &
  for i in {1..100}; do
    [[ -s "$RESULTS/sluice.pid" ]] && grep -q 'sluice is serving' "$RESULTS/sluice.log" && break
    sleep 0.1
  done
  SLUICE_PID="$(cat "$RESULTS/sluice.pid" 2>/dev/null)" || die "sluice did not start"
  SLUICE_START="$(proc_start "$SLUICE_PID")" || { cat "$RESULTS/sluice.log" >&2; die "sluice exited"; }
  wait_metadata "$(sluice_port)" || { tail -n 20 "$RESULTS/sluice.log" >&2; die "no Metadata through sluice"; }
  TARGET_BOOTSTRAP[sluice]="127.0.0.1:$(sluice_port)"
  TARGET_PID[sluice]="$SLUICE_PID"
  log "sluice ready on 127.0.0.1:$(sluice_port) (pid $SLUICE_PID, $(threads_of "$SLUICE_PID") threads)"
}

# Metadata through port $1 lists all brokers, all at 127.0.0.1 (20 s max).
wait_metadata() {
  local i out
  for i in {1..40}; do
    out="$(kcat -L -b "127.0.0.1:$1" -m 5 2>/dev/null | grep -E '^ +broker [0-9]+ at ' || true)"
    if [[ -n "$out" && "$(wc -l <<<"$out")" -eq "$BROKERS" ]] && ! grep -vq ' at 127\.0\.0\.1:' <<<"$out"; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

start_peer() {
  local peer="$1" line
  STARTED_PEERS+=("$peer")
  line="$(pin "$CPUS_PROXY" "$PEERS" start "$peer" --kafka "$BOOTSTRAP_DIRECT" \
    --listen-port-base "$(peer_port "$peer")" --dir "$RESULTS/peers/$peer" | tail -n 1)"
  [[ "$line" =~ ^bootstrap=([^ ]+)\ pid=([0-9]+)$ ]] || die "unexpected line from peers.sh: $line"
  TARGET_BOOTSTRAP[$peer]="${BASH_REMATCH[1]}"
  TARGET_PID[$peer]="${BASH_REMATCH[2]}"
  log "$peer ready on ${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]}, $(threads_of "${BASH_REMATCH[2]}") threads)"
}

stop_sluice() {
  [[ -n "$SLUICE_PID" ]] || return 0
  local i
  if [[ "$(proc_start "$SLUICE_PID" 2>/dev/null)" == "$SLUICE_START" ]]; then
    kill -TERM "$SLUICE_PID" 2>/dev/null || true
    for i in {1..75}; do
      [[ "$(proc_start "$SLUICE_PID" 2>/dev/null)" == "$SLUICE_START" ]] || break
      sleep 0.2
    done
    [[ "$(proc_start "$SLUICE_PID" 2>/dev/null)" != "$SLUICE_START" ]] ||
      kill -KILL "$SLUICE_PID" 2>/dev/null || true
  fi
  rm -f "$RESULTS/sluice.pid"
  SLUICE_PID=""
}

CLEANED=0
cleanup() {
  ((CLEANED == 0)) || return 0
  CLEANED=1
  local peer
  for peer in "${STARTED_PEERS[@]}"; do
    "$PEERS" stop --dir "$RESULTS/peers/$peer" || log "warning: stopping $peer failed"
  done
  stop_sluice
  if [[ -n "$KAFKA_DIR" ]]; then
    "$KAFKA_LOCAL" stop --dir "$KAFKA_DIR" >/dev/null 2>&1 || log "warning: stopping Kafka failed"
    ((KEEP_DATA)) || rm -rf "$KAFKA_DIR"/node-*/data
  fi
}

# ------------------------------------------------------------------- runs ---

readonly CSV_HEADER="round,order,target,status,records,record_size,\
p_records_per_sec,p_mb_per_sec,p_avg_ms,p_max_ms,p_p50_ms,p_p95_ms,p_p99_ms,p_p999_ms,\
c_records,c_mb_per_sec,c_records_per_sec,c_rebalance_ms,c_fetch_ms,c_fetch_mb_per_sec,\
c_fetch_records_per_sec,produce_wall_s,consume_wall_s,proxy_cpu_produce_s,\
proxy_cpu_consume_s,proxy_cpu_s_per_gb,kafka_cpu_produce_s,kafka_cpu_consume_s,kafka_cpu_s_per_gb"

tool() { pin "$CPUS_TOOL" "$KAFKA_LOCAL" tool "$@"; }

# Topics are made and deleted straight on Kafka, outside the measurement;
# deleting keeps disk use at one run's worth of data.
create_topic() {
  tool kafka-topics --bootstrap-server "$BOOTSTRAP_DIRECT" --create --topic "$1" \
    --partitions "$PARTITIONS" --replication-factor "$BROKERS" >/dev/null
}

delete_topic() {
  tool kafka-topics --bootstrap-server "$BOOTSTRAP_DIRECT" --delete --topic "$1" \
    >/dev/null 2>&1 || log "warning: could not delete topic $1"
}

producer_test() {
  local bootstrap="$1" topic="$2" records="$3" props=()
  read -r -a props <<<"$PRODUCER_PROPS"
  tool kafka-producer-perf-test --bootstrap-server "$bootstrap" --topic "$topic" \
    --num-records "$records" --record-size "$RECORD_SIZE" --throughput -1 \
    --command-property "acks=$ACKS" "${props[@]}"
}

# --timeout: longest gap between records before the tool gives up; generous,
# as a proxy's first fetches can be slow on a loaded machine.
consumer_test() {
  tool kafka-consumer-perf-test --bootstrap-server "$1" --topic "$2" \
    --num-records "$3" --timeout 30000
}

# The producer's final summary line, as 8 comma-separated numbers:
# records/s, MB/s, avg, max, p50, p95, p99, p99.9 (ms).
parse_producer() {
  sed -nE 's/^[0-9]+ records sent, ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99\.9th\.$/\1,\2,\3,\4,\5,\6,\7,\8/p' "$1" | tail -n 1
}

# The consumer's data line after its header, as 7 numbers: records, MB/s,
# records/s, rebalance ms, fetch ms, fetch MB/s, fetch records/s. Its MB/s
# spans group join too; the fetch.* ones do not.
parse_consumer() {
  awk -F', *' 'h && NF >= 10 {print $5 "," $4 "," $6 "," $7 "," $8 "," $9 "," $10; exit}
    /^start\.time, end\.time/ {h = 1}' "$1"
}

now() { date +%s.%N; }
# Arithmetic on decimals (bash has integers only); empty inputs give "".
calc() { awk "BEGIN {printf \"%.4f\", $1}"; }
ticks_to_s() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN {printf "%.3f", t / h}'; }

# One measured run: produce RECORDS to a fresh topic through TARGET, then
# consume them back through it, sampling proxy and broker CPU around each.
run_one() {
  local round="$1" order="$2" target="$3" topic="perf-r$1-$3-$RANDOM"
  local logp="$RESULTS/logs/r$round-$target-producer.log" logc="$RESULTS/logs/r$round-$target-consumer.log"
  local bs="${TARGET_BOOTSTRAP[$target]}" pid="${TARGET_PID[$target]:-}" status=ok
  local t0 t1 t2 k0 k1 k2 c0="" c1="" c2="" p c
  create_topic "$topic"
  k0="$(kafka_ticks)"; [[ -z "$pid" ]] || c0="$(cpu_ticks "$pid")"; t0="$(now)"
  producer_test "$bs" "$topic" "$RECORDS" >"$logp" 2>&1 || status=failed
  k1="$(kafka_ticks)"; [[ -z "$pid" ]] || c1="$(cpu_ticks "$pid")"; t1="$(now)"
  consumer_test "$bs" "$topic" "$RECORDS" >"$logc" 2>&1 || status=failed
  k2="$(kafka_ticks)"; [[ -z "$pid" ]] || c2="$(cpu_ticks "$pid")"; t2="$(now)"
  delete_topic "$topic"
  p="$(parse_producer "$logp")" c="$(parse_consumer "$logc")"
  [[ -n "$p" && -n "$c" ]] || status=failed
  p="${p:-,,,,,,,}" c="${c:-,,,,,,}"
  [[ "$status" != ok || "${c%%,*}" -ge "$RECORDS" ]] || status=short
  write_row "$round" "$order" "$target" "$status" "$p" "$c" "$t0" "$t1" "$t2" \
    "$c0" "$c1" "$c2" "$k0" "$k1" "$k2"
  report_run "$round" "$target" "$status" "$logp" "$logc"
}

# Appends one CSV row; CPU seconds per GB count the payload both ways
# (RECORDS * RECORD_SIZE produced plus the same consumed), GB = 1e9 bytes.
write_row() {
  local round="$1" order="$2" target="$3" status="$4" p="$5" c="$6" t0="$7" t1="$8" t2="$9"
  local c0="${10}" c1="${11}" c2="${12}" k0="${13}" k1="${14}" k2="${15}"
  local gb pcp="" pcc="" pgb="" kcp kcc kgb
  gb="$(calc "2 * $RECORDS * $RECORD_SIZE / 1e9")"
  if [[ -n "$c0" ]]; then
    pcp="$(ticks_to_s $((c1 - c0)))" pcc="$(ticks_to_s $((c2 - c1)))"
    pgb="$(calc "($pcp + $pcc) / $gb")"
  fi
  kcp="$(ticks_to_s $((k1 - k0)))" kcc="$(ticks_to_s $((k2 - k1)))"
  kgb="$(calc "($kcp + $kcc) / $gb")"
  echo "$round,$order,$target,$status,$RECORDS,$RECORD_SIZE,$p,$c,$(calc "$t1 - $t0"),$(calc "$t2 - $t1"),$pcp,$pcc,$pgb,$kcp,$kcc,$kgb" \
    >>"$RESULTS/results.csv"
}

report_run() {
  local round="$1" target="$2" status="$3" row
  row="$(tail -n 1 "$RESULTS/results.csv")"
  if [[ "$status" != ok ]]; then
    log "round $round $target: $status (logs: $4, $5)"
    tail -n 5 "$4" "$5" >&2 || true
    return 0
  fi
  awk -F, -v r="$round" -v t="$target" '{printf "kafka-perf: round %s %-12s produce %8.0f rec/s p99 %5s ms | consume %7.1f MB/s | proxy CPU %s s\n",
    r, t, $7, $13, $16, ($24 == "" ? "-" : $24 + $25)}' <<<"$row" >&2
}

# Produce and consume a few records through every target before round 1, so
# no measured run pays for JIT warm-up, first connections or the creation of
# __consumer_offsets (made by the first consumer group, 50 partitions).
warm_up() {
  ((WARMUP > 0)) || return 0
  local t topic logf
  for t in "${TARGETS[@]}"; do
    topic="perf-warmup-$t-$RANDOM" logf="$RESULTS/logs/warmup-$t.log"
    log "warm-up: $WARMUP records through $t"
    create_topic "$topic"
    { producer_test "${TARGET_BOOTSTRAP[$t]}" "$topic" "$WARMUP" &&
      consumer_test "${TARGET_BOOTSTRAP[$t]}" "$topic" "$WARMUP"; } >"$logf" 2>&1 ||
      die "warm-up through $t failed (log: $logf)"
    delete_topic "$topic"
  done
}

# ---------------------------------------------------------------- summary ---

declare -A THREADS=()

col_index() { tr ',' '\n' <<<"$CSV_HEADER" | grep -nx "$1" | cut -d: -f1; }

# "median min max n" of column $2 over target $1's ok runs; empty if none.
stats_of() {
  awk -F, -v t="$1" -v i="$(col_index "$2")" '$3 == t && $4 == "ok" && $i != "" {print $i}' \
    "$RESULTS/results.csv" | sort -g |
    awk '{v[NR] = $1} END {if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR], NR}'
}

# A table cell: "median [min-max]", plus the ratio of medians to direct.
cell() {
  local s d=""
  s="$(stats_of "$1" "$2")"
  [[ -n "$s" ]] || { printf 'n/a'; return 0; }
  [[ "$1" == direct || " ${TARGETS[*]} " != *" direct "* ]] || d="$(stats_of direct "$2")"
  awk -v s="$s" -v d="$d" 'function f(x) {return sprintf(x >= 100 ? "%.0f" : x >= 10 ? "%.1f" : "%.2f", x)}
    BEGIN {split(s, a, " "); split(d, b, " "); out = f(a[1]) " [" f(a[2]) "-" f(a[3]) "]"
      if (d != "" && b[1] > 0) out = out " " sprintf("%.2f", a[1] / b[1]) "x"; printf "%s", out}'
}

runs_ok() {
  awk -F, -v t="$1" '$3 == t {n++; if ($4 == "ok") k++} END {printf "%d/%d", k, n}' "$RESULTS/results.csv"
}

# Prints one Markdown table: $1 = header cells "|"-joined, then column names.
table() {
  local head="$1" t c
  shift
  echo "| target | ok runs | $head |"
  printf '|---|---|%s\n' "$(printf -- '---|%.0s' "$@")"
  for t in "${TARGETS[@]}"; do
    printf '| %s | %s |' "$t" "$(runs_ok "$t")"
    for c in "$@"; do printf ' %s |' "$(cell "$t" "$c")"; done
    echo
  done
}

cpu_table() {
  echo "| target | threads | CPU s produce | CPU s consume | CPU s per GB | Kafka CPU s per GB |"
  echo "|---|---|---|---|---|---|"
  local t
  for t in "${TARGETS[@]}"; do
    [[ "$t" != direct ]] || { printf '| direct | - | - | - | - | %s |\n' "$(cell direct kafka_cpu_s_per_gb)"; continue; }
    printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${THREADS[$t]:-?}" \
      "$(cell "$t" proxy_cpu_produce_s)" "$(cell "$t" proxy_cpu_consume_s)" \
      "$(cell "$t" proxy_cpu_s_per_gb)" "$(cell "$t" kafka_cpu_s_per_gb)"
  done
}

summarise() {
  local mb
  mb="$(calc "$RECORDS * $RECORD_SIZE / 1048576")"
  echo "## kafka-perf: $ROUNDS round(s), $RECORDS records x $RECORD_SIZE B (${mb%.*} MiB) per run"
  echo
  echo "Kafka $BROKERS broker(s), $PARTITIONS partitions, replication factor $BROKERS, acks=$ACKS;" \
    "$(nproc) CPUs (Kafka on ${CPUS_KAFKA:-any}, proxy on ${CPUS_PROXY:-any}, perf tools on ${CPUS_TOOL:-any})." \
    "Cells: median [min-max] over ok runs, then median / direct median (when direct ran)."
  echo "MB = 2^20 bytes (Kafka tools' unit); latencies in ms."
  echo
  echo "### Producer (kafka-producer-perf-test)"
  echo
  table "records/s | MB/s | avg latency | p50 latency | p99 latency" \
    p_records_per_sec p_mb_per_sec p_avg_ms p_p50_ms p_p99_ms
  echo
  echo "### Consumer (kafka-consumer-perf-test)"
  echo
  echo "MB/s spans the whole run including the group join; fetch MB/s excludes it."
  echo
  table "MB/s | records/s | fetch MB/s" c_mb_per_sec c_records_per_sec c_fetch_mb_per_sec
  echo
  echo "### CPU (utime+stime from /proc/PID/stat)"
  echo
  echo "Per GB forwarded = CPU seconds over the payload produced plus consumed (1 GB = 1e9 bytes)."
  echo "Kafka = all brokers together."
  echo
  cpu_table
}

json_escape() { sed 's/\\/\\\\/g; s/"/\\"/g' <<<"$1"; }

# results.json: {"meta": {...}, "runs": [one object per CSV row]}; numbers
# stay numbers, empty cells become null.
write_json() {
  local out="$RESULTS/results.json" k first=1
  {
    printf '{\n  "meta": {'
    while IFS='=' read -r k v; do
      ((first)) || printf ','
      first=0
      printf '\n    "%s": "%s"' "$k" "$(json_escape "$v")"
    done <"$RESULTS/meta.txt"
    printf '\n  },\n  "runs": [\n'
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) h[i] = $i; next}
      {printf "%s    {", (NR > 2 ? ",\n" : "")
       for (i = 1; i <= NF; i++) {
         v = ($i == "") ? "null" : (i == 3 || i == 4) ? "\"" $i "\"" : $i
         printf "%s\"%s\": %s", (i > 1 ? ", " : ""), h[i], v }
       printf "}"}
      END {print ""}' "$RESULTS/results.csv"
    printf '  ]\n}\n'
  } >"$out"
}

write_meta() {
  local kafka_version
  kafka_version="$(sed -n 's/^readonly KAFKA_VERSION=//p' "$KAFKA_LOCAL")"
  {
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host_cpus=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "java=$(java -version 2>&1 | head -n 1)"
    echo "kafka=$kafka_version"
    echo "sluice_rev=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "sluice_args=$SLUICE_ARGS"
    "$PEERS" versions | sed 's/^\([^ ]*\) /peer_\1=/'
    echo "targets=${TARGETS[*]}"
    echo "brokers=$BROKERS"
    echo "rounds=$ROUNDS"
    echo "records=$RECORDS"
    echo "record_size=$RECORD_SIZE"
    echo "partitions=$PARTITIONS"
    echo "acks=$ACKS"
    echo "producer_props=$PRODUCER_PROPS"
    echo "warmup_records=$WARMUP"
    echo "order=$ORDER"
    echo "port_base=$PORT_BASE"
    echo "cpus_kafka=${CPUS_KAFKA:-all}"
    echo "cpus_proxy=${CPUS_PROXY:-all}"
    echo "cpus_tool=${CPUS_TOOL:-all}"
  } >"$RESULTS/meta.txt"
}

# ------------------------------------------------------------------- main ---

install_all() {
  "$KAFKA_LOCAL" install >&2
  local t kept=()
  for t in "${TARGETS[@]}"; do
    if [[ "$t" == sluice && ! -x "$SLUICE_BIN" && "$SLUICE_BIN" == "$ROOT/target/release/sluice" ]]; then
      log "building sluice (cargo build --release --bin sluice)"
      (cd "$ROOT" && cargo build --release --bin sluice) >&2
    fi
    # Fail before starting Kafka rather than after.
    [[ "$t" != sluice || -x "$SLUICE_BIN" ]] || die "sluice binary $SLUICE_BIN missing"
    if is_peer "$t" && ! install_peer "$t"; then
      continue
    fi
    kept+=("$t")
  done
  TARGETS=("${kept[@]}")
}

# A peer that cannot be installed here is left out of the run, and the
# reason is printed under the table; the other targets still run.
install_peer() {
  local install_log="$RESULTS/logs/install-$1.txt"
  "$PEERS" install "$1" >"$install_log" 2>&1 && return 0
  cat "$install_log" >&2
  log "warning: $1 not run: could not be installed"
  printf '%s: could not be installed: %s\n' "$1" "$(tail -n 1 "$install_log" | sed "s/^peers: error: //")" >>"$RESULTS/not-run.txt"
  return 1
}

start_targets() {
  local t
  for t in "${TARGETS[@]}"; do
    case "$t" in
      sluice) start_sluice ;;
      kroxylicious | kafka-proxy) start_peer "$t" ;;
    esac
  done
}

main() {
  parse_opts "$@"
  mkdir -p "$RESULTS/logs"
  trap cleanup EXIT
  trap 'log "interrupted; stopping what was started"; exit 130' INT
  trap 'exit 143' TERM
  install_all
  pick_port_base
  log "results in $RESULTS; ports from $PORT_BASE"
  start_kafka
  start_targets
  write_meta
  echo "$CSV_HEADER" >"$RESULTS/results.csv"
  warm_up
  local round i n="${#TARGETS[@]}" shift=0
  for ((round = 1; round <= ROUNDS; round++)); do
    [[ "$ORDER" == fixed ]] || shift=$(((round - 1) % n))
    for ((i = 0; i < n; i++)); do
      run_one "$round" "$((i + 1))" "${TARGETS[$(((i + shift) % n))]}"
    done
  done
  # Thread counts after the runs: JVM and Go runtimes add threads lazily.
  for i in "${!TARGET_PID[@]}"; do
    THREADS[$i]="$(threads_of "${TARGET_PID[$i]}")"
    echo "threads_$i=${THREADS[$i]}" >>"$RESULTS/meta.txt"
  done
  write_json
  summarise | tee "$RESULTS/summary.md"
  log "raw results: $RESULTS/results.csv, $RESULTS/results.json"
}

main "$@"
