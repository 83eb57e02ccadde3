"""The stock redis-cli (from the redis-tools package) against the server."""

import shutil
import subprocess

import pytest

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


@pytest.fixture
def cli(server):
    def run(*args, stdin=None, check=True):
        proc = subprocess.run(
            [REDIS_CLI, "-h", server.host, "-p", str(server.port), *args],
            input=stdin,
            capture_output=True,
            timeout=60,
        )
        if check:
            assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout.decode()

    return run


def test_cli_binary_present():
    assert shutil.which("redis-cli"), "redis-cli not found: apt-get install redis-tools"


def test_cli_set_get(cli):
    assert cli("SET", "greeting", "hello world") == "OK\n"
    assert cli("GET", "greeting") == "hello world\n"
    assert cli("GET", "missing") == "\n"
    assert cli("INCR", "n") == "1\n"
    assert cli("PING") == "PONG\n"


def test_cli_formatted_output(cli):
    cli("SET", "a", "2")
    assert cli("--no-raw", "GET", "missing") == "(nil)\n"
    assert cli("--no-raw", "INCR", "n") == "(integer) 1\n"
    assert cli("--no-raw", "MGET", "a", "missing") == '1) "2"\n2) (nil)\n'
    assert cli("--no-raw", "foo", "a") == (
        "(error) ERR unknown command 'foo', with args beginning with: 'a' \n"
    )


def test_cli_eval_file(cli, tmp_path):
    script = tmp_path / "set_and_echo.lua"
    script.write_text("return {KEYS[1], ARGV[1], redis.call('SET', KEYS[1], ARGV[1])}")
    assert cli("--eval", str(script), "mykey", ",", "myval") == "mykey\nmyval\nOK\n"
    assert cli("GET", "mykey") == "myval\n"
    assert cli("--no-raw", "--eval", str(script), "k2", ",", "v2") == (
        '1) "k2"\n2) "v2"\n3) OK\n'
    )


def test_cli_eval_file_multiple_keys_args(cli, tmp_path):
    script = tmp_path / "sum.lua"
    script.write_text(
        "local n = 0\n"
        "for i, k in ipairs(KEYS) do n = n + redis.call('INCRBY', k, ARGV[i]) end\n"
        "return n\n"
    )
    assert cli("--eval", str(script), "a", "b", ",", "10", "20") == "30\n"
    assert cli("MGET", "a", "b") == "10\n20\n"


def test_cli_stdin_commands(cli):
    out = cli(stdin=b"SET a 1\nINCR a\nGET a\n")
    assert out == "OK\n2\n2\n"


def test_cli_pipe_mode(cli):
    proto = b"".join(
        b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k)
        for k in (f"pipe:{i}".encode() for i in range(1000))
    )
    out = cli("--pipe", stdin=proto)
    assert "errors: 0, replies: 1000" in out
    assert cli("DBSIZE") == "1000\n"


def test_cli_select_db(cli):
    assert cli("-n", "2", "SET", "k", "v") == "OK\n"
    assert cli("-n", "2", "DBSIZE") == "1\n"
    assert cli("DBSIZE") == "0\n"


def test_cli_stdin_last_arg(cli):
    assert cli("-x", "SET", "fromstdin", stdin=b"line one\nline two\n") == "OK\n"
    assert cli("STRLEN", "fromstdin") == "18\n"


def test_cli_scan(cli):
    for i in range(30):
        cli("SET", f"user:{i}", "x")
    cli("SET", "other", "x")
    out = cli("--scan", "--pattern", "user:*")
    assert sorted(out.split()) == sorted(f"user:{i}" for i in range(30))


def test_cli_resp3(cli):
    out = cli("-3", "--no-raw", "HELLO", "3")
    lines = out.splitlines()
    assert lines[0].startswith('1# "server" => "')
    assert lines[2] == '3# "proto" => (integer) 3'
    assert cli("-3", "--no-raw", "GET", "missing") == "(nil)\n"


def test_cli_scripting_tutorial_session(cli, tmp_path):
    """The scripting tutorial's session, verbatim through redis-cli."""
    body = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"
    assert cli("--no-raw", "EVAL", body, "1", "name", "Alice") == '"Alice"\n'
    sha = cli("SCRIPT", "LOAD", body).strip()
    assert len(sha) == 40
    assert cli("--no-raw", "EVALSHA", sha, "1", "name", "Bob") == '"Bob"\n'
    assert cli("--no-raw", "SCRIPT", "EXISTS", sha, "f" * 40) == "1) (integer) 1\n2) (integer) 0\n"
    limiter = tmp_path / "ratelimiter.lua"
    limiter.write_text(
        "local current = redis.call('INCR', KEYS[1])\n"
        "if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end\n"
        "if current > tonumber(ARGV[2]) then return 0 end\n"
        "return 1\n"
    )
    got = [cli("--no-raw", "--eval", str(limiter), "rate:cli", ",", "60", "5") for _ in range(6)]
    assert got == ["(integer) 1\n"] * 5 + ["(integer) 0\n"]
    ttl = int(cli("TTL", "rate:cli"))
    assert 58 <= ttl <= 60
    cli("SET", "s", "text")
    assert cli("--no-raw", "EVAL", "return redis.pcall('INCR', KEYS[1])['err']", "1", "s") == (
        '"ERR value is not an integer or out of range"\n'
    )
    assert cli("SCRIPT", "FLUSH") == "OK\n"
    assert cli("--no-raw", "SCRIPT", "EXISTS", sha) == "1) (integer) 0\n"
    assert cli("--no-raw", "EVALSHA", sha, "0") == (
        "(error) NOSCRIPT No matching script. Please use EVAL.\n"
    )
