"""Connection commands: PING, ECHO, SELECT, HELLO, CLIENT *, QUIT."""

import re
import time

import pytest
import redis

from conftest import Error, Status, encode_command

CLIENT_LIST_FIELDS = [
    "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
    "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl",
    "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp",
]


def parse_client_line(line):
    fields = {}
    for part in line.split(" "):
        k, _, v = part.partition("=")
        fields[k] = v
    return fields


# -- PING / ECHO ---------------------------------------------------------------


def test_ping_wire(rc):
    assert rc.call_raw("PING") == b"+PONG\r\n"
    assert rc.call_raw("ping", "hello world") == b"$11\r\nhello world\r\n"
    assert rc.call_raw("PING", "") == b"$0\r\n\r\n"


def test_ping_arity(rc):
    assert rc.err("PING", "a", "b") == "ERR wrong number of arguments for 'ping' command"


def test_ping_redis_py(rp):
    assert rp.ping() is True
    assert rp.echo("x") == "x"


def test_echo(rc):
    assert rc.call_raw("ECHO", "abc") == b"$3\r\nabc\r\n"
    assert rc.call("ECHO", b"bin\x00\xff\r\n") == b"bin\x00\xff\r\n"
    assert rc.call("ECHO", "") == b""
    assert rc.err("ECHO") == "ERR wrong number of arguments for 'echo' command"
    assert rc.err("ECHO", "a", "b") == "ERR wrong number of arguments for 'echo' command"


def test_command_names_case_insensitive(rc):
    assert rc.call("pInG") == "PONG"
    assert rc.call("eChO", "Xy") == b"Xy"


# -- SELECT ------------------------------------------------------------------


def test_select_isolates_databases(make_client):
    r0 = make_client(db=0)
    r1 = make_client(db=1)
    r0.set("k", "zero")
    r1.set("k", "one")
    assert r0.get("k") == "zero"
    assert r1.get("k") == "one"
    assert r0.dbsize() == 1
    assert r1.dbsize() == 1


def test_select_errors(rc):
    assert rc.call_raw("SELECT", "15") == b"+OK\r\n"
    assert rc.call_raw("SELECT", "0") == b"+OK\r\n"
    assert rc.err("SELECT", "16") == "ERR DB index is out of range"
    assert rc.err("SELECT", "-1") == "ERR DB index is out of range"
    assert rc.err("SELECT", "x") == "ERR value is not an integer or out of range"
    assert rc.err("SELECT") == "ERR wrong number of arguments for 'select' command"


def test_select_same_connection(rc):
    rc.call("SET", "k", "v0")
    assert rc.call("SELECT", "3") == "OK"
    assert rc.call("GET", "k") is None
    rc.call("SET", "k", "v3")
    assert rc.call("SELECT", "0") == "OK"
    assert rc.call("GET", "k") == b"v0"


# -- HELLO ------------------------------------------------------------------


def _check_hello_fields(d):
    assert list(d.keys()) == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
    assert isinstance(d[b"server"], bytes)
    assert re.fullmatch(rb"7\.0\.\d+", d[b"version"]), d[b"version"]
    assert isinstance(d[b"id"], int) and d[b"id"] > 0
    assert d[b"mode"] == b"standalone"
    assert d[b"role"] == b"master"
    assert d[b"modules"] == []


def test_hello_2_shape(rc):
    reply = rc.call("HELLO", "2")
    assert isinstance(reply, list) and len(reply) == 14
    d = dict(zip(reply[::2], reply[1::2]))
    _check_hello_fields(d)
    assert d[b"proto"] == 2
    assert d[b"id"] == rc.call("CLIENT", "ID")


def test_hello_3_shape(rc):
    raw = rc.call_raw("HELLO", "3")
    assert raw.startswith(b"%7\r\n$6\r\nserver\r\n")
    assert b"$5\r\nproto\r\n:3\r\n" in raw
    assert raw.endswith(b"$7\r\nmodules\r\n*0\r\n")
    d = rc.call("HELLO", "3")
    assert isinstance(d, dict)
    _check_hello_fields(d)
    assert d[b"proto"] == 3
    # HELLO 2 from a RESP3 connection switches back and answers with a flat array.
    back = rc.call("HELLO", "2")
    assert isinstance(back, list) and back[back.index(b"proto") + 1] == 2


def test_hello_no_args_keeps_protocol(rc):
    reply = rc.call("HELLO")
    assert isinstance(reply, list)
    assert reply[reply.index(b"proto") + 1] == 2


def test_hello_setname(rc):
    d = rc.call("HELLO", "3", "SETNAME", "myconn")
    assert d[b"proto"] == 3
    assert rc.call("CLIENT", "GETNAME") == b"myconn"


def test_hello_errors(rc):
    assert rc.err("HELLO", "4") == "NOPROTO unsupported protocol version"
    assert rc.err("HELLO", "1") == "NOPROTO unsupported protocol version"
    assert rc.err("HELLO", "x") == "ERR Protocol version is not an integer or out of range"
    # Connection stays usable and in RESP2.
    assert rc.call_raw("GET", "nokey") == b"$-1\r\n"


def test_redis_py_resp3_client(r3):
    assert r3.ping() is True
    r3.set("a", "1")
    assert r3.get("a") == "1"
    assert r3.get("missing") is None


# -- CLIENT -------------------------------------------------------------------


def test_client_id_unique_and_stable(server):
    a, b = server.conn(), server.conn()
    ida, idb = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
    assert isinstance(ida, int) and isinstance(idb, int)
    assert ida != idb
    assert a.call("CLIENT", "ID") == ida


