#!/usr/bin/env bash
# The README main job: local ClickHouse + Kafka (installed and started if absent), the chainwatch daemon,
# and the bundled real samples of every kind fed through it end to end:
#   collectors -> Kafka -> sink -> ClickHouse -> detectors -> B计划 alerts -> local SMTP sink.
#
#   deploy/local/demo.sh          run the demo (leaves the daemon and the SMTP sink running)
#   deploy/local/demo.sh stop     stop the daemon and the SMTP sink (servers: deploy/local/down.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
STATE="$ROOT/.state/demo"
CFG="$ROOT/deploy/demo/chainwatch.demo.yaml"
BIN="$ROOT/bin/chainwatch"
DB=chainwatch_demo
API=http://127.0.0.1:9464
export CHAINWATCH_TOKEN=cw_demo_local_only_do_not_use_in_production   # demo token (deploy/demo/chainwatch.demo.yaml)
log() { printf '[demo] %s\n' "$*"; }

stop_pid() { # name
  local f="$STATE/$1.pid"
  if [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; then
    kill "$(cat "$f")"; for _ in $(seq 50); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.2; done
    log "stopped $1"
  fi
  rm -f "$f"
  return 0
}
if [[ ${1:-} == stop ]]; then stop_pid chainwatch; stop_pid smtp-sink; exit 0; fi

mkdir -p "$STATE"
bash deploy/local/up.sh
[[ -x $BIN ]] || make build >/dev/null
export PATH="/usr/local/go/bin:$PATH"
go build -o "$BIN" ./cmd/chainwatch

# A fresh demo each run: stop a previous one, drop its database and topics' consumer state.
stop_pid chainwatch; stop_pid smtp-sink
clickhouse-client --port 19000 -q "DROP DATABASE IF EXISTS $DB"
rm -rf "$STATE/alerts" "$STATE/mail"
bash deploy/local/kafka.sh topics --list 2>/dev/null | grep '^chainwatch-demo\.' | while read -r t; do
  bash deploy/local/kafka.sh topics --delete --topic "$t" >/dev/null 2>&1 || true
done || true
"$BIN" --config "$CFG" migrate

log "starting the SMTP sink on 127.0.0.1:2525 (mail in $STATE/mail)"
setsid nohup "$BIN" --config "$CFG" smtp-sink --addr 127.0.0.1:2525 --dir "$STATE/mail" >"$STATE/smtp-sink.log" 2>&1 &
echo $! >"$STATE/smtp-sink.pid"
log "starting the daemon (log: $STATE/chainwatch.log)"
setsid nohup "$BIN" --config "$CFG" serve >"$STATE/chainwatch.log" 2>&1 &
echo $! >"$STATE/chainwatch.pid"
for i in $(seq 120); do
  curl -fsS "$API/readyz" >/dev/null 2>&1 && break
  kill -0 "$(cat "$STATE/chainwatch.pid")" 2>/dev/null || { tail -20 "$STATE/chainwatch.log"; exit 1; }
  sleep 0.5
done
curl -fsS "$API/readyz" >/dev/null || { log "daemon not ready"; tail -20 "$STATE/chainwatch.log"; exit 1; }

D=deploy/demo
imp() { "$BIN" --config "$CFG" import "$@" 2>>"$STATE/import.log"; }
log "importing the bundled samples (real: USGS MCS 2024, UN Comtrade, UK OCDS; illustrative: supply map, 替代清单, availability)"
imp production "$D/real/usgs"
imp trade "$D/real/comtrade"
imp trade testdata/trade/bad     # hand-made bad rows: rejected with reasons, the good rows still land
imp procurement "$D/real/ocds/england_contractsfinder_releases.jsonl"
imp supplymap "$D/supplymap"
imp substitution "$D/substitution.csv"
imp availability "$D/availability.csv"

log "waiting for the sink to land everything in ClickHouse"
prev=""
for i in $(seq 120); do
  lag=$(curl -fsS "$API/metrics" | awk '/^chainwatch_sink_consumer_lag_records/ {s+=$2} END {print s+0}')
  cur=$(clickhouse-client --port 19000 -q "SELECT sum(c) FROM (SELECT count() c FROM $DB.trade_flows UNION ALL SELECT count() FROM $DB.production_stats UNION ALL SELECT count() FROM $DB.procurement_awards UNION ALL SELECT count() FROM $DB.component_availability UNION ALL SELECT count() FROM $DB.supply_nodes UNION ALL SELECT count() FROM $DB.supply_links UNION ALL SELECT count() FROM $DB.substitutions UNION ALL SELECT count() FROM $DB.rejected)")
  [[ $cur == "$prev" && $cur != 0 && ${lag:-1} == 0 ]] && break
  prev=$cur; sleep 1
done

log "running the detectors and the alert evaluation"
curl -fsS -X POST -H "Authorization: Bearer $CHAINWATCH_TOKEN" "$API/-/detect?wait=true"; echo   # operate token

echo
log "rows per table (FINAL: duplicates collapsed)"
for t in trade_flows production_stats procurement_awards component_availability supply_nodes supply_links substitutions rejected findings alert_events; do
  printf '  %-24s %s\n' "$t" "$(clickhouse-client --port 19000 -q "SELECT count() FROM $DB.$t FINAL" 2>/dev/null || clickhouse-client --port 19000 -q "SELECT count() FROM $DB.$t")"
done
echo
log "rejected records by reason (every bad input row is kept with its reason):"
clickhouse-client --port 19000 -q "SELECT source, reason, count() FROM $DB.rejected FINAL GROUP BY source, reason ORDER BY source, reason FORMAT TSV" | sed "s/^/  /"
echo
log "top exposures (GET /api/v1/exposures):"
curl -fsS -H "Authorization: Bearer $CHAINWATCH_TOKEN" "$API/api/v1/exposures?limit=8&sort=-score" |
  python3 -c 'import json,sys
for e in json.load(sys.stdin).get("items", []):
    print("  %5.1f  %-24s %s" % (e.get("score", 0), e.get("subject", ""), ",".join(e.get("flags") or [])))' || true

log "waiting for the B计划 emails (group_wait 2s)"
for i in $(seq 60); do ls "$STATE"/mail/*.eml >/dev/null 2>&1 && break; sleep 1; done
sleep 3
echo
if ls "$STATE"/mail/*.eml >/dev/null 2>&1; then
  log "B计划 emails caught by the local SMTP sink:"
  ls -1 "$STATE"/mail/*.eml | sed 's/^/  /'
else
  log "no email arrived: see $STATE/chainwatch.log"; exit 1
fi
echo
log "alerts (chainwatch alerts list):"
"$BIN" --config "$CFG" alerts list 2>/dev/null | sed 's/^/  /' || true
log "silencing E-SEMI × C-GALLIUM for 72h (domestic supplier; chainwatch alerts silence):"
"$BIN" --config "$CFG" alerts silence --enterprise E-SEMI --component C-GALLIUM --duration 72h \
  --comment "domestic single source accepted" 2>/dev/null | grep -E '"(id|ends_at|created_by)"' | sed 's/^/  /' || true
WEEK=$(date -u +%G-W%V)
log "weekly risk digest $WEEK (HTML with charts, Markdown, CSV; archived in ClickHouse):"
"$BIN" --config "$CFG" digest --week "$WEEK" --format html --archive --out "$STATE/digest-$WEEK.html" 2>>"$STATE/import.log"
"$BIN" --config "$CFG" digest --week "$WEEK" --format md --archive --out "$STATE/digest-$WEEK.md" 2>>"$STATE/import.log"
sed -n '1,25p' "$STATE/digest-$WEEK.md" | sed 's/^/  /'
cat <<TXT

Where to look:
  metrics        $API/metrics
  health         $API/readyz
  alerts         CHAINWATCH_TOKEN=$CHAINWATCH_TOKEN $BIN --config $CFG alerts list      (or GET $API/api/v1/alerts, with the token)
  emails         $STATE/mail/*.eml
  digest         $STATE/digest-$WEEK.html   (also GET $API/api/v1/digests/$WEEK?format=html, with the token)
  API            curl -H "Authorization: Bearer $CHAINWATCH_TOKEN" $API/api/v1/exposures
  ClickHouse     clickhouse-client --port 19000 -d $DB
  daemon log     $STATE/chainwatch.log
Stop:            deploy/local/demo.sh stop   (servers: deploy/local/down.sh)
TXT
