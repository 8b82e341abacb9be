#!/usr/bin/env bash
# Where sluice's CPU goes on its hot path: sluice (one shard) in front of the
# sluice-bench responder (not Kafka), profiled under two workloads. See
# usage().
set -euo pipefail
SCRIPT_NAME=profile
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/profile.sh [OPTIONS]

sluice (1 shard, CPU 1) in front of the sluice-bench responder (not Kafka,
CPU 0), driven by sluice-bench (CPU 0) with these workloads in turn:

  produce-16kib  produce 1 KiB x 16 records per request, 4 connections x 8
  ping           ApiVersions, 4 connections x 32 pipelined
  kafka-produce  the same produce as compare-kafka.sh (2 connections x 5,
                 acks=all), sluice in front of a real 1-broker Kafka (CPU 0)

Profiler: `perf record` with hardware cycles when `perf stat -e instructions
true` counts here; otherwise (virtual machines without PMU access)
`valgrind --tool=callgrind`, which counts user-space instructions exactly
(sluice runs ~50x slower under it; proportions are what matter). With
--perf-clock, also `perf record -e cpu-clock` (software timer sampling,
kernel included) of a native-speed run. Writes per workload the raw profile,
the annotated listing (<workload>.txt) and table.md with the top functions
by exclusive cost.

Options:
  --duration S        Seconds of load per workload (default 6)
  --perf-clock        Also sample with perf cpu-clock (kernel time included)
  --results-dir DIR   Default .sluice-cache/bench/profile-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help
EOF
}

DURATION=6 PERF_CLOCK=0 RESULTS=""
table_flag() { [[ "$1" == --perf-clock ]] && PERF_CLOCK=1; }
table_option() { [[ "$1" == --duration ]] && DURATION="$2"; }
parse_options "$@"
prepare_run

if perf stat -e instructions true 2>&1 | grep -q 'not supported\|not counted' || ! command -v perf >/dev/null; then
  PROFILER=callgrind
  command -v valgrind >/dev/null || { log "installing valgrind"; apt-get install -y valgrind >&2; }
else
  PROFILER=perf
fi
log "profiler: $PROFILER"

# Ports: responder 1, sluice 2, Kafka 3 (start_kafka), sluice on Kafka 2.
pick_ports 8
RA=$PORT_BASE SP=$((PORT_BASE + 1)) KP=$((PORT_BASE + 3)) SKP=$((PORT_BASE + 6))
start_responder responder "$RA"
write_sluice_config "$RESULTS/sluice.yaml" "127.0.0.1:$RA" "$SP" 1
start_kafka "$RESULTS/kafka" "$KP"
create_kafka_topic bench-profile 6
write_sluice_config "$RESULTS/sluice-kafka.yaml" "$KAFKA_BOOTSTRAP" "$SKP" 1

workload_args() {
  case "$1" in
    produce-16kib) echo produce --topic bench --record-size 1024 --records-per-batch 16 --connections 4 --pipeline 8 ;;
    ping) echo ping --connections 4 --pipeline 32 ;;
    kafka-produce) echo produce --topic bench-profile --record-size 1024 --records-per-batch 16 --acks -1 --connections 2 --pipeline 5 ;;
  esac
}
config_of() { [[ "$1" == kafka-* ]] && echo "$RESULTS/sluice-kafka.yaml" || echo "$RESULTS/sluice.yaml"; }
port_of() { [[ "$1" == kafka-* ]] && echo "$SKP" || echo "$SP"; }

# profile_one WORKLOAD MODE OUT: a fresh sluice, profiled by MODE
# (callgrind: runs under valgrind; perf-cycles / perf-clock: perf record
# attached to it while the load runs), the workload, then sluice stopped.
profile_one() {
  local wl="$1" mode="$2" out="$3" name i wrap=() perf_pid=""
  name="sluice-$wl-$mode"
  [[ "$mode" != callgrind ]] || wrap=(valgrind --tool=callgrind --callgrind-out-file="$out")
  start_bg "$name" "$CPU_PROXY" "$RESULTS/logs/$name.log" "${wrap[@]}" \
    "$SLUICE_BIN" run --config "$(config_of "$wl")" --shards 1 --cpus "$CPU_PROXY" --drain-timeout-ms 1000
  local pid="$BG_PID"
  for i in {1..300}; do
    grep -q 'sluice is serving' "$RESULTS/logs/$name.log" && break
    sleep 0.1
  done
  wait_ready "127.0.0.1:$(port_of "$wl")" || die "sluice ($mode) does not answer"
  case "$mode" in
    perf-cycles) perf record -g -p "$pid" -o "$out" -- sleep "$(awk -v d="$DURATION" 'BEGIN {print d + 1}')" \
      >"$RESULTS/logs/$name-perf.log" 2>&1 & perf_pid=$! ;;
    perf-clock) perf record -e cpu-clock -F 2000 -g -p "$pid" -o "$out" -- sleep "$(awk -v d="$DURATION" 'BEGIN {print d + 1}')" \
      >"$RESULTS/logs/$name-perf.log" 2>&1 & perf_pid=$! ;;
  esac
  # shellcheck disable=SC2046 # word splitting intended
  bench $(workload_args "$wl") --bootstrap "127.0.0.1:$(port_of "$wl")" --duration "$DURATION" --warmup 1 -q \
    --json "$RESULTS/$wl-$mode-load.json" >"$RESULTS/logs/$name-load.txt"
  [[ -z "$perf_pid" ]] || wait "$perf_pid" || true
  stop_bg "$name"
}

