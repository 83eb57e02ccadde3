#!/usr/bin/env bash
# bench/compare.sh -- kept for old habits: runs bench/compare.py (lunakv vs.
# Redis 7.0 side by side). All options go to it; see `bench/compare.sh --help`.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/compare.py" "$@"
