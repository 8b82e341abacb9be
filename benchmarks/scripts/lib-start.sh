# Start-up sequences shared by the table scripts: the responder, sluice and
# the proxies they compare, each started through lib.sh's start_bg,
# start_kafka, start_sluice or start_peer so that bench_cleanup stops them.
# Sourced by lib.sh, not run.
# shellcheck shell=bash

# start_responder NAME PORT [RESPONDER ARGS...]: the built-in responder (not
# Kafka) on 127.0.0.1:PORT, pinned to $CPU_RESPONDER, logging to
# logs/NAME.log.
start_responder() {
  local name="$1" port="$2"
  shift 2
  start_bg "$name" "$CPU_RESPONDER" "$RESULTS/logs/$name.log" \
    "$BENCH_BIN" responder --listen "127.0.0.1:$port" "$@" --quiet
}

# start_sluice_ready CONFIG PORT [EXTRA ARGS]: start_sluice, then waits for an
# answer through 127.0.0.1:PORT (sluice serving means it listens, not that
# its backend answers yet).
start_sluice_ready() {
  local config="$1" port="$2"
  shift 2
  start_sluice "$config" "$@"
  wait_ready "127.0.0.1:$port" || die "no answer through sluice"
}

# start_relay_targets CONFIG: the hop comparison on the responder: direct to
# responder A, sluice (config written to CONFIG) in front of it, and the
# relay on 127.0.0.2, where responder B advertises itself so that every
# connection of that target goes through the relay. Sets TARGET_ARGS.
start_relay_targets() {
  local config="$1" ra sp rb relay_pid a
  # Ports: responder A (1), sluice (2), responder B / relay (1).
  pick_ports 4
  ra=$PORT_BASE sp=$((PORT_BASE + 1)) rb=$((PORT_BASE + 3))
  start_responder responder-a "$ra"
  start_responder responder-b "$rb" --advertised-host "$RELAY_HOST"
  start_relay "$rb"
  relay_pid="$BG_PID"
  write_sluice_config "$config" "127.0.0.1:$ra" "$sp" 1
  start_sluice "$config"
  for a in "127.0.0.1:$ra" "127.0.0.1:$sp" "$RELAY_HOST:$rb"; do
    wait_ready "$a" || die "$a does not answer"
  done
  TARGET_ARGS=(--target "direct=127.0.0.1:$ra" --target "sluice=127.0.0.1:$sp,pid=$SLUICE_PID"
    --target "relay=$RELAY_HOST:$rb,pid=$relay_pid")
}

# start_relay PORT: the plain TCP relay (sluice-bench relay, on the proxy's
# CPU) from $RELAY_HOST:PORT to 127.0.0.1:PORT. Sets BG_PID.
start_relay() {
  start_bg relay "$CPU_PROXY" "$RESULTS/logs/relay.log" \
    "$BENCH_BIN" relay --listen "$RELAY_HOST:$1" --to "127.0.0.1:$1" --cpus "$CPU_PROXY" --quiet
}

# start_kafka_targets LIST TOPIC...: a 1-broker Kafka with the 6-partition
# TOPICs, and in front of it the proxies named in LIST (comma list from
# direct, sluice, kroxylicious, kafka-proxy, relay). Sets TARGET_ARGS,
# direct first.
start_kafka_targets() {
  local list="$1" topic t
  shift
  # Ports: Kafka 3 (the last one relayed), sluice 2, kroxylicious 2,
  # kafka-proxy 1.
  pick_ports 8
  start_kafka "$RESULTS/kafka" "$PORT_BASE"
  for topic; do create_kafka_topic "$topic" 6; done
  TARGET_ARGS=(--target "direct=$KAFKA_BOOTSTRAP")
  for t in ${list//,/ }; do start_kafka_target "$t"; done
}

# One target of start_kafka_targets, on its own ports of the block.
start_kafka_target() {
  local sp=$((PORT_BASE + 3)) rp=$((PORT_BASE + 2))
  case "$1" in
    direct) ;;
    sluice)
      write_sluice_config "$RESULTS/sluice.yaml" "$KAFKA_BOOTSTRAP" "$sp" 1
      start_sluice "$RESULTS/sluice.yaml"
      wait_ready "127.0.0.1:$sp" || die "no Metadata through sluice"
      TARGET_ARGS+=(--target "sluice=127.0.0.1:$sp,pid=$SLUICE_PID") ;;
    kroxylicious)
      start_peer kroxylicious "$KAFKA_BOOTSTRAP" $((PORT_BASE + 5)) || return 0
      TARGET_ARGS+=(--target "kroxylicious=$PEER_ADDR,pid=$PEER_PID") ;;
    kafka-proxy)
      start_peer kafka-proxy "$KAFKA_BOOTSTRAP" $((PORT_BASE + 7)) || return 0
      TARGET_ARGS+=(--target "kafka-proxy=$PEER_ADDR,pid=$PEER_PID") ;;
    relay)
      start_relay "$rp"
      wait_ready "$RELAY_HOST:$rp" || die "no Metadata through the relay"
      TARGET_ARGS+=(--target "relay=$RELAY_HOST:$rp,pid=$BG_PID") ;;
    *) die "unknown target $1" ;;
  esac
}
