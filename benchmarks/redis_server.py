"""A private ``redis-server`` on a free loopback port, for figures 4 and 6."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A running server: ``url`` for Django, ``client`` for inspection."""

    def __init__(self, port: int) -> None:
        self.url = f"redis://127.0.0.1:{port}/0"
        self.client = redis.Redis(host="127.0.0.1", port=port)

    @staticmethod
    def missing_reason() -> str:
        return "redis-server not found (make servers installs it as root)"

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[RedisServer | None]:
        """A fresh server, or ``None`` when redis-server is not installed."""
        binary = shutil.which("redis-server")
        if binary is None:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="occasion-bench-redis-") as folder:
            port = free_port()
            process = subprocess.Popen(
                [
                    binary,
                    *("--port", str(port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--dir", folder),
                ],
                stdout=subprocess.DEVNULL,
            )
            server = cls(port)
            try:
                server.wait_until_up(process)
                yield server
            finally:
                server.client.close()
                process.terminate()
                process.wait(10)

    def wait_until_up(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    @property
    def version(self) -> str:
        return str(self.client.info("server")["redis_version"])

    def flush(self) -> None:
        self.client.flushdb()
