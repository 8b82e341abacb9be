#!/usr/bin/env bash
# Installs and runs, on loopback, the Kafka proxies a user would pick instead
# of sluice, each in a passthrough configuration (no filters, no auth, no TLS)
# in front of a given Kafka, so benchmarks compare like with like. See usage().
#
# Third-party code is never committed: install downloads it through the
# package registries into ${SLUICE_CACHE_DIR:-~/.cache/sluice}.
set -euo pipefail

# Pinned versions. Kroxylicious: the newest kroxylicious-runtime on Maven
# Central as we can reach it (see kroxylicious/pom.xml for why not
# kroxylicious-app). kafka-proxy: newest tag of grepplabs/kafka-proxy.
readonly KROXYLICIOUS_VERSION=0.12.0
readonly KAFKA_PROXY_MODULE=github.com/grepplabs/kafka-proxy
readonly KAFKA_PROXY_VERSION=v0.4.3

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly KROX_SRC="$SCRIPT_DIR/kroxylicious"
readonly CACHE_DIR="${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}"
readonly KROX_HOME="$CACHE_DIR/kroxylicious-$KROXYLICIOUS_VERSION"
readonly KP_HOME="$CACHE_DIR/kafka-proxy-$KAFKA_PROXY_VERSION"
readonly DEFAULT_START_TIMEOUT=60
readonly DEFAULT_STOP_TIMEOUT=15

usage() {
  cat <<'EOF'
Usage: benchmarks/scripts/peers.sh COMMAND [OPTIONS]

Runs peer Kafka proxies (alternatives to sluice) in passthrough configuration
on 127.0.0.1, for benchmarks. PEER is kroxylicious or kafka-proxy.

  install [PEER|all]
      Download/build the peers once into ${SLUICE_CACHE_DIR:-~/.cache/sluice}
      (Kroxylicious from Maven Central with mvn, kafka-proxy with go install
      through the Go module proxy) and install kcat (apt) if missing.
  start PEER --kafka H:P[,H:P...] --listen-port-base Q --dir DIR [--timeout S]
      Start PEER in front of the Kafka brokers listed (one entry per broker).
      kroxylicious: bootstrap on Q, broker with node id n on Q+1+(n-min id).
      kafka-proxy:  broker i of the --kafka list on Q+i (Q is the bootstrap).
      Waits (default 60 s) until a Metadata round trip through the proxy
      (kcat -L) lists every broker at a proxy address. The last stdout line is
      "bootstrap=127.0.0.1:Q pid=PID". Config, log and pid file go to DIR.
  stop --dir DIR [--timeout S]
      SIGTERM the peer started in DIR, wait (default 15 s), then SIGKILL.
  versions
      Print the pinned peer versions.

Environment:
  SLUICE_CACHE_DIR               cache root (default ~/.cache/sluice)
  SLUICE_KROXYLICIOUS_HEAP_OPTS  Kroxylicious heap (default -Xmx1g)
  SLUICE_KROXYLICIOUS_JVM_OPTS   extra Kroxylicious JVM flags, e.g.
                                 -XX:ActiveProcessorCount=1 to change how many
                                 event-loop threads it starts (default: CPUs)
  SLUICE_KAFKA_PROXY_ARGS        extra kafka-proxy server flags
  SLUICE_KAFKA_PROXY_BIN         use this kafka-proxy binary instead of
                                 installing one (for machines whose Go module
                                 proxy does not serve the module)
                                 (of tag v0.4.3, with vendor/) instead of go
                                 install
  JAVA_HOME                      Java 17+ for Kroxylicious (default: PATH)
EOF
}

