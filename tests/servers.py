"""Real servers for the suite: Redis, Memcached and a scriptable Occasion API.

Redis and Memcached are started by the suite itself, once per session, on
free loopback ports: no system service is used or stopped. A missing binary
skips the tests that need it, or fails them when
``OCCASION_TEST_REQUIRE_SERVERS=1`` (CI). ``OCCASION_TEST_REDIS_URL`` and
``OCCASION_TEST_MEMCACHED`` (``host:port``) point the suite at servers of
your own instead; the tests flush them.

:class:`FakeAPI` is a real HTTP server in a thread. It serves the product
fixtures by default, and each path can be given a queue of canned answers:
an error status, a slow or hanging answer, a reset connection, a truncated
body. It counts the requests it receives per path.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core.cache import caches
from django.test import override_settings

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_API_URL = "https://app.getoccasion.com/api/v1"
API_PREFIX = "/api/v1/"
START_TIMEOUT = 10.0
# Longer than any read timeout the suite sets; the server's teardown wakes
# hanging handlers at once.
HANG_SECONDS = 30.0


# -- Redis and Memcached -------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """A running cache server; ``location`` is what ``CACHES`` wants."""

    name: str
    location: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find_binary(name: str, env_hint: str) -> str:
    binary = shutil.which(name)
    if binary is not None:
        return binary
    reason = (
        f"{name} is not installed (apt-get install {name}, or set {env_hint} "
        "to a server of your own)"
    )
    if os.environ.get("OCCASION_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason}; OCCASION_TEST_REQUIRE_SERVERS=1 requires it")
    pytest.skip(reason)


def _answers(port: int, probe: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(probe)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start(
    name: str,
    command: Callable[[int], list[str]],
    probe: bytes,
    expect: bytes,
    log_dir: Path,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command`` on a free port and wait until it answers ``probe``."""
    log = log_dir / f"{name}.log"
    # Another process may take the port between free_port() and the bind:
    # the server then exits at once and the next port is tried.
    for _attempt in range(3):
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                command(port),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(port, probe, expect) and process.poll() is None:
                return process, port
            time.sleep(0.05)
        _stop(process)
    tail = log.read_text(errors="replace")[-2000:]
    pytest.fail(f"{name} did not start on 127.0.0.1; its log ends with:\n{tail}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A Redis server of the suite's own, without persistence."""
    external = os.environ.get("OCCASION_TEST_REDIS_URL")
    if external:
        yield Service("redis", external)
        return
    binary = _find_binary("redis-server", "OCCASION_TEST_REDIS_URL")
    workdir = tmp_path_factory.mktemp("redis")
    process, port = _start(
        "redis",
        lambda port: [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        b"PING\r\n",
        b"+PONG",
        workdir,
    )
    try:
        yield Service("redis", f"redis://127.0.0.1:{port}")
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def memcached_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A Memcached server of the suite's own, TCP only."""
    external = os.environ.get("OCCASION_TEST_MEMCACHED")
    if external:
        yield Service("memcached", external)
        return
    binary = _find_binary("memcached", "OCCASION_TEST_MEMCACHED")
    # memcached refuses to run as root unless told which user to be.
    user = ["-u", pwd.getpwuid(os.geteuid()).pw_name] if os.geteuid() == 0 else []
    process, port = _start(
        "memcached",
        lambda port: [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", *user],
        b"version\r\n",
        b"VERSION",
        tmp_path_factory.mktemp("memcached"),
    )
    try:
        yield Service("memcached", f"127.0.0.1:{port}")
    finally:
        _stop(process)


def close_caches() -> None:
    """Close this thread's cache connections now, not in the garbage collector.

    Django's ``RedisCache.close()`` keeps its connection pools (they are
    meant to outlive a request); sockets that the garbage collector finds
    open raise ``ResourceWarning``, an error in this suite.
    """
    for cache in caches.all(initialized_only=True):
        cache.close()
        for pool in getattr(cache.__dict__.get("_cache"), "_pools", {}).values():
            pool.disconnect()


# -- the fake Occasion API -----------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as the fake API received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Action = Literal["default", "hang", "reset", "truncate"]


@dataclass(frozen=True)
class Answer:
    """One canned answer.

    ``body`` may be bytes, text, anything JSON can encode, or a callable that
    receives the :class:`Request` and returns one of those. ``action``:

    ``default``
        the answer the server would give without a script (after ``delay``).
    ``hang``
        read the request, then say nothing until the server stops.
    ``reset``
        close the connection with a TCP reset instead of answering.
    ``truncate``
        announce a ``Content-Length`` longer than the body, send the body and
        close the connection.
    """

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    action: Action | None = None
    #: Hold the answer until the test sets this event.
    gate: threading.Event | None = None

    def encode(self, request: Request) -> bytes:
        body = self.body(request) if callable(self.body) else self.body
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode()
        return json.dumps(body).encode()


DEFAULT = Answer(action="default")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.api.handle(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when many clients (or a
    # broken lock) make requests at once; a dropped SYN is retried only
    # after a second, past the suite's connect timeout.
    request_queue_size = 128
    api: FakeAPI


class FakeAPI:
    """The Occasion API on ``127.0.0.1``, as scripted by a test.

    Paths are named relative to the API root: ``"products"``,
    ``"products/p7Kd2x"``, ``"orders/price"``.
    """

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        #: Delay of every default answer, to make the upstream slow.
        self.latency = 0.0
        self.pages: list[dict[str, Any]] = [
            self.fixture("products-page-1.json"),
            self.fixture("products-page-2.json"),
        ]
        self._lock = threading.Condition()
        self._scripts: defaultdict[str, deque[Answer]] = defaultdict(deque)
        self._counts: Counter[tuple[str, str]] = Counter()
        self._requests: list[Request] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-occasion-api",
            daemon=True,
        )

    # -- life cycle

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def settings(self, **overrides: Any) -> override_settings:
        """Settings that point the app at this server, with short timeouts."""
        values: dict[str, Any] = {
            "OCCASION_API_URL": self.url,
            "OCCASION_CONNECT_TIMEOUT": 0.5,
            "OCCASION_READ_TIMEOUT": 0.5,
            "OCCASION_MAX_RETRIES": 0,
            "OCCASION_RETRY_BUDGET": 5.0,
        }
        values.update(overrides)
        return override_settings(**values)

    # -- what the test controls and observes

    def fixture(self, name: str) -> Any:
        """A fixture document with its links pointing at this server."""
        text = (FIXTURES / name).read_text()
        return json.loads(text.replace(FIXTURE_API_URL, self.url))

    def set_products(self, products: list[dict[str, Any]]) -> None:
        """Serve one page holding ``products`` (and the fixtures' venues)."""
        with self._lock:
            included = self.pages[0]["included"]
            self.pages = [{"data": products, "included": included, "links": {}}]

    def script(self, path: str, *answers: Answer) -> None:
        """Answer the next requests for ``path`` with ``answers``, in order."""
        with self._lock:
            self._scripts[path].extend(answers)

    def count(self, path: str, method: str | None = None) -> int:
        """How many requests ``path`` received (by ``method``, if given)."""
        with self._lock:
            return self._count(path, method)

    def _count(self, path: str, method: str | None = None) -> int:
        return sum(
            n for (m, p), n in self._counts.items() if p == path and method in (None, m)
        )

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until ``path`` has received ``count`` requests."""
        with self._lock:
            return self._lock.wait_for(lambda: self._count(path) >= count, timeout)

    # -- serving

    def handle(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        path = unquote(url.path)
        length = int(handler.headers.get("Content-Length") or 0)
        # Read the whole request: closing a socket with unread input makes
        # the kernel reset the connection, which would garble every answer.
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=path.removeprefix(API_PREFIX).strip("/"),
            query=parse_qs(url.query),
            headers=dict(handler.headers.items()),
            body=body,
        )
        with self._lock:
            self._counts[request.method, request.path] += 1
            self._requests.append(request)
            script = self._scripts[request.path]
            answer = script.popleft() if script else DEFAULT
            self._lock.notify_all()
        if answer.action == "default":
            default = self._default(request)
            answer = Answer(
                status=default.status,
                body=default.body,
                delay=answer.delay or self.latency,
                gate=answer.gate,
            )
        self._send(handler, request, answer)

    def _default(self, request: Request) -> Answer:
        not_found = Answer(404, self.fixture("error-404.json"))
        if request.method != "GET" or not request.path.startswith("products"):
            return not_found
        with self._lock:
            pages = self.pages
        if request.path == "products":
            number = int(request.query.get("page[number]", ["1"])[0])
            if 1 <= number <= len(pages):
                return Answer(200, pages[number - 1])
            return Answer(200, {"data": [], "links": {}})
        product_id = request.path.removeprefix("products/")
        for page in pages:
            for item in page["data"]:
                if str(item["id"]) == product_id:
                    return Answer(200, {"data": item, "included": page["included"]})
        return not_found

    def _send(self, handler: _Handler, request: Request, answer: Answer) -> None:
        handler.close_connection = True
        if answer.gate is not None:
            while not answer.gate.wait(0.05):
                if self._stopping.is_set():
                    return
        if answer.delay and self._stopping.wait(answer.delay):
            return
        if answer.action == "hang":
            self._stopping.wait(HANG_SECONDS)
            return
        if answer.action == "reset":
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.connection.close()
            return
        body = answer.encode(request)
        handler.send_response(answer.status)
        headers = {"Content-Type": "application/vnd.api+json", **answer.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        extra = 100 if answer.action == "truncate" else 0
        handler.send_header("Content-Length", str(len(body) + extra))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    """A fresh fake Occasion API; point the app at it with ``.settings()``."""
    api = FakeAPI()
    api.start()
    try:
        yield api
    finally:
        api.stop()
