#!/usr/bin/env bash
# bench/compare.sh -- throughput and memory of lunakv vs. real Redis, side by side.
#
# Usage:
#   bench/compare.sh [options]
#
# Options:
#   -n N            requests per redis-benchmark run        (default 200000)
#   -c N            parallel clients                        (default 50)
#   -r N            random keyspace size (-r of benchmark)  (default 100000)
#   --rounds N      rounds per server, interleaved A B B A  (default 2)
#   --keys N        keys loaded for the memory test         (default 1000000)
#   --taskset       pin the servers to CPU 0 and redis-benchmark to CPU 1
#   --no-build      don't run `cargo build --release -p lunakv-server`
#   --no-memory     skip the memory test
#   --no-throughput skip the throughput test
#   --lunakv PATH   lunakv binary   (default target/release/lunakv-server)
#   --redis PATH    redis-server    (default: redis-server on PATH)
#
# What it does:
#   1. Starts redis-server and lunakv-server on free loopback ports, persistence
#      off (--save '' --appendonly no), each in its own temp dir.
#   2. Runs `redis-benchmark -t ping,set,get,incr,mset --csv` against both,
#      without and with pipelining (-P 16), interleaving the servers
#      (A B B A ...) and taking the median ops/s of the rounds.  Prints a table
#      with the ratio lunakv/Redis per workload.
#   3. On fresh servers, loads N string keys `key:<n>` with 3-byte values through
#      `redis-cli --pipe` and reports RSS growth (VmRSS from /proc/<pid>/status)
#      per key.
# The servers are stopped on exit (also on Ctrl-C or error).
#
# Needs: redis-server, redis-cli, redis-benchmark (apt-get install redis-server
# redis-tools), python3.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

REQUESTS=200000
CLIENTS=50
KEYSPACE=100000
ROUNDS=2
KEYS=1000000
PIN=0
BUILD=1
MEMORY=1
THROUGHPUT=1
LUNAKV_BIN="$PWD/target/release/lunakv-server"
REDIS_BIN="$(command -v redis-server || echo /usr/bin/redis-server)"

while [ $# -gt 0 ]; do
    case "$1" in
        -n) REQUESTS="$2"; shift 2 ;;
        -c) CLIENTS="$2"; shift 2 ;;
        -r) KEYSPACE="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --keys) KEYS="$2"; shift 2 ;;
        --taskset) PIN=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --no-memory) MEMORY=0; shift ;;
        --no-throughput) THROUGHPUT=0; shift ;;
        --lunakv) LUNAKV_BIN="$2"; shift 2 ;;
        --redis) REDIS_BIN="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
    esac
done

for tool in redis-cli redis-benchmark python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install redis-tools)" >&2; exit 1; }
done
[ -x "$REDIS_BIN" ] || { echo "missing redis-server ($REDIS_BIN)" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release -p lunakv-server"
    cargo build --release -p lunakv-server
fi
[ -x "$LUNAKV_BIN" ] || { echo "missing $LUNAKV_BIN (build it or pass --lunakv)" >&2; exit 1; }

SERVER_PIN=()
BENCH_PIN=()
if [ "$PIN" = 1 ]; then
    if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
        SERVER_PIN=(taskset -c 0)
        BENCH_PIN=(taskset -c 1)
    else
        echo "warning: --taskset needs taskset and >= 2 CPUs; running unpinned" >&2
    fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lunakv-bench.XXXXXX")"
declare -A PID PORT

cleanup() {
    local name
    for name in "${!PID[@]}"; do
        kill "${PID[$name]}" 2>/dev/null || true
    done
    for name in "${!PID[@]}"; do
        wait "${PID[$name]}" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_server NAME -- starts "redis" or "lunakv" on a free port
start_server() {
    local name="$1" bin port dir
    [ "$name" = redis ] && bin="$REDIS_BIN" || bin="$LUNAKV_BIN"
    port="$(free_port)"
    dir="$WORK/$name-$port"
    mkdir -p "$dir"
    local args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no)
    [ "$name" = redis ] && args+=(--daemonize no --logfile "")
    "${SERVER_PIN[@]}" "$bin" "${args[@]}" >"$dir/server.log" 2>&1 &
    PID[$name]=$!
    PORT[$name]=$port
    local i
    for i in $(seq 1 200); do
        if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then
            return 0
        fi
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then break; fi
        sleep 0.05
    done
    echo "could not start $name:" >&2
    cat "$dir/server.log" >&2
    exit 1
}

stop_server() {
    local name="$1"
    if [ -n "${PID[$name]:-}" ]; then
        kill "${PID[$name]}" 2>/dev/null || true
        wait "${PID[$name]}" 2>/dev/null || true
        unset "PID[$name]"
    fi
}

rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# ---------------------------------------------------------------------------
# Throughput
# ---------------------------------------------------------------------------
if [ "$THROUGHPUT" = 1 ]; then
    start_server redis
    start_server lunakv
    echo "== servers: redis pid ${PID[redis]} port ${PORT[redis]}, lunakv pid ${PID[lunakv]} port ${PORT[lunakv]}"
    echo "== redis-benchmark -c $CLIENTS -n $REQUESTS -r $KEYSPACE, $ROUNDS round(s) each, interleaved"
    RESULTS="$WORK/results.csv"
    : >"$RESULTS"
    for pipeline in 1 16; do
        for round in $(seq 1 "$ROUNDS"); do
            if [ $((round % 2)) = 1 ]; then order="redis lunakv"; else order="lunakv redis"; fi
            for name in $order; do
                echo "   P=$pipeline round $round: $name"
                "${BENCH_PIN[@]}" redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" \
                    -c "$CLIENTS" -n "$REQUESTS" -r "$KEYSPACE" -P "$pipeline" \
                    -t ping,set,get,incr,mset --csv 2>/dev/null \
                    | awk -v s="$name" -v p="$pipeline" -F'","' 'NR > 1 {
                        gsub(/"/, "", $1); gsub(/"/, "", $2); print s "," p "," $1 "," $2 }' \
                    >>"$RESULTS"
            done
        done
    done
    stop_server redis
    stop_server lunakv

    python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
