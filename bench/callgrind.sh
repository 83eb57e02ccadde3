#!/usr/bin/env bash
# Instructions (Ir) per request of a whole server, under callgrind: steady
# on a busy machine, unlike wall-clock or CPU time.
#
#   bench/callgrind.sh <server binary> <requests> <redis-benchmark args...>
#   PRE='redis-cli -p $P script load "return 1"' bench/callgrind.sh target/release/lunakv-server 100000 -P 16 -c 50 evalsha <sha> 0
#
# Starts the server under valgrind --tool=callgrind on a free port, runs
# $PRE (with $P set to the port), zeroes the counters, runs redis-benchmark,
# dumps, and prints the dumps' total Ir divided by the requests. The dumps
# stay in $OUT (default: a temporary directory) for callgrind_annotate.
set -euo pipefail
BIN=$1; N=$2; shift 2
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
DIR=$(mktemp -d)
trap 'redis-cli -p "$P" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$OUT/cg.out" \
    "$BIN" --port "$P" --save '' --appendonly no --dir "$DIR" >/dev/null 2>&1 &
for _ in $(seq 300); do redis-cli -p "$P" ping >/dev/null 2>&1 && break; sleep 0.2; done
redis-cli -p "$P" ping >/dev/null 2>&1 || { echo "the server did not start under valgrind" >&2; exit 1; }
if [ -n "${PRE:-}" ]; then eval "$PRE" >/dev/null; fi
callgrind_control -z >/dev/null 2>&1 || true
redis-benchmark -p "$P" -n "$N" "$@" >/dev/null 2>&1
callgrind_control -d >/dev/null 2>&1 || true
sleep 0.5
total=0
for f in "$OUT"/cg.out*; do
    t=$(grep -m1 "^summary:\|^totals:" "$f" | awk "{print \$2}" || true)
    [ -n "$t" ] && total=$((total + t))
done
echo "$(basename "$BIN"): $((total / N)) Ir per request (dumps in $OUT)"
