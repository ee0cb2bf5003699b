#!/usr/bin/env bash
# Local distributed cluster for chainwatch's scale-out tests, on loopback, with no Docker:
#   - Apache ZooKeeper (one node; org.apache.zookeeper:zookeeper from Maven Central, run with java),
#   - 3 Apache Kafka brokers (KRaft, each broker+controller; replication factor 3, min.insync.replicas 2;
#     the jars deploy/local/kafka.sh fetches),
#   - 4 clickhouse-server processes: 2 shards x 2 replicas (ReplicatedMergeTree through ZooKeeper,
#     cluster "chainwatch" in remote_servers, macros {shard}/{replica}, ON CLUSTER DDL).
#
#   deploy/local/cluster.sh [up|down|status|env]          (default: up)
#   deploy/local/cluster.sh start-node|stop-node|kill-node NODE
#       NODE: zookeeper, kafka-1..kafka-3, ch-s1r1, ch-s1r2, ch-s2r1, ch-s2r2 (tests kill and restart nodes)
#
# State: ${CHAINWATCH_STATE:-<repo>/.state}/cluster/<node>. Ports (127.0.0.1 only) are listed by
# "env" and in deploy/local/README.md; the base ports can be moved with CLUSTER_PORT_BASE.
# Idempotent: "up" starts only the nodes that are not running and waits until every node answers;
# "down" stops them all and keeps the data. The single-node servers of up.sh are not touched.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
STATE_ROOT="${CHAINWATCH_STATE:-$REPO_DIR/.state}"
CSTATE="$STATE_ROOT/cluster"
CACHE_ROOT="${CHAINWATCH_CACHE:-${HOME:-/root}/.cache/chainwatch}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.0}"
KAFKA_LIBS="$CACHE_ROOT/kafka-$KAFKA_VERSION/libs"
ZK_VERSION="${ZK_VERSION:-3.9.3}"
ZK_LIBS="$CACHE_ROOT/zookeeper-$ZK_VERSION/libs"
ZK_POM="$SCRIPT_DIR/zookeeper-pom.xml"
HOST=127.0.0.1
BASE="${CLUSTER_PORT_BASE:-29000}"
ZK_PORT=$((BASE - 16819)) # 12181 by default
KAFKA_HEAP="${CLUSTER_KAFKA_HEAP:--Xmx384m -Xms384m}"
CLUSTER_NAME=chainwatch
START_TIMEOUT="${CLUSTER_START_TIMEOUT:-120}"
STOP_TIMEOUT="${CLUSTER_STOP_TIMEOUT:-30}"
APT_WAIT_TIMEOUT="${APT_WAIT_TIMEOUT:-1800}"
CH_NODES=(ch-s1r1 ch-s1r2 ch-s2r1 ch-s2r2)
KAFKA_NODES=(kafka-1 kafka-2 kafka-3)

log() { printf '[cluster] %s\n' "$*"; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# One cluster.sh at a time changes the cluster (test binaries of several packages call "up" at once;
# two concurrent first starts would format the brokers with different cluster ids).
lock() {
  mkdir -p "$CSTATE"
  exec 9>"$CSTATE/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
}

# Ports of node i (1-based) of each kind.
kafka_port() { echo $((BASE + 90 + $1)); }       # 29091..29093
kafka_ctl_port() { echo $((BASE + 190 + $1)); }  # 29191..29193
ch_index() { local i; for i in "${!CH_NODES[@]}"; do [[ "${CH_NODES[$i]}" == "$1" ]] && { echo $((i + 1)); return; }; done; die "unknown node $1"; }
ch_tcp_port() { echo $((BASE + $(ch_index "$1"))); }            # 29001..29004
ch_http_port() { echo $((BASE - 879 + $(ch_index "$1"))); }     # 28122..28125
ch_inter_port() { echo $((BASE + 10 + $(ch_index "$1"))); }     # 29011..29014
kafka_bootstrap() { local i out=(); for i in 1 2 3; do out+=("$HOST:$(kafka_port "$i")"); done; (IFS=,; echo "${out[*]}"); }
ch_addrs() { local n out=(); for n in "${CH_NODES[@]}"; do out+=("$HOST:$(ch_tcp_port "$n")"); done; (IFS=,; echo "${out[*]}"); }

# ---------------------------------------------------------------------------------------------
# Generic node control: every node has $CSTATE/<node>/node.pid and a command-line fragment that
# identifies it (pid_from_file), so a stale pid reused by another program is never signalled.

node_dir() { echo "$CSTATE/$1"; }
node_fragment() {
  case "$1" in
    zookeeper) echo "QuorumPeerMain $(node_dir "$1")/zoo.cfg" ;;
    kafka-*) echo "kafka.Kafka $(node_dir "$1")/server.properties" ;;
    ch-*) echo "--config-file=$(node_dir "$1")/config.xml" ;;
    *) die "unknown node $1 (zookeeper, kafka-1..3, ${CH_NODES[*]})" ;;
  esac
}
node_pid() { pid_from_file "$(node_dir "$1")/node.pid" "$(node_fragment "$1")"; }