wait_quiet
write_meta "{\"duration\": $DURATION, \"profiler\": \"$PROFILER\"}"
for wl in produce-16kib ping kafka-produce; do
  log "profiling $wl"
  if [[ "$PROFILER" == callgrind ]]; then
    profile_one "$wl" callgrind "$RESULTS/$wl.callgrind"
    callgrind_annotate "$RESULTS/$wl.callgrind" >"$RESULTS/$wl.txt" 2>/dev/null
    callgrind_annotate --inclusive=yes "$RESULTS/$wl.callgrind" >"$RESULTS/$wl-inclusive.txt" 2>/dev/null
  else
    profile_one "$wl" perf-cycles "$RESULTS/$wl.perf"
    perf report -i "$RESULTS/$wl.perf" --no-children --stdio 2>/dev/null | head -200 >"$RESULTS/$wl.txt" || true
  fi
  if ((PERF_CLOCK)) && [[ "$PROFILER" == callgrind ]]; then
    profile_one "$wl" perf-clock "$RESULTS/$wl.cpuclock.perf"
    perf report -i "$RESULTS/$wl.cpuclock.perf" --no-children --sort dso,sym --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -40 >"$RESULTS/$wl-cpuclock.txt" || true
    perf report -i "$RESULTS/$wl.cpuclock.perf" --no-children --sort dso --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -6 >"$RESULTS/$wl-cpuclock-dso.txt" || true
  fi
done
python3 - "$RESULTS" "$PROFILER" "$PERF_CLOCK" <<'PY' | tee "$RESULTS/table.md"
import os, re, sys
results, profiler, clock = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

def short(name):
    name = re.sub(r"^.*?:(?=[^/:]*(?:::|<|$))", "", name, count=1) if "/" in name.split(":")[0] else name
    name = re.sub(r" \[[^\]]*\]$", "", name)
    return (name[:110] + "...") if len(name) > 113 else name

def top(path, n=12):
    rows = []
    for line in open(path):
        m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            rows.append((float(m.group(2)), m.group(3)))
    return rows[:n]

for wl, label in (("produce-16kib", "responder (not Kafka), produce 16 KiB requests, 4 conns x 8"),
                  ("ping", "responder (not Kafka), ApiVersions, 4 conns x 32 pipelined"),
                  ("kafka-produce", "real Kafka, produce 16 KiB requests, 2 conns x 5, acks=all")):
    if not os.path.exists(os.path.join(results, f"{wl}.txt")):
        continue
    print(f"**{label}** ({profiler}, user-space instructions, exclusive):")
    print()
    cg = os.path.join(results, f"{wl}.callgrind")
    load = os.path.join(results, f"{wl}-callgrind-load.json")
    if os.path.exists(cg) and os.path.exists(load):
        import json, subprocess
        tree = subprocess.run(["callgrind_annotate", "--tree=calling", cg], capture_output=True, text=True).stdout
        def calls(fn):
            return sum(int(m.group(1).replace(",", "")) for m in re.finditer(
                rf">\s+\S*{re.escape(fn)} \(([\d,]+)x\)", tree))
        j = json.load(open(load))
        reqs = j["requests_per_sec"] * (j["duration_s"] + j["warmup_s"])
        if reqs:
            print(f"System calls made by sluice during this run (callgrind call counts) per request forwarded: "
                  f"send(2) {calls('send.c:send') / reqs:.2f}, recv(2) {calls('recv.c:recv') / reqs:.2f}, "
                  f"io_uring_enter {calls('syscall.c:__sys_io_uring_enter') / reqs:.2f} "
                  f"({j['requests_per_sec'] * (j['duration_s'] + j['warmup_s']):,.0f} requests).")
            print()
    print("| % of sluice instructions | function (file:function) |")
    print("|---|---|")
    for pct, name in top(os.path.join(results, f"{wl}.txt")):
        print(f"| {pct:.1f}% | `{short(name)}` |")
    print()
    cc = os.path.join(results, f"{wl}-cpuclock.txt")
    if clock and os.path.exists(cc):
        dso = os.path.join(results, f"{wl}-cpuclock-dso.txt")
        split = ", ".join(" ".join(l.split()[:2]) for l in open(dso)) if os.path.exists(dso) else "?"
        print(f"perf cpu-clock samples of a native-speed run (kernel included); by object: {split}. Top symbols:")
        print()
        print("| % of samples | object | symbol |")
        print("|---|---|---|")
        for line in list(open(cc))[:10]:
            parts = line.split()
            if len(parts) >= 3:
                print(f"| {parts[0]} | {parts[1]} | `{' '.join(parts[2:])[:90]}` |")
        print()
PY
log "results in $RESULTS"