log() { printf 'peers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

java_bin() {
  if [[ -n "${JAVA_HOME:-}" ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found (Kroxylicious needs Java 17+)"
  fi
}

# ---------------------------------------------------------------- install ---

install_kcat() {
  command -v kcat >/dev/null && return 0
  command -v apt-get >/dev/null || die "kcat missing and no apt-get; install kcat"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  log "installing kcat (apt)"
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq kcat >&2
}

# Jars with mvn, then the launcher compiled against them. Written to a temp
# dir and renamed, so an interrupted install is never taken for a complete one.
install_kroxylicious() {
  [[ -f "$KROX_HOME/.installed" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed once to download Kroxylicious)"
  local javac tmp="$KROX_HOME.tmp"
  javac="$(dirname "$(readlink -f "$(java_bin)")")/javac"
  [[ -x "$javac" ]] || die "javac not found next to $(java_bin) (need a JDK 17+)"
  rm -rf "$tmp" && mkdir -p "$tmp/classes"
  log "downloading Kroxylicious $KROXYLICIOUS_VERSION from Maven Central"
  # Plugin version pinned so the download is reproducible.
  if ! mvn -B -q -f "$KROX_SRC/pom.xml" -Dkroxylicious.version="$KROXYLICIOUS_VERSION" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$tmp/install.log" 2>&1; then
    tail -n 30 "$tmp/install.log" >&2
    die "mvn could not download Kroxylicious (log: $tmp/install.log)"
  fi
  "$javac" -nowarn -d "$tmp/classes" -cp "$tmp/libs/*" "$KROX_SRC/KroxyliciousMain.java" \
    || die "compiling KroxyliciousMain.java failed"
  touch "$tmp/.installed"
  rm -rf "$KROX_HOME" && mv "$tmp" "$KROX_HOME"
}

kafka_proxy_bin() {
  if [[ -n "${SLUICE_KAFKA_PROXY_BIN:-}" ]]; then
    printf '%s\n' "$SLUICE_KAFKA_PROXY_BIN"
  else
    printf '%s\n' "$KP_HOME/bin/kafka-proxy"
  fi
}

# Same flags as the project's release builds (static, stripped, version set).
readonly KP_LDFLAGS="-s -w -X $KAFKA_PROXY_MODULE/config.Version=$KAFKA_PROXY_VERSION"

install_kafka_proxy() {
  if [[ -n "${SLUICE_KAFKA_PROXY_BIN:-}" ]]; then
    [[ -x "$SLUICE_KAFKA_PROXY_BIN" ]] || die "SLUICE_KAFKA_PROXY_BIN=$SLUICE_KAFKA_PROXY_BIN is not executable"
    return 0
  fi
  [[ -x "$KP_HOME/bin/kafka-proxy" ]] && return 0
  command -v go >/dev/null || die "go not found (needed once to build kafka-proxy)"
  mkdir -p "$KP_HOME/bin"
  local out="$KP_HOME/install.log"
  log "installing $KAFKA_PROXY_MODULE@$KAFKA_PROXY_VERSION with go install"
  # GOBIN gets the binary as kafka-proxy; rename-on-success as above.
  if ! GOBIN="$KP_HOME/gobin" CGO_ENABLED=0 go install -ldflags "$KP_LDFLAGS" \
      "$KAFKA_PROXY_MODULE@$KAFKA_PROXY_VERSION" >"$out" 2>&1; then
    cat "$out" >&2
    die "go install $KAFKA_PROXY_MODULE@$KAFKA_PROXY_VERSION failed; if the Go module" \
      "proxy refuses it, set SLUICE_KAFKA_PROXY_BIN to a kafka-proxy $KAFKA_PROXY_VERSION binary (see --help)"
  fi
  mv "$KP_HOME/gobin/kafka-proxy" "$KP_HOME/bin/kafka-proxy.tmp"
  mv "$KP_HOME/bin/kafka-proxy.tmp" "$KP_HOME/bin/kafka-proxy"
}

cmd_install() {
  local which="${1:-all}"
  mkdir -p "$CACHE_DIR"
  # Benchmarks may call install concurrently; serialise on a lock.
  exec 8>"$CACHE_DIR/.peers-install.lock"
  flock 8
  install_kcat
  case "$which" in
    kroxylicious) install_kroxylicious ;;
    kafka-proxy) install_kafka_proxy ;;
    all) install_kroxylicious; install_kafka_proxy ;;
    *) die "unknown peer '$which' (kroxylicious, kafka-proxy or all)" ;;
  esac
  exec 8>&-
  log "installed: $which ($CACHE_DIR)"
}

# ---------------------------------------------------------------- options ---

OPT_DIR="" OPT_KAFKA="" OPT_PORT_BASE="" OPT_TIMEOUT=""

parse_opts() {
  while (($#)); do
    [[ $# -ge 2 ]] || die "option $1 needs a value"
    case "$1" in
      --dir) OPT_DIR="$2" ;;
      --kafka) OPT_KAFKA="$2" ;;
      --listen-port-base) OPT_PORT_BASE="$2" ;;
      --timeout) OPT_TIMEOUT="$2" ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
  done
  local v
  for v in "$OPT_PORT_BASE" "$OPT_TIMEOUT"; do
    [[ -z "$v" || "$v" =~ ^[0-9]+$ ]] || die "not a number: $v"
  done
  [[ -n "$OPT_DIR" ]] || die "--dir is required"
  OPT_DIR="$(realpath -m -- "$OPT_DIR")"
}

# --------------------------------------------------------------- process ---

# Field $2 (1-based, as in proc(5)) of /proc/$1/stat. The command name (field
# 2) may hold spaces and parentheses, so split after its closing ')'.
proc_stat_field() {
  local stat rest fields
  stat="$(<"/proc/$1/stat")" || return 1
  rest="${stat##*) }"
  read -r -a fields <<<"$rest"
  printf '%s\n' "${fields[$(($2 - 3))]}"
}

