#!/usr/bin/env bash
# The sluice quickstart: a local Apache Kafka with sluice in front of it and a
# produce/consume round trip through the gateway. Both keep running
# afterwards; `deploy/quickstart.sh stop` stops them.
#
#   deploy/quickstart.sh          start (or restart) and show a round trip
#   deploy/quickstart.sh stop     stop sluice and Kafka
#
# Ports (loopback only): Kafka on 29092 (controller 29093), sluice bootstrap
# on 19092 and brokers on 19093-19095, sluice's admin endpoint (metrics,
# health, status) on 19080. Override with QUICKSTART_KAFKA_PORT,
# QUICKSTART_GATEWAY_PORT and QUICKSTART_ADMIN_PORT.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
STATE="${SLUICE_QUICKSTART_DIR:-$ROOT/.sluice-cache/quickstart}"
KAFKA_PORT="${QUICKSTART_KAFKA_PORT:-29092}"
GATEWAY_PORT="${QUICKSTART_GATEWAY_PORT:-19092}"
ADMIN_PORT="${QUICKSTART_ADMIN_PORT:-19080}"
SLUICE="$ROOT/target/release/sluice"

say() { printf '\033[1mquickstart:\033[0m %s\n' "$*"; }

stop_all() {
  if [[ -f "$STATE/sluice.pid" ]]; then
    kill -TERM "$(cat "$STATE/sluice.pid")" 2>/dev/null || true
    rm -f "$STATE/sluice.pid"
  fi
  deploy/kafka-local.sh stop --dir "$STATE/kafka" >/dev/null 2>&1 || true
}

write_config() {
  cat >"$STATE/sluice.yaml" <<YAML
backend_clusters:
  - name: local
    bootstrap_servers: ["127.0.0.1:$KAFKA_PORT"]
virtual_clusters:
  - name: quickstart
    dns_label: quickstart
    destination: { name: local }
listeners:
  - name: plain
    addresses: ["127.0.0.1"]
    ports: ["$GATEWAY_PORT-$((GATEWAY_PORT + 3))"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: quickstart }
          advertised_host: 127.0.0.1
          bootstrap_port: at_start
          min_broker_id: 1
YAML
}

start_gateway() {
  "$SLUICE" run --config "$STATE/sluice.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" \
    >"$STATE/sluice.log" 2>&1 &
  echo $! >"$STATE/sluice.pid"
  for _ in $(seq 1 100); do
    grep -q "sluice is serving" "$STATE/sluice.log" 2>/dev/null && return 0
    kill -0 "$(cat "$STATE/sluice.pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$STATE/sluice.log" >&2
  say "sluice did not start"; exit 1
}

round_trip() {
  local gw="127.0.0.1:$GATEWAY_PORT" topic
  topic="quickstart-$(date +%s)"
  say "producing 5 records to $topic through sluice at $gw (kcat)"
  printf 'hello %s\n' one two three four five | kcat -b "$gw" -P -t "$topic" -X acks=all
  say "consuming them back through sluice:"
  timeout 60 kcat -b "$gw" -C -t "$topic" -o beginning -c 5 -q -f '  %s (partition %p, offset %o)\n'
  say "brokers as clients see them (only gateway addresses):"
  kcat -b "$gw" -L | sed -n '1,4p'
}

main() {
  if [[ "${1:-}" == "stop" ]]; then stop_all; say "stopped"; exit 0; fi
  mkdir -p "$STATE"
  stop_all
  deploy/kafka-local.sh install
  say "building sluice (release)"
  cargo build --release --bin sluice
  say "starting Apache Kafka on 127.0.0.1:$KAFKA_PORT"
  rm -rf "$STATE/kafka"
  deploy/kafka-local.sh start --dir "$STATE/kafka" --brokers 1 --port-base "$KAFKA_PORT" >/dev/null
  write_config
  say "starting sluice: bootstrap 127.0.0.1:$GATEWAY_PORT (config $STATE/sluice.yaml)"
  start_gateway
  round_trip
  say "sluice and Kafka keep running; log: $STATE/sluice.log"
  say "metrics: http://127.0.0.1:$ADMIN_PORT/metrics, status: http://127.0.0.1:$ADMIN_PORT/status"
  say "point any Kafka client at 127.0.0.1:$GATEWAY_PORT; stop with: deploy/quickstart.sh stop"
}

main "$@"
