#!/usr/bin/env bash
# Local Apache Kafka 4.x (KRaft, combined broker+controller, single node) for chainwatch tests
# and the demo.
#
#   deploy/local/kafka.sh [start|stop|status|restart]   (default: start)
#   deploy/local/kafka.sh fetch                          only fetch the jars (cluster.sh uses them)
#   deploy/local/kafka.sh topics <TopicCommand args>     e.g. topics --list
#                                                         (--bootstrap-server is added for you)
#
# Jars: the official artifacts from Maven Central (org.apache.kafka:kafka_2.13 + kafka-tools +
# log4j2 binding), fetched once with mvn via deploy/local/kafka-pom.xml into
#   ${CHAINWATCH_CACHE:-$HOME/.cache/chainwatch}/kafka-$KAFKA_VERSION/libs
# State (config, data, logs): ${CHAINWATCH_STATE:-<repo>/.state}/kafka
# Ports (127.0.0.1 only): client ${KAFKA_PORT:-19092}, controller ${KAFKA_CONTROLLER_PORT:-19093}.
# Idempotent: "start" on a running, answering broker does nothing; data survives stop/start.
# Extra settings (a private broker for a test, e.g. a SASL/SCRAM listener):
#   KAFKA_EXTRA_PROPS   lines appended to server.properties (a later key wins: listeners=...)
#   KAFKA_CLIENT_PROPS  lines appended to the CLI/readiness client.properties (security.protocol=...)
#   KAFKA_FORMAT_ARGS   extra storage-format arguments (--add-scram SCRAM-SHA-512=[name=u,password=p])
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
STATE_ROOT="${CHAINWATCH_STATE:-$REPO_DIR/.state}"
STATE="$STATE_ROOT/kafka"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.0}"
CACHE_ROOT="${CHAINWATCH_CACHE:-${HOME:-/root}/.cache/chainwatch}"
LIBS="$CACHE_ROOT/kafka-$KAFKA_VERSION/libs"
POM="$SCRIPT_DIR/kafka-pom.xml"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m -Xms512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
APT_WAIT_TIMEOUT="${APT_WAIT_TIMEOUT:-1800}"
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

PID_FILE="$STATE/kafka.pid"
PROPS="$STATE/server.properties"
CLIENT_PROPS="$STATE/client.properties"
LOG4J="$STATE/log4j2.xml"
TOOLS_LOG4J="$STATE/tools-log4j2.xml"
DATA="$STATE/data"
LOG_DIR="$STATE/logs"
STDOUT_LOG="$LOG_DIR/stdout.log"
CLUSTER_ID_FILE="$STATE/cluster.id"

log() { printf '[kafka] %s\n' "$*"; }
die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

