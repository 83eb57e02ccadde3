"""Black-box test harness for lunakv.

Every test talks to a real server process over TCP.  By default that process
is ``target/debug/lunakv-server`` (override with ``LUNAKV_BIN``); with
``LUNAKV_TEST_TARGET=redis`` the very same fixtures start the real
``redis-server`` instead (override with ``REDIS_SERVER_BIN``), so every
expectation in this suite can be checked against Redis 7.0.

Fixtures:

* ``server``       -- a shared server (one per session), flushed before each
                      test and restarted if a previous test killed it.
* ``fresh_server`` -- a dedicated server for one test (robustness tests).
* ``r`` / ``r3``   -- redis-py clients (RESP2 / RESP3, decode_responses=True).
* ``make_client``  -- factory: ``make_client(protocol=2|3, db=0, decode=True)``.
* ``rc``           -- a :class:`RespConn` (our own minimal RESP client that
                      keeps exact wire types and full error texts).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = os.environ.get("LUNAKV_TEST_TARGET", "lunakv").strip().lower()
IS_REDIS = TARGET == "redis"
HOST = "127.0.0.1"


def server_binary() -> str:
    if IS_REDIS:
        return os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server") or "/usr/bin/redis-server"
    env = os.environ.get("LUNAKV_BIN")
    if env:
        return env
    return str(REPO_ROOT / "target" / "debug" / "lunakv-server")


def free_port() -> int:
    """Ask the kernel for a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# Minimal RESP2/RESP3 client that keeps the exact reply types.
# ---------------------------------------------------------------------------


class Error(str):
    """An error reply (full text, including the ERR/WRONGTYPE prefix)."""

    def __repr__(self):
        return f"Error({str.__repr__(self)})"


class Status(str):
    """A simple-string reply (+OK)."""

    def __repr__(self):
        return f"Status({str.__repr__(self)})"


class Push(list):
    pass


class RespSet(list):
    """RESP3 set reply (kept as a list to allow unhashable members)."""


class BigNumber(int):
    pass


class Verbatim(str):
    def __new__(cls, fmt, text):
        obj = str.__new__(cls, text)
        obj.fmt = fmt
        return obj


class ConnectionClosed(Exception):
    pass


