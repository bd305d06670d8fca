"""A stand-in Occasion API on 127.0.0.1, for the benchmarks and for trying things.

It serves ``GET /api/v1/products`` (numbered pages, ``include=merchant,venue``,
full-URL ``links``) and ``GET /api/v1/products/ID`` from a synthetic catalogue
in the shapes of the real JSON:API answers, and sleeps the configured latency
before each answer. It speaks HTTP/1.1 with keep-alive, so a client that
reuses its connection is seen doing so, and it counts requests and accepted
TCP connections.

The benchmarks run it in a process of its own (:class:`StandIn`), so that
its work never competes for the GIL with the code being measured. Run it by
hand with ``python -m benchmarks.standin --products 500`` and point
``OCCASION_API_URL`` at the address it prints.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

API_PATH = "/api/v1"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
SEED = 20261203
ID_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CENTRAL = timezone(timedelta(hours=-6))

_WORD_TEXT = (
    "clay wheel glaze kiln studio evening beginners porcelain stoneware form "
    "texture colour firing trimming handles bowls mugs vases slab coil pinch "
    "teacher small group aprons tools included bring friends relaxed focused "
    "technique practice weekly session workshop weekend morning afternoon "
    "climbing wall ropes harness skating rink lessons family children adults "
    "beginner intermediate advanced safety warm-up stretch coaching progress"
)
WORDS = tuple(_WORD_TEXT.split())
TITLE_NOUNS = (
    "Wheel Throwing", "Glaze Lab", "Hand-Building", "Raku Firing",
    "Bouldering", "Top-Rope Climbing", "Figure Skating", "Hockey Skills",
    "Studio Rental", "Kiln Workshop", "Family Clay Day", "Learn to Skate",
)  # fmt: skip
TITLE_SUFFIXES = (
    "for Beginners", "Saturday Workshop", "Six-Week Course", "Open Session",
    "Private Lesson", "Evening Class", "Taster", "Masterclass",
)  # fmt: skip
# Weighted like a live catalogue: mostly bookable, some past or full.
STATUSES = ("active",) * 14 + ("sold_out",) * 2 + ("expired",) * 3 + ("inactive",)

MERCHANT = {
    "type": "merchants",
    "id": "m1Qa9",
    "attributes": {
        "name": "Riverbend Clay and Climbing",
        "time_zone": "America/Chicago",
        "tax_percentage": "8.25",
        "profile_picture": "https://images.example.test/merchants/m1Qa9/logo.jpg",
        "facebook_page": "https://social.example.test/riverbend",
    },
    "relationships": {
        "currency": {"data": {"type": "currencies", "id": "cur-usd"}},
    },
}
VENUES = [
    {
        "type": "venues",
        "id": venue_id,
        "attributes": {
            "name": name,
            "address": address,
            "city": "Springfield",
            "zip": "62701",
            "website": "https://riverbend.example.test/",
            "email": "hello@riverbend.example.test",
            "phone": "+1 217 555 0100",
            "time_zone": "America/Chicago",
        },
        "relationships": {
            "country": {"data": {"type": "countries", "id": "US"}},
            "state": {"data": {"type": "states", "id": "IL"}},
        },
    }
    for venue_id, name, address in (
        ("v3Lk0", "Riverbend Main Studio", "12 Mill Street"),
        ("v8Qp2", "Riverbend Climbing Hall", "400 Foundry Road"),
        ("v5Xz7", "Lakeside Ice Rink", "1 Shore Drive"),
    )
]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def _description(rng: random.Random, length: int = 850) -> str:
    """At least ``length`` characters of merchant-written HTML (1 KB on average)."""
    parts: list[str] = []
    size = 0
    while size < length:
        if rng.random() < 0.25:
            items = "".join(f"<li>{_sentence(rng)}</li>" for _ in range(3))
            part = f"<ul>{items}</ul>"
        else:
            sentences = " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
            part = f"<p>{sentences.replace(' clay ', ' <em>clay</em> ', 1)}</p>"
        parts.append(part)
        size += len(part)
    return "".join(parts)


def _product_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        product_id = "p" + "".join(rng.choices(ID_ALPHABET, k=7))
        if product_id not in taken:
            taken.add(product_id)
            return product_id


def generate_products(count: int, *, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` product resource objects, newest first, the same for a seed."""
    rng = random.Random(seed)
    taken: set[str] = set()
    newest = datetime(2026, 11, 30, 16, 0, tzinfo=CENTRAL)
    products = []
    for n in range(count):
        product_id = _product_id(rng, taken)
        created = newest - timedelta(hours=7 * n)
        image = (
            {
                "url": f"https://images.example.test/products/{product_id}/full.jpg",
                "thumb": {
                    "url": f"https://images.example.test/products/{product_id}/thumb.jpg"
                },
            }
            if rng.random() < 0.8
            else None
        )
        title = f"{rng.choice(TITLE_NOUNS)} {rng.choice(TITLE_SUFFIXES)}"
        products.append(
            {
                "type": "products",
                "id": product_id,
                "attributes": {
                    "title": title,
                    "description": _description(rng),
                    "status": rng.choice(STATUSES),
                    "image": image,
                    "tax_percentage": "8.25",
                    "order_button_text": "Reserve my place",
                    "post_transactional_message": "See you soon!",
                    "show_occurrence_availability": True,
                    "show_time_slot_duration": rng.random() < 0.5,
                    "closing_time_relative": True,
                    "time_slots_closed_before": "2000-01-01T02:00:00.000Z",
                    "sells_sessions": rng.random() < 0.3,
                    "free": False,
                    "has_time_slots": True,
                    "first_time_slot_starts_at": (
                        created + timedelta(days=30)
                    ).isoformat(timespec="milliseconds"),
                    "created_at": created.isoformat(timespec="milliseconds"),
                    "updated_at": (created + timedelta(days=2)).isoformat(
                        timespec="milliseconds"
                    ),
                    "widget_contact_title": "About you",
                    "widget_occurrences_title": "Pick a date",
                    "widget_attributes_title": "A few questions",
                    "widget_payment_title": "Payment",
                    "widget_total_due_title": "Due today",
                },
                "relationships": {
                    "merchant": {"data": {"type": "merchants", "id": MERCHANT["id"]}},
                    "venue": {
                        "data": {"type": "venues", "id": VENUES[n % len(VENUES)]["id"]}
                    },
                },
            }
        )
    return products


