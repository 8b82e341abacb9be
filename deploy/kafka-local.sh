#!/usr/bin/env bash
# Installs and runs a real Apache Kafka (KRaft) cluster on loopback for
# sluice developers and tests. See usage() or run with --help.
#
# Kafka's release tarballs are not reachable from our machines, so the
# runtime is assembled from Maven Central jars (deploy/kafka/pom.xml) and
# every JVM is started directly with `java -cp "libs/*" <main class>`.
set -euo pipefail

# Newest Kafka 4.x on Maven Central when this was written. Bump here only;
# deploy/kafka/pom.xml takes it from -Dkafka.version.
readonly KAFKA_VERSION=4.4.0

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly CONF_SRC="$SCRIPT_DIR/kafka"
readonly CACHE_DIR="${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}"
readonly KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
readonly LIBS="$KAFKA_HOME/libs"
# Written last by install; its presence means libs/ is complete.
readonly INSTALL_MARKER="$KAFKA_HOME/.installed"
# kafka-python, a third client implementation for the tests, in its own venv.
readonly KAFKA_PYTHON_VERSION=3.0.12
readonly PYTHON_ENV="$CACHE_DIR/kafka-python-$KAFKA_PYTHON_VERSION"
readonly PYTHON_MARKER="$PYTHON_ENV/.installed"

# Log line printed by KafkaRaftServer once the broker is fully up.
readonly STARTED_MSG='Kafka Server started'
readonly DEFAULT_START_TIMEOUT=120
readonly DEFAULT_STOP_TIMEOUT=30