data = {}
for server, pipeline, test, rps in rows:
    data.setdefault((test, int(pipeline)), {}).setdefault(server, []).append(float(rps))
order = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"]
print()
print(f"{'workload':<16} {'pipeline':>8} {'redis ops/s':>14} {'lunakv ops/s':>14} {'lunakv/redis':>13}")
print("-" * 69)
for p in (1, 16):
    for t in order:
        d = data.get((t, p), {})
        rv = statistics.median(d["redis"]) if d.get("redis") else None
        lv = statistics.median(d["lunakv"]) if d.get("lunakv") else None
        ratio = f"{lv / rv:.2f}" if rv and lv is not None else "n/a"
        fmt = lambda v: f"{v:,.0f}" if v is not None else "failed"
        print(f"{t:<16} {'-P ' + str(p):>8} {fmt(rv):>14} {fmt(lv):>14} {ratio:>13}")
print()
PY
fi

# ---------------------------------------------------------------------------
# Memory per key
# ---------------------------------------------------------------------------
if [ "$MEMORY" = 1 ]; then
    echo "== memory: $KEYS keys key:<n> with 3-byte values via redis-cli --pipe"
    PROTO="$WORK/load.resp"
    python3 - "$KEYS" "$PROTO" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "wb") as f:
    buf = []
    for i in range(n):
        k = b"key:%d" % i
        v = b"%03d" % (i % 1000)
        buf.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\n%s\r\n" % (len(k), k, v))
        if len(buf) == 10000:
            f.write(b"".join(buf))
            buf = []
    f.write(b"".join(buf))
PY
    declare -A MEM
    for name in redis lunakv; do
        start_server "$name"
        sleep 0.5
        before="$(rss_kb "${PID[$name]}")"
        redis-cli -p "${PORT[$name]}" --pipe <"$PROTO" | tail -1
        dbsize="$(redis-cli -p "${PORT[$name]}" DBSIZE)"
        sleep 0.5
        after="$(rss_kb "${PID[$name]}")"
        stop_server "$name"
        if [ "$dbsize" != "$KEYS" ]; then
            echo "   $name: DBSIZE is $dbsize, expected $KEYS" >&2
        fi
        MEM[$name]="$before $after $dbsize"
    done
    echo
    printf '%-8s %14s %14s %10s %12s\n' server "RSS before KB" "RSS after KB" keys "bytes/key"
    echo "----------------------------------------------------------------"
    for name in redis lunakv; do
        read -r before after dbsize <<<"${MEM[$name]}"
        awk -v n="$name" -v b="$before" -v a="$after" -v k="$KEYS" -v d="$dbsize" \
            'BEGIN { printf "%-8s %14d %14d %10s %12.1f\n", n, b, a, d, (a - b) * 1024 / k }'
    done
    read -r rb ra _ <<<"${MEM[redis]}"
    read -r lb la _ <<<"${MEM[lunakv]}"
    awk -v rb="$rb" -v ra="$ra" -v lb="$lb" -v la="$la" \
        'BEGIN { if (ra > rb) printf "lunakv/redis memory per key: %.2f\n", (la - lb) / (ra - rb) }'
fi