class Counters:
    """Request and connection counts, shared between processes."""

    NAMES = ("requests", "listing_pages", "first_pages", "connections")

    def __init__(self, context: Any = multiprocessing) -> None:
        self.lock = context.Lock()
        self.values = {name: context.Value("q", 0, lock=False) for name in self.NAMES}

    def add(self, name: str) -> None:
        with self.lock:
            self.values[name].value += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {name: value.value for name, value in self.values.items()}

    def reset(self) -> None:
        with self.lock:
            for value in self.values.values():
                value.value = 0


class StandInHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients may connect at once (the cold-cache figure).
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        products: list[dict[str, Any]],
        latency: float,
        counters: Counters,
    ) -> None:
        super().__init__(address, StandInHandler)
        self.products = products
        self.by_id = {product["id"]: product for product in products}
        self.related = {
            (resource["type"], resource["id"]): resource
            for resource in [MERCHANT, *VENUES]
        }
        self.latency = latency
        self.counters = counters
        self.bodies: dict[tuple[object, ...], bytes] = {}

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{API_PATH}"


class StandInHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open; every answer sends Content-Length.
    protocol_version = "HTTP/1.1"
    server: StandInHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY, Nagle's
        # algorithm holds a small body back until the client's delayed ACK,
        # 40 ms later. Production servers set it on keep-alive connections.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.counters.add("connections")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.counters.add("requests")
        time.sleep(self.server.latency)
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if not self.headers.get("Authorization", "").startswith("Basic "):
            self.send_errors(401, "unauthorized", "API keys are required")
        elif parts.path == f"{API_PATH}/products":
            self.send_listing(query)
        elif parts.path.startswith(f"{API_PATH}/products/"):
            self.send_product(parts.path.rsplit("/", 1)[1], query)
        else:
            self.send_errors(404, "not_found", "no such endpoint")

    def send_json(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_errors(self, status: int, code: str, detail: str) -> None:
        document = {"errors": [{"status": str(status), "code": code, "detail": detail}]}
        self.send_json(status, json.dumps(document).encode())

    def included(
        self, products: list[dict[str, Any]], include: str
    ) -> list[dict[str, Any]]:
        names = set(include.split(",")) & {"merchant", "venue"}
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for product in products:
            for name in sorted(names):
                data = product["relationships"][name]["data"]
                identifier = (data["type"], data["id"])
                seen.setdefault(identifier, self.server.related[identifier])
        return list(seen.values())

    def send_listing(self, query: Mapping[str, str]) -> None:
        try:
            size = min(int(query.get("page[size]", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
            number = int(query.get("page[number]", 1))
        except ValueError:
            self.send_errors(400, "bad_request", "page parameters must be numbers")
            return
        if size < 1 or number < 1:
            self.send_errors(400, "bad_request", "page parameters must be positive")
            return
        self.server.counters.add("listing_pages")
        if number == 1:
            self.server.counters.add("first_pages")
        include = query.get("include", "")
        cache_key = ("listing", size, number, include, query.get("merchant_id"))
        body = self.server.bodies.get(cache_key)
        if body is None:
            body = self.listing_body(query, size, number, include)
            self.server.bodies[cache_key] = body
        self.send_json(200, body)

    def listing_body(
        self, query: Mapping[str, str], size: int, number: int, include: str
    ) -> bytes:
        products = self.server.products[(number - 1) * size : number * size]
        last = max(1, math.ceil(len(self.server.products) / size))

        def link(page: int) -> str:
            params = {**query, "page[size]": str(size), "page[number]": str(page)}
            return (
                f"{self.server.base_url}/products?{urlencode(sorted(params.items()))}"
            )

        document = {
            "data": products,
            "included": self.included(products, include),
            "links": {
                "self": link(number),
                "first": link(1),
                "prev": link(number - 1) if number > 1 else None,
                "next": link(number + 1) if number < last else None,
                "last": link(last),
            },
        }
        return json.dumps(document, separators=(",", ":")).encode()

    def send_product(self, product_id: str, query: Mapping[str, str]) -> None:
        product = self.server.by_id.get(product_id)
        if product is None:
            self.send_errors(404, "not_found", f"no product {product_id}")
            return
        document = {
            "data": product,
            "included": self.included([product], query.get("include", "")),
        }
        self.send_json(200, json.dumps(document, separators=(",", ":")).encode())


def _serve(products: int, latency: float, counters: Counters, pipe: Connection) -> None:
    server = StandInHTTPServer(
        ("127.0.0.1", 0), generate_products(products), latency, counters
    )
    pipe.send(server.base_url)
    server.serve_forever(poll_interval=0.1)


@dataclass
class StandIn:
    """A stand-in API in a child process; ``counters`` are read from here."""

    products: int
    latency: float
    url: str
    counters: Counters
    process: multiprocessing.process.BaseProcess

    @classmethod
    @contextmanager
    def running(cls, products: int, latency: float) -> Iterator[StandIn]:
        context = multiprocessing.get_context("spawn")
        counters = Counters(context)
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_serve,
            args=(products, latency, counters, sender),
            name=f"occasion-standin-{products}",
            daemon=True,
        )
        process.start()
        try:
            deadline = time.monotonic() + 30
            while not receiver.poll(0.1):
                if not process.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the stand-in API did not start")
            yield cls(products, latency, receiver.recv(), counters, process)
        finally:
            process.terminate()
            process.join(5)

    def pages(self, page_size: int) -> int:
        """Pages of the whole listing at ``page_size`` products a page."""
        return max(1, math.ceil(self.products / page_size))

    def snapshot(self) -> dict[str, int]:
        return self.counters.snapshot()

    def reset(self) -> None:
        self.counters.reset()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.standin",
        description="Serve a synthetic Occasion catalogue on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8001, help="Port to listen on.")
    parser.add_argument(
        "--products", type=int, default=500, help="Products in the catalogue."
    )
    parser.add_argument(
        "--latency-ms", type=float, default=20, help="Added latency per request."
    )
    args = parser.parse_args(argv)
    server = StandInHTTPServer(
        ("127.0.0.1", args.port),
        generate_products(args.products),
        args.latency_ms / 1000,
        Counters(),
    )
    print(f"Stand-in Occasion API with {args.products} products on {server.base_url}")
    print("Any API login works: set OCCASION_API_URL to the address above.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