node_answers() {
  case "$1" in
    zookeeper) (exec 3<>"/dev/tcp/$HOST/$ZK_PORT" && printf 'srvr' >&3 && timeout 3 cat <&3) 2>/dev/null | grep -q '^Mode: ' ;;
    kafka-*) kafka_answers "${1#kafka-}" ;;
    ch-*) clickhouse-client --host "$HOST" --port "$(ch_tcp_port "$1")" --connect_timeout 2 -q 'SELECT 1' >/dev/null 2>&1 ;;
  esac
}

node_log_tail() {
  local f
  for f in "$(node_dir "$1")"/log/*.log "$(node_dir "$1")"/logs/*.log; do
    [[ -s "$f" ]] || continue
    printf -- '----- tail %s -----\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}

# stop_node NODE: SIGTERM, SIGKILL after STOP_TIMEOUT (lib.sh stop_server), data kept.
stop_node() {
  local n="$1"
  PID_FILE="$(node_dir "$n")/node.pid" DATA="$(node_dir "$n")/data"
  running_pid() { node_pid "$n"; }
  log() { printf '[cluster %s] %s\n' "$n" "$*"; }
  stop_server
  log() { printf '[cluster] %s\n' "$*"; }
}

kill_node() {
  local pid
  if pid="$(node_pid "$1")"; then
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    rm -f "$(node_dir "$1")/node.pid"
    log "$1: killed pid $pid (SIGKILL)"
    if [[ $1 == ch-* ]]; then
      # A replica killed mid-insert may hold parts ZooKeeper never heard of; ClickHouse then refuses to
      # start ("the local set of parts ... doesn't look like the set of parts in ZooKeeper") unless
      # told to restore from its replicas: the documented flag file, removed by the server on start.
      mkdir -p "$(node_dir "$1")/data/flags"
      touch "$(node_dir "$1")/data/flags/force_restore_data"
    fi
  else
    log "$1: not running"
  fi
}

# launch NODE CMD...: starts CMD detached, records its pid.
launch() {
  local n="$1"; shift
  local d; d="$(node_dir "$n")"
  mkdir -p "$d/log"
  # 9>&-: the server must not inherit the lock of lock() (it would hold it for its lifetime).
  setsid "$@" >>"$d/log/stdout.log" 2>&1 </dev/null 9>&- &
  echo "$!" >"$d/node.pid"
}

wait_node() {
  local n="$1" t0=$SECONDS pid
  pid="$(cat "$(node_dir "$n")/node.pid" 2>/dev/null || true)"
  until node_answers "$n"; do
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
      node_log_tail "$n"
      rm -f "$(node_dir "$n")/node.pid"
      die "$n exited during startup"
    fi
    if (( SECONDS - t0 >= START_TIMEOUT )); then
      node_log_tail "$n"
      die "$n did not answer within ${START_TIMEOUT}s (pid $pid; stop with: $0 down)"
    fi
    sleep 0.5
  done
  log "$n ready (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# ZooKeeper

zk_libs_complete() { [[ -f "$ZK_LIBS/.complete" && "$(cat "$ZK_LIBS/.complete")" == "$ZK_VERSION $(cksum <"$ZK_POM" | cut -d' ' -f1)" ]]; }

ensure_zk_libs() {
  zk_libs_complete && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn is needed once to fetch org.apache.zookeeper:zookeeper:$ZK_VERSION"
  log "fetching ZooKeeper $ZK_VERSION jars from Maven Central into $ZK_LIBS (one-time)..."
  local tmp="$ZK_LIBS.tmp.$$" mvn_log="$CACHE_ROOT/zookeeper-$ZK_VERSION/mvn.log"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$ZK_LIBS")"
  if ! mvn -B -q -ntp -Dstyle.color=never -f "$ZK_POM" -Dzookeeper.version="$ZK_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch org.apache.zookeeper:zookeeper:$ZK_VERSION"
  fi
  printf '%s %s\n' "$ZK_VERSION" "$(cksum <"$ZK_POM" | cut -d' ' -f1)" >"$tmp/.complete"
  rm -rf "$ZK_LIBS"
  mv "$tmp" "$ZK_LIBS"
}

start_zookeeper() {
  local d; d="$(node_dir zookeeper)"
  mkdir -p "$d/data" "$d/log"
  cat >"$d/zoo.cfg" <<EOF
# Generated by deploy/local/cluster.sh; rewritten on every start.
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=$ZK_PORT
clientPortAddress=$HOST
maxClientCnxns=200
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,mntr,srvr
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
  cat >"$d/logback.xml" <<EOF
<configuration>
  <appender name="F" class="ch.qos.logback.core.FileAppender">
    <file>$d/log/zookeeper.log</file>
    <encoder><pattern>%d %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="F"/></root>
</configuration>
EOF
  launch zookeeper java -Xmx256m -Xms256m -Djava.awt.headless=true -Dlogback.configurationFile="$d/logback.xml" \
    -Dzookeeper.admin.enableServer=false -cp "$ZK_LIBS/*" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg"
}

# ---------------------------------------------------------------------------------------------
# Kafka (combined broker+controller nodes 1..3 sharing one KRaft quorum)

kafka_cli() {
  java -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CSTATE/tools-log4j2.xml" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_answers() {
  port_open "$(kafka_port "$1")" || return 1
  timeout 30 java -Xmx128m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CSTATE/tools-log4j2.xml" -cp "$KAFKA_LIBS/*" \
    org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$HOST:$(kafka_port "$1")" \
    --command-config "$CSTATE/client.properties" 2>/dev/null | grep -q "^$HOST:$(kafka_port "$1") (id: $1 "
}

write_kafka_config() {
  local i="$1" d voters="" j
  d="$(node_dir "kafka-$i")"
  mkdir -p "$d/data" "$d/logs"
  for j in 1 2 3; do voters+="${voters:+,}$j@$HOST:$(kafka_ctl_port "$j")"; done
  cat >"$d/server.properties" <<EOF
# Generated by deploy/local/cluster.sh; rewritten on every start.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(kafka_port "$i"),CONTROLLER://$HOST:$(kafka_ctl_port "$i")
advertised.listeners=PLAINTEXT://$HOST:$(kafka_port "$i")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$d/data
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
num.network.threads=2
num.io.threads=2
log.retention.hours=24
log.segment.bytes=67108864
EOF
  sed "s#__LOGDIR__#$d/logs#g" >"$d/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="__LOGDIR__/server.log" filePattern="__LOGDIR__/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="50MB"/>
      <DefaultRolloverStrategy max="2"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
  </Loggers>
</Configuration>
EOF
}

write_kafka_tools_config() {
  mkdir -p "$CSTATE"
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n' >"$CSTATE/client.properties"
  cat >"$CSTATE/tools-log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Appenders><Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="%p %m%n"/></Console></Appenders>
  <Loggers><Root level="ERROR"><AppenderRef ref="stderr"/></Root></Loggers>
</Configuration>
EOF
}

start_kafka() {
  local i="$1" d cid
  d="$(node_dir "kafka-$i")"
  write_kafka_config "$i"
  if [[ ! -f "$d/data/meta.properties" ]]; then
    if [[ ! -s "$CSTATE/kafka-cluster.id" ]]; then
      kafka_cli kafka.tools.StorageTool random-uuid | tail -n 1 >"$CSTATE/kafka-cluster.id"
    fi
    cid="$(cat "$CSTATE/kafka-cluster.id")"
    kafka_cli kafka.tools.StorageTool format --ignore-formatted -t "$cid" -c "$d/server.properties" \
      >>"$d/logs/format.log" 2>&1 || { node_log_tail "kafka-$i"; die "kafka-$i: storage format failed"; }
  fi
  # shellcheck disable=SC2086 # KAFKA_HEAP is a list of JVM flags
  launch "kafka-$i" java $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Djava.net.preferIPv4Stack=true -Dkafka.logs.dir="$d/logs" -Dlog4j2.configurationFile="$d/log4j2.xml" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$d/server.properties"
}

# ---------------------------------------------------------------------------------------------
# ClickHouse: 2 shards x 2 replicas

ch_remote_servers() {
  local s r
  echo "    <remote_servers>"
  echo "        <$CLUSTER_NAME>"
  for s in 1 2; do
    echo "            <shard>"
    echo "                <internal_replication>true</internal_replication>"
    for r in 1 2; do
      echo "                <replica><host>$HOST</host><port>$(ch_tcp_port "ch-s${s}r${r}")</port></replica>"
    done
    echo "            </shard>"
  done
  echo "        </$CLUSTER_NAME>"
  echo "    </remote_servers>"
}

write_ch_config() {
  local n="$1" d shard replica
  d="$(node_dir "$n")"
  shard="0${n:4:1}"
  replica="$n"
  mkdir -p "$d/data/tmp" "$d/data/user_files" "$d/data/format_schemas" "$d/log"
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by deploy/local/cluster.sh; rewritten on every start. Shard $shard, replica $replica. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$d/log/clickhouse-server.log</log>
        <errorlog>$d/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
        <console>0</console>
    </logger>
    <listen_host>$HOST</listen_host>
    <listen_try>0</listen_try>
    <tcp_port>$(ch_tcp_port "$n")</tcp_port>
    <http_port>$(ch_http_port "$n")</http_port>
    <interserver_http_port>$(ch_inter_port "$n")</interserver_http_port>
    <interserver_http_host>$HOST</interserver_http_host>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>134217728</uncompressed_cache_size>
    <mark_cache_size>134217728</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/data/tmp/</tmp_path>
    <user_files_path>$d/data/user_files/</user_files_path>
    <format_schema_path>$d/data/format_schemas/</format_schema_path>
    <users_config>$d/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mlock_executable>false</mlock_executable>
    <umask>022</umask>
$(ch_remote_servers)
    <zookeeper>
        <node><host>$HOST</host><port>$ZK_PORT</port></node>
        <session_timeout_ms>10000</session_timeout_ms>
    </zookeeper>
    <macros>
        <cluster>$CLUSTER_NAME</cluster>
        <shard>$shard</shard>
        <replica>$replica</replica>
    </macros>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
</yandex>
EOF
  cat >"$d/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <load_balancing>in_order</load_balancing>
            <insert_distributed_sync>1</insert_distributed_sync>
            <!-- IN/JOIN subqueries on Distributed tables run cluster-wide (GLOBAL IN); chainwatch checks it -->
            <distributed_product_mode>global</distributed_product_mode>
            <distributed_ddl_task_timeout>120</distributed_ddl_task_timeout>
            <connect_timeout_with_failover_ms>200</connect_timeout_with_failover_ms>
            <skip_unavailable_shards>0</skip_unavailable_shards>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
}

start_ch() {
  write_ch_config "$1"
  launch "$1" clickhouse-server --config-file="$(node_dir "$1")/config.xml"
}

# ---------------------------------------------------------------------------------------------

node_ports() {
  case "$1" in
    zookeeper) echo "$ZK_PORT" ;;
    kafka-*) echo "$(kafka_port "${1#kafka-}") $(kafka_ctl_port "${1#kafka-}")" ;;
    ch-*) echo "$(ch_tcp_port "$1") $(ch_http_port "$1") $(ch_inter_port "$1")" ;;
  esac
}

# start_node NODE: launches NODE unless it runs (no wait).
start_node() {
  local n="$1" p
  if node_pid "$n" >/dev/null; then return 0; fi
  rm -f "$(node_dir "$n")/node.pid"
  for p in $(node_ports "$n"); do
    port_open "$p" && die "$n: port $p on $HOST is in use by a process this script did not start"
  done
  log "starting $n (ports $(node_ports "$n"))"
  case "$n" in
    zookeeper) start_zookeeper ;;
    kafka-*) start_kafka "${n#kafka-}" ;;
    ch-*) start_ch "$n" ;;
  esac
}

prerequisites() {
  command -v java >/dev/null 2>&1 || die "java (17) is needed"
  export PATH="$PATH:/usr/sbin:/sbin"
  if ! command -v clickhouse-server >/dev/null 2>&1; then
    "$SCRIPT_DIR/clickhouse.sh" install || die "clickhouse-server is needed (deploy/local/clickhouse.sh install)"
  fi
  [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] || "$SCRIPT_DIR/kafka.sh" fetch
  ensure_zk_libs
  write_kafka_tools_config
}

cmd_up() {
  local t0=$SECONDS n
  prerequisites
  start_node zookeeper
  wait_node zookeeper
  for n in "${KAFKA_NODES[@]}" "${CH_NODES[@]}"; do start_node "$n"; done
  for n in "${CH_NODES[@]}" "${KAFKA_NODES[@]}"; do wait_node "$n"; done
  log "cluster up in $((SECONDS - t0))s"
  cmd_env
}

cmd_down() {
  local n
  for n in "${KAFKA_NODES[@]}" "${CH_NODES[@]}" zookeeper; do stop_node "$n"; done
}

cmd_status() {
  local n rc=0 pid
  for n in zookeeper "${KAFKA_NODES[@]}" "${CH_NODES[@]}"; do
    if pid="$(node_pid "$n")"; then
      if node_answers "$n"; then log "$n: running (pid $pid), answering on $(node_ports "$n" | cut -d' ' -f1)"
      else log "$n: running (pid $pid) but NOT answering"; rc=1; fi
    else
      log "$n: not running"; rc=3
    fi
  done
  return "$rc"
}

cmd_env() {
  printf 'export CHAINWATCH_CLUSTER_KAFKA=%s\n' "$(kafka_bootstrap)"
  printf 'export CHAINWATCH_CLUSTER_CLICKHOUSE=%s\n' "$(ch_addrs)"
  printf 'export CHAINWATCH_CLUSTER_NAME=%s\n' "$CLUSTER_NAME"
  printf 'export CHAINWATCH_CLUSTER_ZOOKEEPER=%s\n' "$HOST:$ZK_PORT"
  printf 'export CHAINWATCH_CLUSTER_SCRIPT=%s\n' "$SCRIPT_DIR/cluster.sh"
}

case "${1:-up}" in
  up|down|start-node|stop-node|kill-node) lock ;;
esac
case "${1:-up}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  start-node) [[ $# -eq 2 ]] || die "usage: $0 start-node NODE"; prerequisites; start_node "$2"; wait_node "$2" ;;
  stop-node) [[ $# -eq 2 ]] || die "usage: $0 stop-node NODE"; node_fragment "$2" >/dev/null; stop_node "$2" ;;
  kill-node) [[ $# -eq 2 ]] || die "usage: $0 kill-node NODE"; node_fragment "$2" >/dev/null; kill_node "$2" ;;
  *) echo "usage: $0 [up|down|status|env] | start-node|stop-node|kill-node NODE" >&2; exit 2 ;;
esac