# Prints the pid of the peer recorded in DIR if that very process still runs:
# the start time guards against a recycled pid.
peer_pid() {
  local f="$OPT_DIR/peer.pid" pid start
  [[ -f "$f" ]] || return 1
  read -r pid start <"$f"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(proc_stat_field "$pid" 22 2>/dev/null)" == "$start" ]] || return 1
  echo "$pid"
}

port_in_use() { ss -Htln "sport = :$1" | grep -q .; }

# Starts "$@" in its own session (so a Ctrl-C aimed at the caller does not
# stop it half-way; stop does that) with output to $1, records pid+start time.
launch() {
  local logf="$1" pid i
  shift
  rm -f "$OPT_DIR/peer.pid.tmp"
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner bash.
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' peer "$OPT_DIR/peer.pid.tmp" "$@" \
    </dev/null >>"$logf" 2>&1 &
  for i in {1..50}; do [[ -s "$OPT_DIR/peer.pid.tmp" ]] && break; sleep 0.1; done
  pid="$(<"$OPT_DIR/peer.pid.tmp")" || die "peer did not start (see $logf)"
  # exec keeps pid and start time, so the wrapper's are the peer's.
  echo "$pid $(proc_stat_field "$pid" 22)" >"$OPT_DIR/peer.pid"
  rm -f "$OPT_DIR/peer.pid.tmp"
}

# ------------------------------------------------------------------ start ---

# Node ids of the backend's brokers, one per line, sorted (from Metadata).
backend_node_ids() {
  local b
  b="${OPT_KAFKA%%,*}"
  kcat -L -b "$b" -m 10 2>/dev/null |
    sed -n 's/^ *broker \([0-9][0-9]*\) at .*/\1/p' | sort -n
}