usage() {
  cat <<'EOF'
Usage: deploy/kafka-local.sh COMMAND [OPTIONS]

  install
      Download Apache Kafka jars once into ${SLUICE_CACHE_DIR:-~/.cache/sluice},
      install kcat (apt) if missing, and kafka-python (pip, into a virtual
      environment there). Idempotent.
  check
      Exit 0 if Kafka is installed (by install) and java is found; otherwise
      print on one line what is missing and exit 1. Tests ask this to decide
      whether they can run.
  start --dir DIR --brokers 1|3 --port-base P [--node-id-base 1] [--timeout S]
        [--tls-cert CERT.pem --tls-key KEY.pem --tls-ca CA.pem
         [--tls-client-auth none|required]] [--relay-host HOST]
        [--sasl-users NAME:PASSWORD,...]
      Format a fresh KRaft cluster (combined broker+controller nodes) in DIR and
      start it. Node i (0-based) gets node.id base+i, PLAINTEXT 127.0.0.1:P+i and
      controller 127.0.0.1:P+N+i. Waits until ready (default 120 s); the last
      stdout line is the bootstrap list.
      With --tls-*, 127.0.0.1:P+i speaks SSL instead (listener SSL) and brokers
      talk to each other over PLAINTEXT 127.0.0.1:P+2N+i (listener INTERNAL);
      controllers stay on P+N+i. CERT is the server certificate (chain), KEY its
      unencrypted private key (PKCS#8, or PKCS#1/SEC1 if openssl is installed),
      CA the PEM bundle that client certificates are checked against. Copies go
      to DIR/tls/. --tls-client-auth required demands client certificates
      (mutual TLS); the default is none.
      With --relay-host HOST (plaintext only), node i also listens on
      127.0.0.1:P+2N+i (listener RELAYED) and advertises it as HOST:P+2N+i, so
      a plain TCP relay on HOST:P+2N+i -> 127.0.0.1:P+2N+i carries every
      connection of clients bootstrapped there (benchmarks compare proxies
      against such a relay).
      With --sasl-users, 127.0.0.1:P+i speaks SASL_PLAINTEXT (listener
      SASL_PLAINTEXT) with mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512,
      each knowing the given users (SCRAM credentials are created when the
      storage is formatted); brokers talk to each other over PLAINTEXT
      127.0.0.1:P+2N+i (listener INTERNAL) as with TLS. Names and passwords
      are letters, digits, '_' and '-'.
  stop --dir DIR [--node ID] [--timeout S]
      SIGTERM all nodes (or one node id), wait (default 30 s), then SIGKILL.
  start-node --dir DIR [--node ID [--port P]] [--timeout S]
      Restart a stopped node of an existing DIR (without --node: all stopped
      nodes together) and wait until it is ready. TLS settings are kept.
      With --port (plaintext clusters), the node comes back listening on, and
      advertising, 127.0.0.1:P instead: a broker that moved. The move is kept
      in DIR for later commands.
  status --dir DIR
      Show which nodes run.
  python SCRIPT [ARGS...]
      Run a Python script with the project's Python Kafka client
      (kafka-python, pinned; installed by install into a virtual environment
      in the cache), e.g. deploy/clients/kafka_python_roundtrip.py.
  tool NAME [ARGS...]
      Run a Kafka CLI tool (kafka-topics, kafka-console-producer, ...); see
      `tool --list`. Tool logs go to stderr at WARN. For SSL brokers pass the
      client settings with --command-config FILE (all tools above, including
      the console producer/consumer, where the older --producer.config and
      --consumer.config are deprecated), FILE being e.g.:
          security.protocol=SSL
          ssl.truststore.type=PEM
          ssl.truststore.location=/path/ca.pem
          # mutual TLS only: one file, unencrypted PKCS#8 key then cert chain
          ssl.keystore.type=PEM
          ssl.keystore.location=/path/client-key-and-chain.pem

Environment:
  SLUICE_CACHE_DIR         cache root (default ~/.cache/sluice)
  SLUICE_KAFKA_HEAP_OPTS   broker heap flags (default -Xms256m -Xmx512m)
  SLUICE_KAFKA_JVM_OPTS    extra broker JVM flags
  SLUICE_KAFKA_TOOL_OPTS   extra tool JVM flags
  JAVA_HOME                Java 17+ to use (default: java on PATH)
EOF
}

log() { printf 'kafka-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

java_bin() {
  if [[ -n "${JAVA_HOME:-}" ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found (need Java 17+)"
  fi
}

# ---------------------------------------------------------------- install ---

cmd_install() {
  mkdir -p "$CACHE_DIR"
  # Tests may call install concurrently; serialise on a lock in the cache.
  exec 9>"$CACHE_DIR/.kafka-install.lock"
  flock 9
  [[ -f "$INSTALL_MARKER" ]] || install_jars
  command -v kcat >/dev/null || install_kcat
  [[ -f "$PYTHON_MARKER" ]] || install_python_client
  exec 9>&-
  echo "kafka $KAFKA_VERSION installed in $KAFKA_HOME"
}

install_jars() {
  command -v mvn >/dev/null || die "mvn not found (needed once to download Kafka)"
  local tmp="$KAFKA_HOME/libs.tmp" mvn_log="$KAFKA_HOME/install.log"
  rm -rf "$tmp" "$LIBS"
  mkdir -p "$tmp"
  # Plugin version pinned so the download is reproducible.
  if ! mvn -B -q -f "$CONF_SRC/pom.xml" \
      -Dkafka.version="$KAFKA_VERSION" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    die "downloading Kafka $KAFKA_VERSION with mvn failed (log: $mvn_log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka jar missing after download"
  mv "$tmp" "$LIBS"
  touch "$INSTALL_MARKER"
}

# kcat is a convenience (start uses it for fast readiness checks and falls
# back to a JVM tool), so failing to get it only warns.
install_kcat() {
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  command -v apt-get >/dev/null || { log "warning: no apt-get; install kcat by hand"; return 0; }
  if ! { "${sudo[@]}" apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq kcat; } \
      >"$KAFKA_HOME/apt.log" 2>&1; then
    tail -n 20 "$KAFKA_HOME/apt.log" >&2
    log "warning: apt-get install kcat failed (log: $KAFKA_HOME/apt.log)"
  fi
}

install_python_client() {
  rm -rf "$PYTHON_ENV"
  if ! python3 -m venv "$PYTHON_ENV" >/dev/null 2>&1; then
    # Debian ships venv apart from python3.
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    command -v apt-get >/dev/null &&
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq python3-venv >/dev/null 2>&1
    rm -rf "$PYTHON_ENV"
    python3 -m venv "$PYTHON_ENV" || die "python3 -m venv failed (install python3-venv)"
  fi
  if ! "$PYTHON_ENV/bin/pip" install -q "kafka-python==$KAFKA_PYTHON_VERSION" >"$PYTHON_ENV/pip.log" 2>&1; then
    tail -n 20 "$PYTHON_ENV/pip.log" >&2
    die "pip install kafka-python==$KAFKA_PYTHON_VERSION failed (log: $PYTHON_ENV/pip.log)"
  fi
  touch "$PYTHON_MARKER"
}

cmd_python() {
  [[ $# -ge 1 ]] || die "python needs a script"
  [[ -f "$PYTHON_MARKER" ]] || cmd_install >&2
  exec "$PYTHON_ENV/bin/python" "$@"
}

cmd_check() {
  local missing=()
  if [[ -n "${JAVA_HOME:-}" ]]; then
    [[ -x "$JAVA_HOME/bin/java" ]] || missing+=("no java in JAVA_HOME ($JAVA_HOME)")
  else
    command -v java >/dev/null || missing+=("no java on PATH")
  fi
  [[ -f "$INSTALL_MARKER" ]] ||
    missing+=("Kafka $KAFKA_VERSION not installed in $KAFKA_HOME by deploy/kafka-local.sh install")
  [[ -f "$PYTHON_MARKER" ]] ||
    missing+=("kafka-python $KAFKA_PYTHON_VERSION not installed in $PYTHON_ENV by deploy/kafka-local.sh install")
  if ((${#missing[@]})); then
    local joined
    joined="$(printf '%s; ' "${missing[@]}")"
    echo "${joined%; }"
    exit 1
  fi
  echo "kafka $KAFKA_VERSION installed in $KAFKA_HOME, java found"
}

# start installs on demand; its progress line goes to stderr to keep the
# bootstrap list the last stdout line.
ensure_installed() {
  [[ -f "$INSTALL_MARKER" ]] || cmd_install >&2
}

# ------------------------------------------------------------------- tool ---

# Main classes for Kafka 4.x (most tools moved from kafka.* to
# org.apache.kafka.tools.* during 3.x; checked against the 4.4.0 jars).
tool_class() {
  case "${1%.sh}" in
    kafka-topics)               echo org.apache.kafka.tools.TopicCommand ;;
    kafka-console-producer)     echo org.apache.kafka.tools.ConsoleProducer ;;
    kafka-console-consumer)     echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    kafka-consumer-groups)      echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    kafka-verifiable-producer)  echo org.apache.kafka.tools.VerifiableProducer ;;
    kafka-verifiable-consumer)  echo org.apache.kafka.tools.VerifiableConsumer ;;
    kafka-broker-api-versions)  echo org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    kafka-producer-perf-test)   echo org.apache.kafka.tools.ProducerPerformance ;;
    kafka-consumer-perf-test)   echo org.apache.kafka.tools.ConsumerPerformance ;;
    kafka-metadata-quorum)      echo org.apache.kafka.tools.MetadataQuorumCommand ;;
    kafka-cluster)              echo org.apache.kafka.tools.ClusterTool ;;
    kafka-configs)              echo org.apache.kafka.tools.ConfigCommand ;;
    kafka-get-offsets)          echo org.apache.kafka.tools.GetOffsetShell ;;
    kafka-transactions)         echo org.apache.kafka.tools.TransactionsCommand ;;
    kafka-delete-records)       echo org.apache.kafka.tools.DeleteRecordsCommand ;;
    kafka-storage)              echo kafka.tools.StorageTool ;;
    *) return 1 ;;
  esac
}

