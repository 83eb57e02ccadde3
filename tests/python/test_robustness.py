"""Robustness over raw sockets: hostile or broken clients must never take the
server down; after each scenario a new connection still gets PONG."""

import random
import socket
import time

import pytest

from conftest import encode_command


def assert_alive(server):
    c = server.conn()
    assert c.call_raw("PING") == b"+PONG\r\n"
    c.close()


def connected_clients(server) -> int:
    c = server.conn()
    out = c.call("CLIENT", "LIST")
    c.close()
    assert isinstance(out, bytes), f"CLIENT LIST failed: {out!r}"
    return len(out.decode().rstrip("\n").split("\n"))


def wait_clients_at_most(server, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        count = connected_clients(server)
        if count <= n or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def test_garbage_bytes(server):
    rnd = random.Random(1234)
    for _ in range(20):
        c = server.conn(timeout=2)
        c.send(rnd.randbytes(4096))
        try:
            c.read_until_closed(timeout=0.15)
        except (AssertionError, OSError):
            pass
        c.close()
    assert_alive(server)


def test_nul_byte_inline(server):
    # A NUL byte in an inline request (found by test_garbage_bytes).
    c = server.conn(timeout=2)
    c.send(b"\x00\n")
    try:
        c.read_until_closed(timeout=0.3)
    except AssertionError:
        pass
    assert_alive(server)
    c.close()
    assert_alive(server)


def test_garbage_after_valid_command(server):
    c = server.conn()
    c.send(b"PING\r\n*1\r\n!\x01\x02\x03\xff\xfe\r\n")
    data = c.read_until_closed()
    assert data == b"+PONG\r\n-ERR Protocol error: expected '$', got '!'\r\n"
    assert_alive(server)


def test_huge_multibulk_count(server):
    c = server.conn()
    c.send(b"*2147483647\r\n")
    # The server must neither answer nor allocate 2^31 argument slots up front.
    with pytest.raises(AssertionError, match="not closed"):
        c.read_until_closed(timeout=0.5)
    assert_alive(server)
    # Feed a few real arguments: still waiting, still healthy.
    c.send(encode_command("a")[4:] * 100)
    assert_alive(server)
    c.close()
    assert_alive(server)


def test_negative_bulk_length(server):
    c = server.conn()
    c.send(b"*2\r\n$3\r\nGET\r\n$-5\r\n")
    assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert_alive(server)


def test_oversized_bulk_length(server):
    c = server.conn()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n")
    assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert_alive(server)
    c2 = server.conn()
    assert c2.call("EXISTS", "k") == 0


def test_unterminated_inline_quotes(server):
    c = server.conn()
    c.send(b'SET k "never closed\r\n')
    assert c.read_until_closed() == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    assert_alive(server)


def test_big_bulk_header_then_disconnect(server):
    # A legal (<512 MB) but huge bulk header, a little data, then the client vanishes.
    for _ in range(5):
        c = server.conn()
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n" + b"x" * 100000)
        c.close()
    assert_alive(server)
    c = server.conn()
    assert c.call("EXISTS", "k") == 0


def test_600mb_bulk_header_single(server):
    c = server.conn()
    c.send(b"*1\r\n$600000000\r\n")
    assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert_alive(server)


def test_1000_connections_dropped_mid_command(server):
    socks = []
    try:
        for i in range(1000):
            s = socket.create_connection((server.host, server.port), timeout=10)
            # Half a command: header and part of the key.
            s.sendall(b"*3\r\n$3\r\nSET\r\n$10\r\nkey:" + str(i % 10).encode())
            socks.append(s)
        assert_alive(server)
    finally:
        for s in socks:
            s.close()
    assert_alive(server)
    # All dropped connections are eventually cleaned up.
    assert wait_clients_at_most(server, 5) <= 5
    c = server.conn()
    assert c.call("DBSIZE") == 0


def test_1000_connections_dropped_with_unread_replies(server):
    socks = []
    try:
        for i in range(1000):
            s = socket.create_connection((server.host, server.port), timeout=10)
            s.sendall(encode_command("SET", f"k{i}", "v") + encode_command("GET", f"k{i}") * 50)
            socks.append(s)
    finally:
        for s in socks:
            # RST instead of FIN: the server may be writing when the socket dies.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    assert_alive(server)
    assert wait_clients_at_most(server, 5) <= 5


def test_byte_at_a_time(server):
    c = server.conn()
    payload = encode_command("SET", "slow", "value") + encode_command("GET", "slow") + b"PING\r\n"
    for b in payload:
        c.send(bytes([b]))
    assert c.read_reply() == "OK"
    assert c.read_reply() == b"value"
    assert c.read_reply() == "PONG"


def test_many_arguments(server):
    c = server.conn()
    n = 100000
    keys = [f"k{i}" for i in range(n)]
    args = []
    for k in keys:
        args += [k, "v"]
    assert c.call("MSET", *args) == "OK"
    assert c.call("DBSIZE") == n
    assert c.call("DEL", *keys) == n
    assert c.call("DBSIZE") == 0


def test_large_value_roundtrip(server):
    r = server.client(decode=False)
    value = random.Random(7).randbytes(1 << 20) * 32  # 32 MB
    assert r.set("big", value) is True
    assert r.strlen("big") == len(value)
    assert r.get("big") == value
    assert r.getrange("big", len(value) - 3, -1) == value[-3:]


def test_client_disconnects_while_server_writes(server):
    r = server.client()
    r.set("v", "x" * 100000)
    for _ in range(20):
        s = socket.create_connection((server.host, server.port), timeout=10)
        s.sendall(encode_command("GET", "v") * 200)  # ~20 MB of replies
        s.recv(1000)
        s.close()
    assert_alive(server)


def test_slow_reader_does_not_block_others(server):
    r = server.client()
    r.set("v", "y" * 100000)
    slow = socket.create_connection((server.host, server.port), timeout=10)
    try:
        slow.sendall(encode_command("GET", "v") * 100)  # ~10 MB that nobody reads
        for _ in range(50):
            assert_alive(server)
    finally:
        slow.close()
