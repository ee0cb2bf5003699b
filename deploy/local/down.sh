#!/usr/bin/env bash
# Stop the local Kafka and ClickHouse servers started by up.sh (data is kept under .state/).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

rc=0
"$SCRIPT_DIR/kafka.sh" stop || rc=1
"$SCRIPT_DIR/clickhouse.sh" stop || rc=1
exit "$rc"