readonly TOOL_NAMES="kafka-topics kafka-console-producer kafka-console-consumer
kafka-consumer-groups kafka-verifiable-producer kafka-verifiable-consumer
kafka-broker-api-versions kafka-producer-perf-test kafka-consumer-perf-test
kafka-metadata-quorum kafka-cluster kafka-configs kafka-get-offsets
kafka-transactions kafka-delete-records kafka-storage"

cmd_tool() {
  local name="${1:-}"
  if [[ -z "$name" || "$name" == --list ]]; then
    echo "$TOOL_NAMES" | tr ' ' '\n'
    [[ -n "$name" ]] || exit 2
    return 0
  fi
  shift
  local class
  class="$(tool_class "$name")" || die "unknown tool '$name' (try: tool --list)"
  [[ -f "$INSTALL_MARKER" ]] || die "Kafka not installed; run: $0 install"
  local opts=(-Xmx512m -XX:+UseSerialGC)
  # One-shot admin tools finish sooner with C1 only; perf and verifiable
  # clients run long enough that full JIT pays off.
  case "$name" in
    *perf-test | *verifiable-*) ;;
    *) opts+=(-XX:TieredStopAtLevel=1) ;;
  esac
  local extra=()
  read -r -a extra <<<"${SLUICE_KAFKA_TOOL_OPTS:-}"
  exec "$(java_bin)" "${opts[@]}" "${extra[@]}" \
    -Dlog4j2.configurationFile="$CONF_SRC/log4j2-tools.properties" \
    -cp "$LIBS/*" "$class" "$@"
}

# ---------------------------------------------------------------- options ---

OPT_DIR="" OPT_BROKERS="" OPT_PORT_BASE="" OPT_NODE_ID_BASE=1 OPT_NODE="" OPT_TIMEOUT=""
OPT_TLS_CERT="" OPT_TLS_KEY="" OPT_TLS_CA="" OPT_TLS_CLIENT_AUTH="" OPT_RELAY_HOST=""
OPT_SASL_USERS="" OPT_PORT=""

parse_opts() {
  while (($#)); do
    [[ $# -ge 2 ]] || die "option $1 needs a value"
    case "$1" in
      --dir) OPT_DIR="$2" ;;
      --brokers) OPT_BROKERS="$2" ;;
      --port-base) OPT_PORT_BASE="$2" ;;
      --node-id-base) OPT_NODE_ID_BASE="$2" ;;
      --node) OPT_NODE="$2" ;;
      --timeout) OPT_TIMEOUT="$2" ;;
      --tls-cert) OPT_TLS_CERT="$2" ;;
      --tls-key) OPT_TLS_KEY="$2" ;;
      --tls-ca) OPT_TLS_CA="$2" ;;
      --tls-client-auth) OPT_TLS_CLIENT_AUTH="$2" ;;
      --relay-host) OPT_RELAY_HOST="$2" ;;
      --sasl-users) OPT_SASL_USERS="$2" ;;
      --port) OPT_PORT="$2" ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
  done
  local v
  for v in "$OPT_BROKERS" "$OPT_PORT_BASE" "$OPT_NODE_ID_BASE" "$OPT_NODE" "$OPT_TIMEOUT" "$OPT_PORT"; do
    [[ -z "$v" || "$v" =~ ^[0-9]+$ ]] || die "not a number: $v"
  done
  [[ -n "$OPT_DIR" ]] || die "--dir is required"
  # Configs embed paths, so make DIR absolute.
  OPT_DIR="$(realpath -m -- "$OPT_DIR")"
}

# ---------------------------------------------------------- cluster state ---