# Java 17 + Maven are expected to be present; install them from Debian if they are not.
ensure_java_maven() {
  local need=()
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  if ! command -v mvn >/dev/null 2>&1 && ! libs_complete; then need+=(maven); fi
  (( ${#need[@]} == 0 )) && return 0
  wait_for_apt
  log "installing ${need[*]} with apt-get (one-time)..."
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq \
    install "${need[@]}" >/dev/null
}

# The marker records the version and the pom's checksum, so editing the pom refetches.
libs_stamp() { printf '%s %s\n' "$KAFKA_VERSION" "$(cksum <"$POM" | cut -d' ' -f1)"; }
libs_complete() {
  [[ -f "$LIBS/.complete" && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" && -f "$LIBS/kafka-tools-$KAFKA_VERSION.jar" ]] &&
    [[ "$(cat "$LIBS/.complete")" == "$(libs_stamp)" ]]
}

ensure_libs() {
  if libs_complete; then return 0; fi
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (one-time)..."
  local t0=$SECONDS tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$LIBS")"
  local mvn_log="$CACHE_ROOT/kafka-$KAFKA_VERSION/mvn.log"
  if ! mvn -B -q -ntp -Dstyle.color=never -f "$POM" \
      -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
      </dev/null >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (try KAFKA_VERSION=<other 4.x>)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
  libs_stamp >"$tmp/.complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - t0))s"
}

running_pid() { pid_from_file "$PID_FILE" "kafka.Kafka $PROPS"; }

port_open() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null; }

# Run a Kafka CLI class from the cached jars, quiet logging.
kafka_cli() {
  java -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS/*" "$@"
}

# Real readiness: the broker must answer a metadata (list topics) request.
answers() {
  port_open "$KAFKA_PORT" || return 1
  timeout 30 java -Xmx128m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
    --command-config "$CLIENT_PROPS" --list >/dev/null 2>&1
}

log_tail() {
  local f
  for f in "$LOG_DIR/server.log" "$STDOUT_LOG"; do
    [[ -s "$f" ]] || continue
    printf -- '----- tail %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

write_config() {
  mkdir -p "$DATA" "$LOG_DIR"
  cat >"$PROPS.tmp" <<EOF
# Generated by deploy/local/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

log.dirs=$DATA
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
log.retention.hours=168
log.segment.bytes=104857600
log.retention.check.interval.ms=300000
EOF
  if [[ -n "${KAFKA_EXTRA_PROPS:-}" ]]; then
    printf '\n# KAFKA_EXTRA_PROPS\n%s\n' "$KAFKA_EXTRA_PROPS" >>"$PROPS.tmp"
  fi
  mv -f "$PROPS.tmp" "$PROPS"

  cat >"$CLIENT_PROPS" <<'EOF'
# Admin-client settings for readiness checks / CLI (deploy/local/kafka.sh).
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
  if [[ -n "${KAFKA_CLIENT_PROPS:-}" ]]; then
    printf '%s\n' "$KAFKA_CLIENT_PROPS" >>"$CLIENT_PROPS"
  fi

  cat >"$LOG4J" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by deploy/local/kafka.sh. -->
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="$LOG_DIR/server.log" filePattern="$LOG_DIR/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="50MB"/>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
    <RollingFile name="controller" fileName="$LOG_DIR/controller.log" filePattern="$LOG_DIR/controller.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="50MB"/>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.controller" level="INFO" additivity="false"><AppenderRef ref="controller"/></Logger>
    <Logger name="org.apache.kafka.controller" level="INFO" additivity="false"><AppenderRef ref="controller"/></Logger>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
  </Loggers>
</Configuration>
EOF

  cat >"$TOOLS_LOG4J" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="ERROR"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
EOF
}

# Format the KRaft metadata/log dir once; later starts reuse it (and keep all topics/data).
ensure_formatted() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local cid
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cid="$(cat "$CLUSTER_ID_FILE")"
  else
    cid="$(kafka_cli kafka.tools.StorageTool random-uuid | tail -n 1)"
    echo "$cid" >"$CLUSTER_ID_FILE"
  fi
  log "formatting storage in $DATA (cluster id $cid)"
  local extra=()
  read -ra extra <<<"${KAFKA_FORMAT_ARGS:-}"
  kafka_cli kafka.tools.StorageTool format --ignore-formatted -t "$cid" -c "$PROPS" "${extra[@]}" >>"$STDOUT_LOG" 2>&1 ||
    { log_tail; die "kafka-storage format failed"; }
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if answers; then
      log "already running (pid $pid) on $BOOTSTRAP; nothing to do"
      log "stop with: deploy/local/kafka.sh stop"
      return 0
    fi
    log "process $pid is alive but not answering yet; waiting"
  else
    rm -f "$PID_FILE"
    ensure_java_maven
    ensure_libs
    if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
      die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT on $KAFKA_HOST is already in use by a process this script did not start"
    fi
    write_config
    ensure_formatted
    log "starting Kafka $KAFKA_VERSION (KRaft broker+controller, $BOOTSTRAP, controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT, heap '$KAFKA_HEAP')"
    # shellcheck disable=SC2086 # KAFKA_HEAP is a list of JVM flags
    setsid java $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
      -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$LOG4J" \
      -cp "$LIBS/*" kafka.Kafka "$PROPS" >>"$STDOUT_LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
  fi

  local t0=$SECONDS
  wait_answering Kafka "$pid" 1 "metadata requests on $BOOTSTRAP" kafka.sh
  log "ready in $((SECONDS - t0))s: Kafka $KAFKA_VERSION, pid $pid, bootstrap $BOOTSTRAP"
  log "stop with: deploy/local/kafka.sh stop"
}

cmd_stop() { stop_server; }

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if answers; then
      log "running (pid $pid), answering on $BOOTSTRAP"
      return 0
    fi
    log "running (pid $pid) but NOT answering on $BOOTSTRAP"
    return 1
  fi
  log "not running"
  return 3
}

cmd_topics() {
  libs_complete || die "Kafka jars not fetched yet; run: deploy/local/kafka.sh start"
  [[ -f "$TOOLS_LOG4J" ]] || die "no state yet; run: deploy/local/kafka.sh start"
  kafka_cli org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" "$@"
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  topics) shift; cmd_topics "$@" ;;
  fetch) ensure_java_maven; ensure_libs ;;
  *) echo "usage: $0 [start|stop|status|restart|fetch] | topics <kafka-topics args>" >&2; exit 2 ;;
esac
