#!/usr/bin/env bash
# Connection settings for the servers started by deploy/local/up.sh.
#   source deploy/local/env.sh          # exports into the current shell
#   eval "$(deploy/local/env.sh)"       # same, from any shell
#   deploy/local/env.sh                 # prints the export lines
# Honors the same port overrides as the start scripts (KAFKA_PORT, CH_TCP_PORT).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail   # executed, not sourced: don't change the caller's shell options
fi

export CHAINWATCH_KAFKA__BROKERS="127.0.0.1:${KAFKA_PORT:-19092}"
export CHAINWATCH_CLICKHOUSE__ADDR="127.0.0.1:${CH_TCP_PORT:-19000}"

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  printf 'export CHAINWATCH_KAFKA__BROKERS=%s\n' "$CHAINWATCH_KAFKA__BROKERS"
  printf 'export CHAINWATCH_CLICKHOUSE__ADDR=%s\n' "$CHAINWATCH_CLICKHOUSE__ADDR"
fi
