#!/usr/bin/env bash
# Table (f): TLS-terminated produce throughput per shard vs plaintext per
# shard (same sluice process, interleaved), and full TLS handshakes per
# second per shard. See usage().
set -euo pipefail
SCRIPT_NAME=tls
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/tls.sh [OPTIONS]

Generates a CA and an ECDSA P-256 server certificate (openssl) for
127.0.0.1/localhost, starts the sluice-bench responder (not Kafka, CPU 0)
and one sluice (1 shard, CPU 1) with two port-mapping listeners in front of
it: plaintext, and TLS (tls_server policy). sluice-bench (CPU 0) then runs:

  compare produce over plaintext and TLS (1 KiB x 16 records per request,
    then 64 KiB x 16), interleaved rounds, sluice's CPU time per run;
  compare handshakes on the TLS listener: --handshake-connections loops of
    connect, full handshake (no resumption), ApiVersions, close_notify.

Writes produce-16kib.json, produce-1mib.json, handshakes.json, meta.json,
table.md, summary.json, the certificates and logs to the results dir.

Options:
  --rounds N                 Interleaved rounds (default 5)
  --duration S               Measured seconds per run (default 3)
  --warmup S                 Warm-up seconds per run (default 1)
  --handshake-connections N  Concurrent handshake loops (default 16)
  --results-dir DIR          Default .sluice-cache/bench/tls-<UTC time>
  --no-wait                  Do not wait for the machine to be quiet
  -h, --help                 This help
EOF
}

ROUNDS=5 DURATION=3 WARMUP=1 HS_CONNECTIONS=16 RESULTS=""
table_option() {
  case "$1" in
    --handshake-connections) HS_CONNECTIONS="$2" ;;
    *) rounds_option "$@" ;;
  esac
}
parse_options "$@"
prepare_run tls

# A throwaway CA and a server certificate for 127.0.0.1 (the address the
# tool connects to; sluice advertises it) and localhost.
T="$RESULTS/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=sluice bench CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 30 \
  -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth') \
  -out "$T/server.pem" 2>/dev/null

pick_ports 5
RA=$PORT_BASE SP=$((PORT_BASE + 1)) TP=$((PORT_BASE + 3))
start_responder responder "$RA"
write_sluice_config "$RESULTS/sluice.yaml" "127.0.0.1:$RA" "$SP" 1 "$T/server.pem" "$T/server.key" "$TP"
start_sluice_ready "$RESULTS/sluice.yaml" "$SP"

wait_quiet
write_meta "{\"rounds\": $ROUNDS, \"duration\": $DURATION, \"warmup\": $WARMUP, \"handshake_connections\": $HS_CONNECTIONS}"
targets=(--tls-ca "$T/ca.pem" --target "plaintext=127.0.0.1:$SP,pid=$SLUICE_PID"
  --target "tls=127.0.0.1:$TP,pid=$SLUICE_PID,tls")
log "compare produce, plaintext vs TLS"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${targets[@]}" --json "$RESULTS/produce-16kib.json" \
  produce --topic bench --record-size 1024 --records-per-batch 16 --pipeline 5 \
  --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/produce-16kib.txt"
bench compare --rounds "$ROUNDS" --pause 0.5 -q "${targets[@]}" --json "$RESULTS/produce-1mib.json" \
  produce --topic bench --record-size 65536 --records-per-batch 16 --pipeline 2 \
  --duration "$DURATION" --warmup "$WARMUP" >"$RESULTS/logs/produce-1mib.txt"
log "handshakes"
bench compare --rounds "$ROUNDS" --pause 0.5 -q --tls-ca "$T/ca.pem" \
  --target "tls=127.0.0.1:$TP,pid=$SLUICE_PID" --json "$RESULTS/handshakes.json" \
  handshakes --connections "$HS_CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
  >"$RESULTS/logs/handshakes.txt"
python3 "$TABLES_PY" tls "$RESULTS"
log "results in $RESULTS"
