"""Lua scripting through redis-py: the tutorial's session, redis-py's script
helpers, SCRIPT subcommands, error tables, and atomicity under concurrency.
Every expectation also holds against the real redis-server
(LUNAKV_TEST_TARGET=redis)."""

import threading

import pytest
import redis

RATE_LIMITER = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if current > tonumber(ARGV[2]) then
    return 0
end
return 1
"""


def test_eval_set_get_returns_alice(rp):
    got = rp.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", 1, "name", "Alice")
    assert got == "Alice"


def test_script_load_then_evalsha_returns_bob(r):
    sha = r.script_load("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])")
    assert len(sha) == 40
    assert r.evalsha(sha, 1, "name", "Bob") == "Bob"
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.script_flush() is True
    assert r.script_exists(sha) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 1, "name", "Bob")


def test_rate_limiter_five_then_zero(r):
    got = [r.eval(RATE_LIMITER, 1, "rate:user:1", 60, 5) for _ in range(6)]
    assert got == [1, 1, 1, 1, 1, 0]
    assert 59 <= r.ttl("rate:user:1") <= 60


def test_register_script(rp):
    limiter = rp.register_script(RATE_LIMITER)
    got = [limiter(keys=["rate:user:2"], args=[10, 2]) for _ in range(3)]
    assert got == [1, 1, 0]
    assert 9 <= rp.ttl("rate:user:2") <= 10


def test_pcall_returns_error_table(r):
    r.set("s", "text")
    got = r.eval(
        "local t = redis.pcall('INCR', KEYS[1]); return t['err']", 1, "s"
    )
    assert got == "ERR value is not an integer or out of range"
    with pytest.raises(redis.exceptions.ResponseError) as e:
        r.eval("return redis.call('INCR', KEYS[1])", 1, "s")
    assert str(e.value).startswith("value is not an integer or out of range script: ")


def test_error_reply_keeps_its_code(r):
    with pytest.raises(redis.exceptions.ResponseError) as e:
        r.eval("return redis.error_reply('MY_ERR something broke')", 0)
    assert str(e.value) == "MY_ERR something broke"
    assert r.eval("return redis.status_reply('FINE')", 0) == "FINE"


def test_conversions_resp2(r):
    assert r.eval("return {1, 2, 3, 'four', nil, 6}", 0) == [1, 2, 3, "four"]
    assert r.eval("return 3.99", 0) == 3
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return {ok='FINE'}", 0) == "FINE"


def test_undeclared_global_is_an_error(r):
    with pytest.raises(redis.exceptions.ResponseError) as e:
        r.eval("return a", 0)
    assert "Script attempted to access nonexistent global variable 'a'" in str(e.value)
    with pytest.raises(redis.exceptions.ResponseError) as e:
        r.eval("x = 1", 0)
    assert "Attempt to modify a readonly table" in str(e.value)


def test_scripts_are_atomic_under_concurrency(server, make_client):
    """50 clients each run a read-modify-write script 1,000 times on shared
    keys; the totals are exact and a concurrent reader never sees a
    half-applied script (both counters always move together)."""
    script = (
        "local a = tonumber(redis.call('GET', KEYS[1]) or '0') "
        "local b = tonumber(redis.call('GET', KEYS[2]) or '0') "
        "redis.call('SET', KEYS[1], a + 1) "
        "redis.call('SET', KEYS[2], b + 1) "
        "return a + 1"
    )
    setup = make_client(protocol=2)
    sha = setup.script_load(script)
    clients, per_client = 50, 1000
    errors = []
    stop = threading.Event()
    torn = []

    def worker():
        c = make_client(protocol=2)
        try:
            for _ in range(per_client):
                c.evalsha(sha, 2, "atom:a", "atom:b")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reader():
        c = make_client(protocol=2)
        while not stop.is_set():
            a, b = c.mget("atom:a", "atom:b")
            if a != b:
                torn.append((a, b))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    rt = threading.Thread(target=reader)
    rt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    rt.join()
    assert errors == []
    assert torn == []
    assert setup.get("atom:a") == str(clients * per_client)
    assert setup.get("atom:b") == str(clients * per_client)