# DIR/cluster.env records the layout so stop/start-node/status need only --dir.
CL_BROKERS="" CL_PORT_BASE="" CL_NODE_ID_BASE="" CL_CLUSTER_ID=""
# CL_TLS: 1 if the client listener speaks SSL; DIRs from before TLS support
# have no such line and are plain.
CL_TLS=0 CL_TLS_CLIENT_AUTH=none
# CL_RELAY_HOST: the host the RELAYED listener advertises; empty: none.
CL_RELAY_HOST=""
# CL_SASL: 1 if the client listener speaks SASL_PLAINTEXT.
CL_SASL=0
# Client ports of nodes moved by start-node --port, by node id.
declare -A CL_MOVED=()

load_cluster() {
  local dir="$1" key value
  [[ -f "$dir/cluster.env" ]] || die "no cluster in $dir (run start first)"
  while IFS='=' read -r key value; do
    case "$key" in
      brokers) CL_BROKERS="$value" ;;
      port_base) CL_PORT_BASE="$value" ;;
      node_id_base) CL_NODE_ID_BASE="$value" ;;
      cluster_id) CL_CLUSTER_ID="$value" ;;
      tls) CL_TLS="$value" ;;
      tls_client_auth) CL_TLS_CLIENT_AUTH="$value" ;;
      relay_host) CL_RELAY_HOST="$value" ;;
      sasl) CL_SASL="$value" ;;
      moved_port_*) CL_MOVED[${key#moved_port_}]="$value" ;;
    esac
  done <"$dir/cluster.env"
}

node_ids() { seq "$CL_NODE_ID_BASE" $((CL_NODE_ID_BASE + CL_BROKERS - 1)); }
node_dir() { printf '%s/node-%s\n' "$OPT_DIR" "$1"; }
broker_port() { echo "${CL_MOVED[$1]:-$((CL_PORT_BASE + $1 - CL_NODE_ID_BASE))}"; }
controller_port() { echo $((CL_PORT_BASE + CL_BROKERS + $1 - CL_NODE_ID_BASE)); }
# Inter-broker PLAINTEXT listener with TLS; the RELAYED listener without.
internal_port() { echo $((CL_PORT_BASE + 2 * CL_BROKERS + $1 - CL_NODE_ID_BASE)); }
# Port the script's own metadata checks use: with TLS the PLAINTEXT internal
# listener, so they need no client identity even when mTLS is required.
check_port() {
  if ((CL_TLS || CL_SASL)); then internal_port "$1"; else broker_port "$1"; fi
}
port_count() { echo $(((CL_TLS || CL_SASL || ${#CL_RELAY_HOST} ? 3 : 2) * CL_BROKERS)); }

bootstrap_list() {
  local id out=""
  for id in $(node_ids); do out+="${out:+,}127.0.0.1:$(broker_port "$id")"; done
  echo "$out"
}

# Prints the pid of node $1 if it runs. The pid file alone is not trusted
# (pids get reused): the process must be a JVM started on this node's config.
node_pid() {
  local pidfile pid
  pidfile="$(node_dir "$1")/kafka.pid"
  [[ -f "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # grep without -q throughout: an early exit would SIGPIPE the writer and
  # pipefail would turn a match into a failure.
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
    grep -F " $(node_dir "$1")/server.properties " >/dev/null || return 1
  echo "$pid"
}

port_open() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Kafka cluster ids are 16 random bytes, base64url without padding. One that
# starts with '-' would be read as an option, so Kafka never makes those.
new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$id" == -* ]] || break
  done
  echo "$id"
}

# ------------------------------------------------------------------ start ---

write_node_config() {
  local id="$1" d n="$CL_BROKERS" voters="" v
  d="$(node_dir "$id")"
  for v in $(node_ids); do voters+="${voters:+,}$v@127.0.0.1:$(controller_port "$v")"; done
  # With N=3, acks=all survives one node down at min ISR 2; with fewer nodes
  # only min ISR 1 leaves room for a node to be down.
  local min_isr=1 txn_min_isr=$((n < 2 ? n : 2))
  ((n < 3)) || min_isr=2
  mkdir -p "$d/data"
  cat >"$d/server.properties" <<CONF
# Generated by deploy/kafka-local.sh; node $id of $n.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
$(listener_config "$id")
controller.listener.names=CONTROLLER
log.dirs=$d/data
num.partitions=1
# Auto-created topics get full replication so they work with min ISR 2.
default.replication.factor=$n
offsets.topic.replication.factor=$n
transaction.state.log.replication.factor=$n
transaction.state.log.min.isr=$txn_min_isr
min.insync.replicas=$min_isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# Few threads: several brokers share 2 cores with the code under test.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
# A restarted node cannot re-register until its old session expires (9 s by
# default); shorter sessions make stop/start-node cycles quick.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
CONF
  ((CL_TLS == 0)) || tls_config >>"$d/server.properties"
  ((CL_SASL == 0)) || sasl_config >>"$d/server.properties"
}

# Listener lines of node $1's server.properties.
listener_config() {
  local bp cp ip
  bp="$(broker_port "$1")" cp="$(controller_port "$1")"
  ip="$(internal_port "$1")"
  if ((CL_TLS == 0)) && [[ -n "$CL_RELAY_HOST" ]]; then
    cat <<CONF
listeners=PLAINTEXT://127.0.0.1:$bp,CONTROLLER://127.0.0.1:$cp,RELAYED://127.0.0.1:$ip
advertised.listeners=PLAINTEXT://127.0.0.1:$bp,RELAYED://$CL_RELAY_HOST:$ip
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,RELAYED:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
CONF
    return 0
  fi
  if ((CL_SASL)); then
    cat <<CONF
listeners=SASL_PLAINTEXT://127.0.0.1:$bp,CONTROLLER://127.0.0.1:$cp,INTERNAL://127.0.0.1:$ip
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$bp,INTERNAL://127.0.0.1:$ip
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
CONF
    return 0
  fi
  if ((CL_TLS == 0)); then
    cat <<CONF
listeners=PLAINTEXT://127.0.0.1:$bp,CONTROLLER://127.0.0.1:$cp
advertised.listeners=PLAINTEXT://127.0.0.1:$bp
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
CONF
    return 0
  fi
  # Replication and the script's readiness checks use INTERNAL, so they keep
  # working whatever the client listener demands. It must be advertised too:
  # brokers find each other's inter-broker endpoint through the metadata.
  cat <<CONF
listeners=SSL://127.0.0.1:$bp,CONTROLLER://127.0.0.1:$cp,INTERNAL://127.0.0.1:$ip
advertised.listeners=SSL://127.0.0.1:$bp,INTERNAL://127.0.0.1:$ip
listener.security.protocol.map=SSL:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
CONF
}

# SSL settings, scoped to the SSL listener so no other listener is affected.
# PEM stores need no keystore/truststore password; the key is unencrypted,
# so ssl.key.password is not set either.
tls_config() {
  cat <<CONF
# Client listener TLS (start --tls-*); files written by write_tls_files.
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$OPT_DIR/tls/keystore.pem
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$OPT_DIR/tls/truststore.pem
listener.name.ssl.ssl.client.auth=$CL_TLS_CLIENT_AUTH
CONF
}

# SASL settings of the SASL_PLAINTEXT listener: PLAIN users in its JAAS
# line, SCRAM users in the cluster metadata (sasl_scram_args, at format).
sasl_config() {
  local users="" pair
  for pair in ${OPT_SASL_USERS//,/ }; do
    users+=" user_${pair%%:*}=\"${pair#*:}\""
  done
  cat <<CONF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$users;
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
CONF
}

# StorageTool arguments creating every --sasl-users user for both SCRAM
# mechanisms.
sasl_scram_args() {
  local pair mechanism
  for pair in ${OPT_SASL_USERS//,/ }; do
    for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
      printf '%s\n' --add-scram "$mechanism=[name=\"${pair%%:*}\",password=\"${pair#*:}\"]"
    done
  done
}

check_sasl_opts() {
  [[ -n "$OPT_SASL_USERS" ]] || return 0
  [[ -z "$OPT_TLS_CERT$OPT_RELAY_HOST" ]] || die "--sasl-users cannot be combined with --tls-* or --relay-host"
  local pair
  for pair in ${OPT_SASL_USERS//,/ }; do
    [[ "$pair" =~ ^[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$ ]] ||
      die "--sasl-users: expected NAME:PASSWORD of letters, digits, _ and -"
  done
}

# ------------------------------------------------------------------- tls ---

# Checks the --tls-* options of start and reads the files into TLS_KEYSTORE
# and TLS_TRUSTSTORE, so bad input fails before DIR is touched.
TLS_KEYSTORE="" TLS_TRUSTSTORE=""
check_tls_opts() {
  local given=0 f certs
  for f in "$OPT_TLS_CERT" "$OPT_TLS_KEY" "$OPT_TLS_CA"; do [[ -z "$f" ]] || given=$((given + 1)); done
  if ((given == 0)); then
    [[ -z "$OPT_TLS_CLIENT_AUTH" ]] || die "--tls-client-auth needs --tls-cert, --tls-key and --tls-ca"
    return 0
  fi
  ((given == 3)) || die "--tls-cert, --tls-key and --tls-ca go together"
  case "${OPT_TLS_CLIENT_AUTH:-none}" in
    none | required) ;;
    *) die "--tls-client-auth must be none or required" ;;
  esac
  for f in "$OPT_TLS_CERT" "$OPT_TLS_KEY" "$OPT_TLS_CA"; do
    [[ -r "$f" ]] || die "cannot read $f"
  done
  certs="$(pem_blocks "$OPT_TLS_CERT" CERTIFICATE)"
  [[ -n "$certs" ]] || die "no PEM certificate in $OPT_TLS_CERT"
  TLS_TRUSTSTORE="$(pem_blocks "$OPT_TLS_CA" CERTIFICATE)"
  [[ -n "$TLS_TRUSTSTORE" ]] || die "no PEM certificate in $OPT_TLS_CA"
  # Key first, then the chain: the layout Kafka's PEM keystore file expects.
  TLS_KEYSTORE="$(pkcs8_key "$OPT_TLS_KEY")"$'\n'"$certs"
}

# Prints the PEM blocks of type $2 (e.g. CERTIFICATE) found in file $1.
pem_blocks() {
  sed -n "/^-----BEGIN $2-----/,/^-----END $2-----/p" "$1"
}

# Prints KEY as unencrypted PKCS#8, the only unencrypted form Kafka's PEM
# keystore parses; PKCS#1 (RSA) and SEC1 (EC) keys are converted.
pkcs8_key() {
  local key="$1"
  if grep -E '^-----BEGIN (RSA |EC )PRIVATE KEY-----' "$key" >/dev/null; then
    command -v openssl >/dev/null || die "$key is not PKCS#8 and openssl is missing to convert it"
    openssl pkcs8 -topk8 -nocrypt -in "$key" || die "cannot convert $key to PKCS#8"
  elif grep -F -e '-----BEGIN PRIVATE KEY-----' "$key" >/dev/null; then
    pem_blocks "$key" 'PRIVATE KEY'
  elif grep -F -e '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$key" >/dev/null; then
    die "$key is encrypted; decrypt it: openssl pkcs8 -in KEY -out PLAIN.key"
  else
    die "no PEM private key in $key"
  fi
}

# Writes DIR/tls/keystore.pem and truststore.pem from what check_tls_opts
# read. Copies keep DIR self-contained for start-node; going through a temp
# file keeps this correct if an input already is one of these files.
write_tls_files() {
  local t="$OPT_DIR/tls"
  mkdir -p "$t"
  # The keystore holds a private key: readable by the owner only.
  (umask 077 && printf '%s\n' "$TLS_KEYSTORE" >"$t/keystore.pem.tmp")
  printf '%s\n' "$TLS_TRUSTSTORE" >"$t/truststore.pem.tmp"
  mv "$t/keystore.pem.tmp" "$t/keystore.pem"
  mv "$t/truststore.pem.tmp" "$t/truststore.pem"
}

# Formats all nodes' storage in parallel (one short JVM each).
format_nodes() {
  local id pids=() ids=() scram=()
  ((CL_SASL == 0)) || mapfile -t scram < <(sasl_scram_args)
  for id in "$@"; do
    "$(java_bin)" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
      -Dlog4j2.configurationFile="$OPT_DIR/log4j2-tools.properties" \
      -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$CL_CLUSTER_ID" -c "$(node_dir "$id")/server.properties" "${scram[@]}" \
      >"$(node_dir "$id")/format.log" 2>&1 &
    pids+=("$!") ids+=("$id")
  done
  local i
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      cat "$(node_dir "${ids[$i]}")/format.log" >&2
      die "formatting storage of node ${ids[$i]} failed"
    fi
  done
}

declare -A LOG_OFFSET=()
LAUNCHED=()

# Starts node $1 detached (own session, so a Ctrl-C or a test runner killing
# its process group does not take the cluster down half-way; stop does that).
launch_node() {
  local id="$1" d heap=() extra=()
  d="$(node_dir "$id")"
  read -r -a heap <<<"${SLUICE_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  read -r -a extra <<<"${SLUICE_KAFKA_JVM_OPTS:-}"
  # Readiness is judged on log lines written after this offset only.
  LOG_OFFSET[$id]="$(stat -c %s "$d/server.log" 2>/dev/null || echo 0)"
  rm -f "$d/kafka.pid"
  # SerialGC: no concurrent GC threads competing on 2 cores, fine at 512 MB.
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner bash.
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' kafka-node "$d/kafka.pid" \
    "$(java_bin)" "${heap[@]}" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true "${extra[@]}" \
    -Dlog4j2.configurationFile="$OPT_DIR/log4j2-broker.properties" \
    -cp "$LIBS/*" kafka.Kafka "$d/server.properties" \
    </dev/null >>"$d/server.log" 2>&1 &
  LAUNCHED+=("$id")
  local i
  for i in {1..50}; do [[ -s "$d/kafka.pid" ]] && return 0; sleep 0.1; done
  die "node $id did not start (see $d/server.log)"
}

# Number of live brokers node $1's metadata reports. kcat starts in
# milliseconds; the JVM tool is only a fallback for machines without it.
live_brokers() {
  local port
  port="$(check_port "$1")"
  if command -v kcat >/dev/null; then
    kcat -L -b "127.0.0.1:$port" -m 5 2>/dev/null |
      sed -n 's/^ *\([0-9][0-9]*\) brokers:.*/\1/p'
  else
    "$0" tool kafka-broker-api-versions --bootstrap-server "127.0.0.1:$port" \
      2>/dev/null | grep -c '(id: ' || true
  fi
}

node_ready() {
  local id="$1" log
  log="$(node_dir "$id")/server.log"
  tail -c +$((LOG_OFFSET[$id] + 1)) "$log" | grep -F "$STARTED_MSG" >/dev/null || return 1
  # A bare TCP accept on the SSL listener is enough to show it is bound.
  port_open "$(broker_port "$id")" || return 1
  # Every node that runs must be visible, so a restart is only done once the
  # cluster is whole again (all N after start).
  local live
  live="$(live_brokers "$id")"
  ((${live:-0} >= $(running_count)))
}

running_count() {
  local id n=0
  for id in $(node_ids); do ! node_pid "$id" >/dev/null || n=$((n + 1)); done
  echo "$n"
}

# Stops what this invocation launched and exits, showing the culprit's log.
fail_start() {
  local id="$1" msg="$2"
  log "$msg; last lines of $(node_dir "$id")/server.log:"
  tail -n 40 "$(node_dir "$id")/server.log" >&2 || true
  stop_nodes 10 "${LAUNCHED[@]}" >/dev/null 2>&1 || true
  die "$msg"
}

wait_ready() {
  local timeout="$1" id pending still
  shift
  local deadline=$((SECONDS + timeout))
  pending=("$@")
  while :; do
    still=()
    for id in "${pending[@]}"; do
      node_pid "$id" >/dev/null || fail_start "$id" "node $id exited during startup"
      node_ready "$id" || still+=("$id")
    done
    ((${#still[@]})) || return 0
    pending=("${still[@]}")
    ((SECONDS < deadline)) || fail_start "${pending[0]}" \
      "node(s) ${pending[*]} not ready within ${timeout}s"
    sleep 0.5
  done
}

# A DIR may be reused: the previous cluster must be stopped; only the files
# this script created there are removed.
reset_dir() {
  [[ -f "$OPT_DIR/cluster.env" ]] || return 0
  load_cluster "$OPT_DIR"
  local id
  for id in $(node_ids); do
    ! node_pid "$id" >/dev/null || die "node $id of $OPT_DIR still runs; stop it first"
  done
  for id in $(node_ids); do rm -rf "$(node_dir "$id")"; done
  rm -f "$OPT_DIR/cluster.env"
}

cmd_start() {
  parse_opts "$@"
  # 1 and 3 are the sizes we test; other small sizes work the same way.
  [[ "$OPT_BROKERS" =~ ^[1-9]$ ]] || die "--brokers must be 1..9 (usually 1 or 3)"
  [[ -n "$OPT_PORT_BASE" ]] || die "--port-base is required"
  [[ -z "$OPT_PORT" ]] || die "--port is for start-node"
  ensure_installed
  check_tls_opts
  check_sasl_opts
  mkdir -p "$OPT_DIR"
  reset_dir
  CL_BROKERS="$OPT_BROKERS" CL_PORT_BASE="$OPT_PORT_BASE"
  CL_NODE_ID_BASE="$OPT_NODE_ID_BASE" CL_CLUSTER_ID="$(new_cluster_id)"
  CL_TLS=0 CL_TLS_CLIENT_AUTH="${OPT_TLS_CLIENT_AUTH:-none}"
  [[ -z "$TLS_KEYSTORE" ]] || CL_TLS=1
  CL_RELAY_HOST="$OPT_RELAY_HOST"
  CL_SASL=0
  [[ -z "$OPT_SASL_USERS" ]] || CL_SASL=1
  ((CL_TLS == 0)) || [[ -z "$CL_RELAY_HOST" ]] || die "--relay-host is for plaintext clusters only"
  [[ -z "$CL_RELAY_HOST" || "$CL_RELAY_HOST" =~ ^[A-Za-z0-9.:-]+$ ]] || die "--relay-host: not a host: $CL_RELAY_HOST"
  local p id
  for ((p = CL_PORT_BASE; p < CL_PORT_BASE + $(port_count); p++)); do
    ! port_open "$p" || die "port $p is already in use"
  done
  ((CL_TLS == 0)) || write_tls_files
  # start-node restarts from server.properties and DIR/tls as written here;
  # the tls lines tell it (and status) which port the checks use.
  printf '%s\n' "brokers=$CL_BROKERS" "port_base=$CL_PORT_BASE" \
    "node_id_base=$CL_NODE_ID_BASE" "cluster_id=$CL_CLUSTER_ID" \
    "tls=$CL_TLS" "tls_client_auth=$CL_TLS_CLIENT_AUTH" "relay_host=$CL_RELAY_HOST" "sasl=$CL_SASL" >"$OPT_DIR/cluster.env"
  # Configs are copied so DIR keeps working if the checkout moves.
  cp "$CONF_SRC/log4j2-broker.properties" "$CONF_SRC/log4j2-tools.properties" "$OPT_DIR/"
  local ids
  mapfile -t ids < <(node_ids)
  for id in "${ids[@]}"; do write_node_config "$id"; done
  format_nodes "${ids[@]}"
  for id in "${ids[@]}"; do launch_node "$id"; done
  wait_ready "${OPT_TIMEOUT:-$DEFAULT_START_TIMEOUT}" "${ids[@]}"
  log "cluster of $CL_BROKERS in $OPT_DIR is ready"
  bootstrap_list
}

# Without --node, restarts every stopped node at once: after a full stop no
# single node can start alone, as it needs a controller quorum.
cmd_start_node() {
  parse_opts "$@"
  [[ -z "$OPT_TLS_CERT$OPT_TLS_KEY$OPT_TLS_CA$OPT_TLS_CLIENT_AUTH$OPT_RELAY_HOST" ]] ||
    die "start-node reuses the TLS and relay settings of start; --tls-* and --relay-host are for start"
  [[ -z "$OPT_PORT" || -n "$OPT_NODE" ]] || die "--port needs --node"
  load_cluster "$OPT_DIR"
  local ids id
  if [[ -n "$OPT_NODE" ]]; then
    [[ -f "$(node_dir "$OPT_NODE")/server.properties" ]] || die "no node $OPT_NODE in $OPT_DIR"
    [[ -z "$OPT_PORT" ]] || move_node "$OPT_NODE" "$OPT_PORT"
    ids=("$OPT_NODE")
  else
    mapfile -t ids < <(node_ids)
  fi
  ensure_installed
  for id in "${ids[@]}"; do
    if node_pid "$id" >/dev/null; then
      LOG_OFFSET[$id]=0 # already runs: any earlier start counts
    else
      launch_node "$id"
    fi
  done
  wait_ready "${OPT_TIMEOUT:-$DEFAULT_START_TIMEOUT}" "${ids[@]}"
  log "node(s) ${ids[*]} ready"
  bootstrap_list
}

# move_node ID PORT: rewrite stopped node ID's config to listen on PORT.
move_node() {
  local id="$1" port="$2"
  if ((CL_TLS || CL_SASL)) || [[ -n "$CL_RELAY_HOST" ]]; then
    die "--port is for plaintext clusters only"
  fi
  ! node_pid "$id" >/dev/null || die "node $id runs; stop it before moving it"
  ! port_open "$port" || die "port $port is already in use"
  CL_MOVED[$id]="$port"
  echo "moved_port_$id=$port" >>"$OPT_DIR/cluster.env"
  write_node_config "$id"
  log "node $id moves to 127.0.0.1:$port"
}

# ------------------------------------------------------------ stop/status ---

# stop_nodes TIMEOUT ID...: SIGTERM all at once, then SIGKILL whatever is
# still there at the deadline. All at once because stopping one by one is no
# faster: the KRaft leader waits up to 5 s for a successor that will never
# come, and whichever node ends up last as leader hangs without a quorum.
stop_nodes() {
  local timeout="$1" id pid killed=0
  shift
  declare -A running=()
  for id in "$@"; do
    if pid="$(node_pid "$id")"; then
      kill -TERM "$pid" 2>/dev/null || true
      running[$id]="$pid"
    fi
  done
  local deadline=$((SECONDS + timeout))
  while ((${#running[@]})); do
    for id in "${!running[@]}"; do
      node_pid "$id" >/dev/null || { log "stopped node $id"; unset "running[$id]"; }
    done
    ((${#running[@]})) || break
    if ((SECONDS >= deadline)); then
      ((killed == 0)) || die "node(s) ${!running[*]} survived SIGKILL"
      for id in "${!running[@]}"; do
        log "node $id did not stop within ${timeout}s; killing it"
        kill -KILL "${running[$id]}" 2>/dev/null || true
      done
      killed=1 deadline=$((SECONDS + 10))
    fi
    sleep 0.2
  done
  for id in "$@"; do rm -f "$(node_dir "$id")/kafka.pid"; done
}

cmd_stop() {
  parse_opts "$@"
  [[ -f "$OPT_DIR/cluster.env" ]] || { log "no cluster in $OPT_DIR; nothing to stop"; return 0; }
  load_cluster "$OPT_DIR"
  local timeout="${OPT_TIMEOUT:-$DEFAULT_STOP_TIMEOUT}" alive
  alive="$(running_count)"
  # A broker's clean shutdown needs the controller quorum to fence it; with
  # fewer than a majority of nodes left it retries forever, so don't wait long.
  if ((alive > 0 && alive <= CL_BROKERS / 2)); then
    log "no controller quorum ($alive of $CL_BROKERS nodes run); SIGKILL after 3 s"
    ((timeout < 3)) || timeout=3
  fi
  if [[ -n "$OPT_NODE" ]]; then
    [[ -d "$(node_dir "$OPT_NODE")" ]] || die "no node $OPT_NODE in $OPT_DIR"
    stop_nodes "$timeout" "$OPT_NODE"
    return 0
  fi
  local ids
  mapfile -t ids < <(node_ids)
  stop_nodes "$timeout" "${ids[@]}"
}

cmd_status() {
  parse_opts "$@"
  load_cluster "$OPT_DIR"
  local id pid proto=""
  ((CL_TLS == 0)) || proto=" SSL client-auth=$CL_TLS_CLIENT_AUTH"
  ((CL_SASL == 0)) || proto=" SASL_PLAINTEXT"
  for id in $(node_ids); do
    if pid="$(node_pid "$id")"; then
      echo "node $id running pid $pid 127.0.0.1:$(broker_port "$id")$proto"
    else
      echo "node $id stopped 127.0.0.1:$(broker_port "$id")$proto"
    fi
  done
}

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
    install) cmd_install ;;
    check) cmd_check ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    start-node) cmd_start_node "$@" ;;
    status) cmd_status "$@" ;;
    tool) cmd_tool "$@" ;;
    python) cmd_python "$@" ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) log "unknown command '$cmd'"; usage >&2; exit 2 ;;
  esac
}

main "$@"
