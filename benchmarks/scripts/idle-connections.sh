#!/usr/bin/env bash
# Table (e): sluice's resident memory per idle client connection (each with
# its upstream connection open). See usage().
set -euo pipefail
SCRIPT_NAME=idle-connections
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/idle-connections.sh [OPTIONS]

sluice (1 shard, CPU 1) in front of the sluice-bench responder (not Kafka,
CPU 0). `sluice-bench connections --pid <sluice>` (CPU 0) opens N
connections through sluice, each doing one ApiVersions round trip so that
sluice has opened its upstream connection too, holds them, and reads
sluice's VmRSS before and after: RSS per connection. Then a 3 s connect
storm (connect, ApiVersions, close). The open-file limit is raised first
(sluice needs 2 descriptors per connection, the responder and the tool 1).
Writes connections.json, meta.json, table.md, summary.json and logs.

Options:
  --connections N     Idle connections (default 10000)
  --settle S          Seconds to hold them before reading RSS (default 2)
  --sluice-args ARGS  Extra `sluice run` flags, e.g. '--read-chunk-bytes 4096'
  --results-dir DIR   Default .sluice-cache/bench/idle-connections-<UTC time>
  --no-wait           Do not wait for the machine to be quiet
  -h, --help          This help
EOF
}

CONNECTIONS=10000 SETTLE=2 RESULTS="" SLUICE_ARGS=""
table_option() {
  case "$1" in
    --connections) CONNECTIONS="$2" ;;
    --settle) SETTLE="$2" ;;
    --sluice-args) SLUICE_ARGS="$2" ;;
    *) return 1 ;;
  esac
}
parse_options "$@"
prepare_run

# Descriptors: sluice 2 per connection plus its own, so ask for 2N + 1024;
# root may raise the hard limit up to fs.nr_open.
need=$((2 * CONNECTIONS + 1024))
NOTE=""
if ((need > $(ulimit -Hn))); then
  ulimit -Hn "$need" 2>/dev/null ||
    NOTE="The hard open-file limit is $(ulimit -Hn) and cannot be raised here (raising it needs CAP_SYS_RESOURCE, which this machine's root lacks); sluice needs 2 descriptors per proxied connection (client + upstream) plus its own, so about $((($(ulimit -Hn) - 20) / 2)) connections is this machine's ceiling for one sluice process."
fi
ulimit -Sn "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"
log "open-file limit $NOFILE"

pick_ports 3
RA=$PORT_BASE SP=$((PORT_BASE + 1))
start_responder responder "$RA"
write_sluice_config "$RESULTS/sluice.yaml" "127.0.0.1:$RA" "$SP" 1
read -r -a extra <<<"$SLUICE_ARGS"
start_sluice_ready "$RESULTS/sluice.yaml" "$SP" "${extra[@]}"

wait_quiet
write_meta "{\"settle\": $SETTLE, \"nofile\": $NOFILE, \"connections\": $CONNECTIONS, \"note\": \"$NOTE\", \"sluice_args\": \"$SLUICE_ARGS\"}"
log "holding $CONNECTIONS connections through sluice"
bench connections --bootstrap "127.0.0.1:$SP" --pid "$SLUICE_PID" --connections "$CONNECTIONS" \
  --settle "$SETTLE" --duration 3 --storm-concurrency 16 -q \
  --json "$RESULTS/connections.json" >"$RESULTS/logs/connections.txt"
python3 "$TABLES_PY" idle-connections "$RESULTS"
log "results in $RESULTS"
