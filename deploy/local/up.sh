#!/usr/bin/env bash
# Start the local ClickHouse and Kafka servers (idempotent). Stop them with deploy/local/down.sh.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$SCRIPT_DIR/clickhouse.sh" start
"$SCRIPT_DIR/kafka.sh" start

echo "[up] both servers are up; for the daemon/tests: source deploy/local/env.sh"
"$SCRIPT_DIR/env.sh"
echo "[up] stop with: deploy/local/down.sh"