# Kroxylicious config: one virtual cluster, one port-identifies-node gateway
# (port per broker), no filters, no management endpoint. Node n gets port
# nodeStartPort + (n - start of range); the range spans the backend's ids.
write_kroxylicious_config() {
  local ids q="$OPT_PORT_BASE"
  mapfile -t ids < <(backend_node_ids)
  ((${#ids[@]})) || die "no broker answered Metadata at ${OPT_KAFKA%%,*}"
  PEER_PORT_LO=$((q + 1)) PEER_PORT_HI=$((q + 1 + ids[-1] - ids[0]))
  cat >"$OPT_DIR/kroxylicious.yaml" <<YAML
# Generated by benchmarks/scripts/peers.sh: Kroxylicious $KROXYLICIOUS_VERSION in
# passthrough (no filters) in front of $OPT_KAFKA.
virtualClusters:
  - name: bench
    targetCluster:
      bootstrapServers: $OPT_KAFKA
    gateways:
      - name: loopback
        portIdentifiesNode:
          bootstrapAddress: 127.0.0.1:$q
          advertisedBrokerAddressPattern: 127.0.0.1
          nodeStartPort: $PEER_PORT_LO
          nodeIdRanges:
            - name: brokers
              start: ${ids[0]}
              end: ${ids[-1]}
    logNetwork: false
    logFrames: false
YAML
}

start_kroxylicious() {
  cmd_install kroxylicious
  write_kroxylicious_config
  local heap=() extra=()
  read -r -a heap <<<"${SLUICE_KROXYLICIOUS_HEAP_OPTS:--Xmx1g}"
  read -r -a extra <<<"${SLUICE_KROXYLICIOUS_JVM_OPTS:-}"
  # As Kroxylicious' own start script: default GC (G1 here), exit on OOM.
  launch "$OPT_DIR/kroxylicious.log" "$(java_bin)" "${heap[@]}" \
    -XX:+ExitOnOutOfMemoryError "${extra[@]}" \
    -Dlog4j2.configurationFile="$KROX_SRC/log4j2.properties" \
    -cp "$KROX_HOME/libs/*:$KROX_HOME/classes" KroxyliciousMain "$OPT_DIR/kroxylicious.yaml"
}

# kafka-proxy: one listener per broker, broker i of --kafka on Q+i, all on
# 127.0.0.1; dynamic listeners off (every broker is mapped) and the HTTP
# metrics endpoint off (it would take a fixed port, 9080). No auth, no TLS
# are its defaults.
start_kafka_proxy() {
  cmd_install kafka-proxy
  local args=(server --default-listener-ip 127.0.0.1 --dynamic-listeners-disable --http-disable)
  local b i=0 extra=() brokers=()
  IFS=',' read -r -a brokers <<<"$OPT_KAFKA"
  for b in "${brokers[@]}"; do
    args+=(--bootstrap-server-mapping "$b,127.0.0.1:$((OPT_PORT_BASE + i))")
    i=$((i + 1))
  done
  read -r -a extra <<<"${SLUICE_KAFKA_PROXY_ARGS:-}"
  PEER_PORT_LO="$OPT_PORT_BASE" PEER_PORT_HI=$((OPT_PORT_BASE + i - 1))
  printf '%q ' "$(kafka_proxy_bin)" "${args[@]}" "${extra[@]}" >"$OPT_DIR/kafka-proxy.cmdline"
  echo >>"$OPT_DIR/kafka-proxy.cmdline"
  launch "$OPT_DIR/kafka-proxy.log" "$(kafka_proxy_bin)" "${args[@]}" "${extra[@]}"
}

# True once Metadata through the proxy lists $1 brokers, every one at
# 127.0.0.1 on a port the proxy owns: proof that it accepts, reaches the
# backend and rewrites addresses.
metadata_ok() {
  local want="$1" got
  got="$(kcat -L -b "127.0.0.1:$OPT_PORT_BASE" -m 5 2>/dev/null |
    sed -n 's/^ *broker [0-9][0-9]* at \([^ ]*\).*/\1/p')" || return 1
  [[ -n "$got" && "$(wc -l <<<"$got")" -eq "$want" ]] || return 1
  local addr port
  while read -r addr; do
    [[ "$addr" == 127.0.0.1:* ]] || return 1
    port="${addr##*:}"
    ((port >= PEER_PORT_LO && port <= PEER_PORT_HI)) || return 1
  done <<<"$got"
}

wait_ready() {
  local logf="$1" want="$2" deadline=$((SECONDS + ${OPT_TIMEOUT:-$DEFAULT_START_TIMEOUT}))
  while ! metadata_ok "$want"; do
    if ! peer_pid >/dev/null; then
      tail -n 30 "$logf" >&2
      die "peer exited during startup (log: $logf)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$logf" >&2
      stop_peer 5
      die "no Metadata round trip through 127.0.0.1:$OPT_PORT_BASE in time (log: $logf)"
    fi
    sleep 0.5
  done
}

# The ports the peer will bind: bootstrap Q up to Q+N (kafka-proxy needs one
# fewer, but checking one extra is harmless).
check_ports_free() {
  local n="$1" p
  for ((p = OPT_PORT_BASE; p <= OPT_PORT_BASE + n; p++)); do
    ! port_in_use "$p" || die "port $p is already in use"
  done
}

cmd_start() {
  local peer="${1:-}"
  (($#)) && shift
  [[ "$peer" == kroxylicious || "$peer" == kafka-proxy ]] ||
    die "unknown peer '$peer' (kroxylicious or kafka-proxy)"
  parse_opts "$@"
  [[ -n "$OPT_KAFKA" ]] || die "--kafka is required"
  [[ -n "$OPT_PORT_BASE" ]] || die "--listen-port-base is required"
  command -v kcat >/dev/null || install_kcat
  mkdir -p "$OPT_DIR"
  ! peer_pid >/dev/null || die "a peer started in $OPT_DIR still runs; stop it first"
  local n
  n="$(tr ',' '\n' <<<"$OPT_KAFKA" | grep -c .)"
  check_ports_free "$n"
  if [[ "$peer" == kroxylicious ]]; then start_kroxylicious; else start_kafka_proxy; fi
  printf 'peer=%s\nbootstrap=127.0.0.1:%s\n' "$peer" "$OPT_PORT_BASE" >"$OPT_DIR/peer.env"
  wait_ready "$OPT_DIR/$peer.log" "$n"
  log "$peer ready in front of $OPT_KAFKA ($(grep Threads "/proc/$(peer_pid)/status" | tr -s '\t' ' '))"
  echo "bootstrap=127.0.0.1:$OPT_PORT_BASE pid=$(peer_pid)"
}

# ------------------------------------------------------------------- stop ---

stop_peer() {
  local timeout="$1" pid
  if ! pid="$(peer_pid)"; then
    rm -f "$OPT_DIR/peer.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while peer_pid >/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if peer_pid >/dev/null; then
    log "pid $pid did not stop within ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while peer_pid >/dev/null; do
      ((SECONDS < deadline)) || die "pid $pid survived SIGKILL"
      sleep 0.2
    done
  fi
  rm -f "$OPT_DIR/peer.pid"
  log "stopped pid $pid"
}

cmd_stop() {
  parse_opts "$@"
  stop_peer "${OPT_TIMEOUT:-$DEFAULT_STOP_TIMEOUT}"
}

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    versions)
      echo "kroxylicious $KROXYLICIOUS_VERSION (io.kroxylicious:kroxylicious-runtime)"
      echo "kafka-proxy $KAFKA_PROXY_VERSION ($KAFKA_PROXY_MODULE)"
      ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) log "unknown command '$cmd'"; usage >&2; exit 2 ;;
  esac
}

main "$@"