def encode_command(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConn:
    """A raw socket connection with a RESP2/RESP3 reply parser."""

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    # -- io -----------------------------------------------------------------
    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionClosed("server closed the connection")
        self.buf += chunk

    def read_line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2 :]
                return line
            self._fill()

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_raw_reply(self) -> bytes:
        """Read exactly one reply and return its raw bytes."""
        captured = []
        orig_read_line, orig_read_exact = self.read_line, self.read_exact

        def rl():
            line = orig_read_line()
            captured.append(line + b"\r\n")
            return line

        def rx(n):
            data = orig_read_exact(n)
            captured.append(data)
            return data

        self.read_line, self.read_exact = rl, rx
        try:
            self.read_reply()
        finally:
            self.read_line, self.read_exact = orig_read_line, orig_read_exact
        return b"".join(captured)

    def read_reply(self):
        line = self.read_line()
        if not line:
            raise AssertionError("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest.decode(errors="surrogateescape"))
        if t == b"-":
            return Error(rest.decode(errors="surrogateescape"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.read_exact(n + 2)
            assert data[-2:] == b"\r\n", data
            return data[:-2]
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read_reply() for _ in range(n)]
        if t == b"_":
            return None
        if t == b",":
            return float(rest.decode())
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return BigNumber(int(rest))
        if t == b"=":
            data = self.read_exact(int(rest) + 2)[:-2]
            return Verbatim(data[:3].decode(), data[4:].decode())
        if t == b"!":
            return Error(self.read_exact(int(rest) + 2)[:-2].decode())
        if t == b"%":
            n = int(rest)
            out = {}
            for _ in range(n):
                k = self.read_reply()
                if isinstance(k, list):
                    k = tuple(k)
                out[k] = self.read_reply()
            return out
        if t == b"~":
            return RespSet(self.read_reply() for _ in range(int(rest)))
        if t == b">":
            return Push(self.read_reply() for _ in range(int(rest)))
        if t == b"|":
            for _ in range(int(rest) * 2):
                self.read_reply()
            return self.read_reply()
        raise AssertionError(f"unknown RESP type byte in line {line!r}")

    # -- helpers -------------------------------------------------------------
    def call(self, *args):
        self.send(encode_command(*args))
        return self.read_reply()

    def call_raw(self, *args) -> bytes:
        self.send(encode_command(*args))
        return self.read_raw_reply()

    def err(self, *args) -> str:
        """Run a command that must fail; return the full error text."""
        reply = self.call(*args)
        assert isinstance(reply, Error), f"expected an error from {args!r}, got {reply!r}"
        return str(reply)

    def read_until_closed(self, timeout=10.0) -> bytes:
        """Read everything until the server closes the connection."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return data
            except (socket.timeout, TimeoutError):
                break
            if not chunk:
                return data
            data += chunk
        raise AssertionError(f"connection not closed after {timeout}s; got {data[:200]!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Server process management.
# ---------------------------------------------------------------------------


def reference_redis(prefix: str, binary: str | None = None):
    """Generator for fixtures that need a real redis-server beside lunakv
    (differential tests): starts one on a free port in a temporary
    directory, persistence off, and yields its port, or yields None if it
    could not be started; stops it and removes the directory afterwards."""
    binary = binary or shutil.which("redis-server") or "/usr/bin/redis-server"
    d = tempfile.mkdtemp(prefix=prefix)
    proc = None
    port = None
    try:
        for _ in range(5):
            port = free_port()
            proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", d],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.time() + 10
            while time.time() < deadline and proc.poll() is None:
                try:
                    c = RespConn(HOST, port, timeout=2)
                    c.send(encode_command("PING"))
                    ok = c.read_reply() == "PONG"
                    c.sock.close()
                    if ok:
                        break
                except OSError:
                    time.sleep(0.05)
            else:
                proc.kill()
                proc.wait(timeout=10)
                proc = None
                continue
            break
        yield port if proc is not None else None
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)


class ServerProcess:
    def __init__(self, extra_args=()):
        self.binary = server_binary()
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.host = HOST
        self.tmp = None
        self.dir = None
        self.log_path = None
        self._clients = []

    def command_line(self):
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
        ]
        if IS_REDIS:
            args += ["--daemonize", "no", "--logfile", ""]
        return args + self.extra_args

    def log_text(self, limit=20000):
        try:
            return Path(self.log_path).read_text(errors="replace")[-limit:]
        except OSError:
            return "<no log>"

    def start(self, wait=30.0):
        if not os.path.exists(self.binary):
            pytest.fail(
                f"server binary {self.binary} does not exist "
                "(run `cargo build --workspace` or set LUNAKV_BIN / LUNAKV_TEST_TARGET=redis)",
                pytrace=False,
            )
        self.tmp = tempfile.TemporaryDirectory(prefix="lunakv-test-")
        self.dir = Path(self.tmp.name) / "data"
        self.dir.mkdir()
        self.log_path = Path(self.tmp.name) / "server.log"
        last_err = None
        for _attempt in range(3):
            self.port = free_port()
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    self.command_line(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.tmp.name,
                )
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last_err = f"server exited with code {self.proc.returncode}"
                    break
                if self.ping_ok(timeout=0.5):
                    return self
                time.sleep(0.05)
            else:
                last_err = f"server did not answer PING within {wait}s"
                self.kill()
            if "in use" not in self.log_text():
                break
        pytest.fail(
            f"could not start {' '.join(map(repr, self.command_line()))}: {last_err}\n"
            f"--- server output ---\n{self.log_text()}",
            pytrace=False,
        )

    def ping_ok(self, timeout=1.0) -> bool:
        try:
            c = RespConn(self.host, self.port, timeout=timeout)
        except OSError:
            return False
        try:
            return c.call("PING") == "PONG"
        except (OSError, ConnectionClosed, AssertionError, ValueError):
            return False
        finally:
            c.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.ping_ok()

    def client(self, protocol=2, db=0, decode=True, **kw) -> redis.Redis:
        c = redis.Redis(
            host=self.host,
            port=self.port,
            db=db,
            protocol=protocol,
            decode_responses=decode,
            socket_timeout=kw.pop("socket_timeout", 20),
            **kw,
        )
        self._clients.append(c)
        return c

    def conn(self, timeout=10.0) -> RespConn:
        c = RespConn(self.host, self.port, timeout=timeout)
        self._clients.append(c)
        return c

    def close_clients(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients = []

    def kill(self):
        self.close_clients()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def stop(self):
        self.kill()
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="session")
def _shared_server():
    srv = ServerProcess().start()
    yield srv
    srv.stop()


@pytest.fixture
def server(_shared_server):
    """The shared server, guaranteed alive and empty at test start."""
    srv = _shared_server
    if not srv.alive():
        # A previous test crashed or wedged it: report that in the log and restart.
        print(f"shared server was dead; previous output:\n{srv.log_text(4000)}")
        srv.stop()
        srv.start()
    try:
        c = RespConn(srv.host, srv.port)
        reply = c.call("FLUSHALL")
        c.close()
        if reply != "OK":
            raise RuntimeError(f"FLUSHALL replied {reply!r}")
    except Exception:
        # FLUSHALL missing or broken: a restart gives an empty server as well.
        srv.stop()
        srv.start()
    yield srv
    srv.close_clients()
    if srv.proc.poll() is not None:
        pytest.fail(
            f"server died during the test (exit code {srv.proc.returncode})\n"
            f"--- server output ---\n{srv.log_text()}",
            pytrace=False,
        )


@pytest.fixture
def fresh_server():
    srv = ServerProcess().start()
    yield srv
    died = srv.proc.poll() is not None
    log = srv.log_text()
    srv.stop()
    if died:
        pytest.fail(f"server died during the test\n--- server output ---\n{log}", pytrace=False)


@pytest.fixture
def make_client(server):
    def factory(protocol=2, db=0, decode=True, **kw):
        return server.client(protocol=protocol, db=db, decode=decode, **kw)

    return factory


@pytest.fixture
def r(make_client):
    return make_client(protocol=2)


@pytest.fixture
def r3(make_client):
    return make_client(protocol=3)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def rp(request, make_client):
    """A redis-py client, once per protocol version."""
    return make_client(protocol=request.param)


@pytest.fixture
def rc(server):
    return server.conn()


def pytest_report_header(config):
    return f"lunakv test target: {TARGET} ({server_binary()})"
