"""A real `redis-server` on a loopback port, for the tests of the Redis backends.

`make test` installs redis-server when it is missing; nothing here is skipped without it: a
test that needs Redis fails and says how to get it.

    from tests.redis_server import redis_server  # the session-scoped fixture
    from tests.redis_server import pools  # the connection pools a test makes
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.connection import ConnectionPool

MISSING = (
    "redis-server is not installed: `make test` installs it (or run `apt-get install redis-server`)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process: no persistence, loopback only, its files in a temp dir."""

    def __init__(self) -> None:
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="billing-bot-redis-"))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 60.0) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail(MISSING, pytrace=False)
        for _ in range(3):  # the free port may be taken before the server binds it
            self.port = free_port()
            log = self._dir / "redis.log"
            with log.open("wb") as out:
                self._process = subprocess.Popen(  # noqa: S603 - a fixed executable and args
                    [
                        executable,
                        "--port",
                        str(self.port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(self._dir),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready(timeout):
                return
            self.stop()
        output = (self._dir / "redis.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"redis-server did not start:\n{output}", pytrace=False)

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                return False
            if self.ping():
                return True
            time.sleep(0.01)
        return False

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def running_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server for the session; tests keep apart by namespacing their keys."""
    yield from running_redis()


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[ConnectionPool]:
    """Every redis-py connection pool made while the test runs: one per Redis client."""
    made: list[ConnectionPool] = []
    init = ConnectionPool.__init__

    def counting(self: ConnectionPool, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(ConnectionPool, "__init__", counting)
    return made
