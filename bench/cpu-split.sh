#!/usr/bin/env bash
# Server CPU per request, split into user and kernel time.
#
#   bench/cpu-split.sh <server binary> <requests> <redis-benchmark args...>
#   PRE='redis-cli -p $P script load "return 1"' bench/cpu-split.sh target/release/lunakv-server 1000000 -P 16 -c 50 evalsha <sha> 0
#
# Starts the server on a free port pinned to CPU 0 (persistence off), runs
# $PRE (with $P set to the port) and a warm-up, then redis-benchmark pinned
# to CPU 1, and prints user and system microseconds of server CPU per
# request from /proc/<pid>/stat. Works for redis-server and lunakv-server.
set -euo pipefail
BIN=$1; N=$2; shift 2
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
trap 'redis-cli -p "$P" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
taskset -c 0 "$BIN" --port "$P" --save '' --appendonly no --dir "$DIR" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 100); do redis-cli -p "$P" ping >/dev/null 2>&1 && break; sleep 0.1; done
if [ -n "${PRE:-}" ]; then eval "$PRE" >/dev/null; fi
taskset -c 1 redis-benchmark -p "$P" -n $((N / 5)) "$@" >/dev/null 2>&1
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$PID/stat")
t0=$(date +%s.%N)
taskset -c 1 redis-benchmark -p "$P" -n "$N" "$@" >/dev/null 2>&1
t1=$(date +%s.%N)
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$PID/stat")
python3 - "$N" "$u0" "$s0" "$u1" "$s1" "$t0" "$t1" "$(getconf CLK_TCK)" "$(basename "$BIN")" <<'PY'
import sys
n, u0, s0, u1, s1 = (int(x) for x in sys.argv[1:6])
t0, t1, tck, name = float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
u, s = (u1 - u0) / tck, (s1 - s0) / tck
print("%s: user %.3f us/op, sys %.3f us/op, total %.3f us/op (%.2f s wall)"
      % (name, u / n * 1e6, s / n * 1e6, (u + s) / n * 1e6, t1 - t0))
PY