def test_client_setname_getname(rc):
    assert rc.call_raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert rc.call_raw("CLIENT", "SETNAME", "worker-1") == b"+OK\r\n"
    assert rc.call_raw("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
    # An empty name clears it.
    assert rc.call("CLIENT", "SETNAME", "") == "OK"
    assert rc.call("CLIENT", "GETNAME") is None


@pytest.mark.parametrize("bad", ["a b", "new\nline", "tab\there"])
def test_client_setname_invalid(rc, bad):
    assert (
        rc.err("CLIENT", "SETNAME", bad)
        == "ERR Client names cannot contain spaces, newlines or special characters."
    )


def test_client_setname_arity(rc):
    assert rc.err("CLIENT", "SETNAME") == "ERR wrong number of arguments for 'client|setname' command"


def test_client_list_fields(rc):
    rc.call("CLIENT", "SETNAME", "lister")
    rc.call("SELECT", "4")
    my_id = rc.call("CLIENT", "ID")
    out = rc.call("CLIENT", "LIST")
    assert isinstance(out, bytes)
    text = out.decode()
    assert text.endswith("\n")
    lines = text.rstrip("\n").split("\n")
    mine = [parse_client_line(line) for line in lines if line.startswith(f"id={my_id} ")]
    assert len(mine) == 1
    f = mine[0]
    assert list(f.keys()) == CLIENT_LIST_FIELDS
    assert f["name"] == "lister"
    assert f["db"] == "4"
    assert f["cmd"] == "client|list"
    assert f["resp"] == "2"
    assert f["flags"] == "N"
    assert f["multi"] == "-1"
    assert f["user"] == "default"
    assert f["addr"].startswith("127.0.0.1:")
    host, port = f["laddr"].rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) == rc.sock.getpeername()[1]
    assert int(f["addr"].rsplit(":", 1)[1]) == rc.sock.getsockname()[1]


def test_client_list_shows_all_connections(server):
    conns = [server.conn() for _ in range(3)]
    ids = {c.call("CLIENT", "ID") for c in conns}
    listed = conns[0].call("CLIENT", "LIST").decode().rstrip("\n").split("\n")
    listed_ids = {int(parse_client_line(line)["id"]) for line in listed}
    assert ids <= listed_ids


def test_client_list_shows_a_blocked_clients_command(server):
    """A client blocked in BLPOP is listed with cmd=blpop and flags=b (Redis
    sets the client's last command before running it)."""
    a = server.conn()
    b = server.conn()
    a_id = a.call("CLIENT", "ID")
    a.send(encode_command("BLPOP", "never-pushed", "5"))
    deadline = time.monotonic() + 5
    while True:
        line = b.call("CLIENT", "LIST", "ID", str(a_id)).decode()
        f = parse_client_line(line.rstrip("\n"))
        if "b" in f["flags"] or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert f["flags"] == "b"
    assert f["cmd"] == "blpop"
    assert b.call("RPUSH", "never-pushed", "x") == 1
    assert a.read_reply() == [b"never-pushed", b"x"]


def test_client_list_cmd_is_set_before_the_command_runs(server):
    """CLIENT LIST's cmd= is the client's last command as Redis records it:
    set before the command runs (a refused or queued command counts), and
    NULL after an unknown command or subcommand."""
    a = server.conn()
    b = server.conn()
    a_id = a.call("CLIENT", "ID")

    def last():
        line = b.call("CLIENT", "LIST", "ID", str(a_id)).decode()
        return parse_client_line(line.rstrip("\n"))["cmd"]

    seen = []
    for step in (
        ("SET", "x", "1"),
        ("NOSUCHCMD",),
        ("CONFIG", "NOSUCH"),
        ("GET",),
        ("MULTI",),
        ("SET", "x", "2"),
        ("EXEC",),
    ):
        a.call(*step)  # errors come back as values
        seen.append(last())
    assert seen == ["set", "NULL", "NULL", "get", "multi", "set", "exec"]


def test_client_list_resp3(rc):
    rc.call("HELLO", "3")
    out = rc.call("CLIENT", "LIST")
    # CLIENT LIST is a verbatim string in RESP3.
    assert "resp=3" in out
    assert getattr(out, "fmt", None) == "txt"


def test_client_list_id_filter(server):
    a, b = server.conn(), server.conn()
    ida, idb = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
    out = a.call("CLIENT", "LIST", "ID", str(idb)).decode()
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith(f"id={idb} ")
    both = a.call("CLIENT", "LIST", "ID", str(ida), str(idb)).decode().rstrip("\n").split("\n")
    assert sorted(int(parse_client_line(x)["id"]) for x in both) == sorted([ida, idb])


def test_client_unknown_subcommand(rc):
    assert rc.err("CLIENT", "FOOBAR") == (
        "ERR unknown subcommand 'FOOBAR'. Try CLIENT HELP."
    )


def test_redis_py_client_helpers(r):
    assert r.client_setname("pyclient") is True
    assert r.client_getname() == "pyclient"
    assert isinstance(r.client_id(), int)
    entries = r.client_list()
    assert any(e["name"] == "pyclient" for e in entries)


def test_quit(rc):
    assert rc.call_raw("QUIT") == b"+OK\r\n"
    assert rc.read_until_closed() == b""


def test_reply_types_are_exact(rc):
    assert isinstance(rc.call("SET", "k", "v"), Status)
    assert isinstance(rc.call("INCR", "k"), Error)


def test_redis_py_error_class(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("k")
