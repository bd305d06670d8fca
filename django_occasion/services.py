"""The service layer: the only code that talks to both the client and the cache.

Views, template tags and management commands call the functions at the end of
this module; they never see the client or the cache.

How the product catalogue is cached
-----------------------------------

A refresh reads every page of ``/products`` and publishes a *generation*:

``current``
    The manifest: the generation's name, when it was fetched, and how many
    products each filter (all, per status, per venue, per both) holds.
``<generation>:ids:<filter>:<n>``
    The n-th chunk of ``CHUNK_SIZE`` ``[id, digest]`` pairs of a filter, in
    listing order. Showing one page reads the manifest, one or two chunks and
    the page's products, however large the catalogue is.
``<generation>:lookup:<n>``
    Buckets of ``{id: digest}``, so a detail page finds its product in one read.
``<generation>:related``
    The merchants and venues the products point at, stored once.
``product:<digest>``
    One product's resource object as compact JSON, keyed by a digest of its
    content: a refresh writes only products that changed.

The manifest is written last, so a generation appears all at once: readers
see either the old listing or the new one, never a mix. Keys of the old
generation are deleted right after; a reader that loses that race notices the
missing key and reads the new manifest.

Each process also keeps the ``Product`` objects it has built, by namespace,
generation and digest, and each generation's merchants and venues
(``PRODUCT_MEMO_SIZE`` and ``RELATED_MEMO_SIZE``, least recently used first
out). None of it can go out of date, since neither a digest nor a generation
ever changes meaning; a warm page therefore reads the manifest and one chunk,
and only products the process has not built yet. The manifest is still read
on every request, so a new generation is seen at once.

Freshness
---------

Within ``OCCASION_CACHE_TIMEOUT`` an entry is served as is. After it, it is
still served (stale) while exactly one process, the one that wins a short lock
taken with ``cache.add``, fetches a new one; every other process serves the
stale copy. Past ``OCCASION_MAX_STALENESS`` nothing is served: views answer
503, tags render their empty state, but the old data stays in the cache until
a newer generation replaces it or the operator clears it. After a failure the
same entry is not fetched again for ``OCCASION_FAILURE_BACKOFF`` seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import secrets
import threading
import time
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, overload
from urllib.parse import parse_qs, urlsplit

from asgiref.local import Local
from django.core.cache import BaseCache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from requests.adapters import DEFAULT_POOLSIZE

from .client import OccasionClient
from .conf import OccasionSettings, app_settings
from .domain import (
    PRODUCT_STATUSES,
    Coupon,
    GiftCard,
    Merchant,
    PriceQuote,
    Product,
    Question,
    RedeemableResult,
    RedeemableStatus,
    TimeSlot,
    Venue,
)
from .exceptions import (
    CacheTooSmall,
    Conflict,
    InvalidQuery,
    MalformedResponse,
    NetworkError,
    NotAuthorized,
    NotFound,
    OccasionError,
    PagingError,
    RateLimited,
    UpstreamBackoff,
    UpstreamUnavailable,
)
from .jsonapi import Document, Resource, ResourceIndex, parse_resource
from .query import Query, merge_params
from .signals import catalogue_refreshed

logger = logging.getLogger(__name__)

#: Bump when the layout of cached values changes, so that a deploy never
#: reads entries written by an older version.
LAYOUT_VERSION = 1
CHUNK_SIZE = 100
LOOKUP_BUCKET_SIZE = 100
LISTING_INCLUDE = "merchant,venue"
# Defence in depth: listings are fetched with public calls, which leave
# these out, but they must never reach the cache even if an API changes.
PRIVATE_PRODUCT_ATTRIBUTES = frozenset({"email_subject", "from_name", "from_email"})
PRIVATE_VENUE_ATTRIBUTES = frozenset({"capacity", "public"})
PRIVATE_ATTRIBUTES = {
    "products": PRIVATE_PRODUCT_ATTRIBUTES,
    "venues": PRIVATE_VENUE_ATTRIBUTES,
}
LOCK_POLL_INTERVAL = 0.05
CULLING_BACKENDS = (LocMemCache, FileBasedCache, DatabaseCache)
#: Ids of records put into URL paths: nothing that could climb out of the
#: path ("..") or start a query string.
RECORD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SAFE_KEY_PART = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Failures that say Occasion as a whole is unreachable or refusing us, not
# that one record is wrong: every entry then backs off, not just the one.
OUTAGE_ERRORS = (NetworkError, UpstreamUnavailable, RateLimited, NotAuthorized)

#: How many built ``Product`` objects each process keeps, so that a warm page
#: reads no product entry: a catalogue of a couple of thousand products
#: whole. With 1 KB descriptions a product takes about 3.5 KB, so a full
#: memo holds some 7 MiB.
PRODUCT_MEMO_SIZE = 2048
#: How many generations' merchants and venues each process keeps: the one
#: being served, plus those of a few other accounts or of the previous one.
RELATED_MEMO_SIZE = 4

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def whole_seconds(timeout: float) -> int:
    """A lock or back-off timeout every backend keeps for at least ``timeout``.

    Redis and Memcached count whole seconds and round down (Memcached turns
    0 into "expired"), which would silently drop a lock of half a second.
    """
    return max(1, math.ceil(timeout))


def safe_key_part(value: str) -> str:
    """A cache-key-safe form of an API value (memcached allows no spaces)."""
    if SAFE_KEY_PART.fullmatch(value):
        return value
    return "h" + hashlib.sha256(value.encode()).hexdigest()[:24]


def filter_key(status: str | None = None, venue: str | None = None) -> str:
    """The name a filter's chunks are stored under: "all", "status=active", ..."""
    parts = []
    if status:
        parts.append(f"status={safe_key_part(status)}")
    if venue:
        parts.append(f"venue={safe_key_part(venue)}")
    return "&".join(parts) or "all"


def product_filter_keys(resource: Resource) -> list[str]:
    """Every filter a product belongs to: all, its status, venue, and both."""
    status = resource.attributes.get("status")
    status = str(status) if status else None
    venue_linkage = resource.relationships.get("venue")
    venue = (
        venue_linkage[1]
        if venue_linkage and not isinstance(venue_linkage[0], tuple)
        else None
    )
    keys = {filter_key()}
    if status:
        keys.add(filter_key(status=status))
    if venue:
        keys.add(filter_key(venue=str(venue)))
    if status and venue:
        keys.add(filter_key(status=status, venue=str(venue)))
    return sorted(keys)


def lookup_bucket(product_id: str, buckets: int) -> int:
    """Which lookup bucket holds a product id (stable across processes)."""
    return zlib.crc32(product_id.encode()) % buckets


@dataclass(frozen=True)
class Manifest:
    """What the cache holds for one published generation of the catalogue."""

    generation: str
    fetched_at: float
    counts: dict[str, int]
    buckets: int

    @classmethod
    def from_json(cls, data: Any) -> Manifest | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                generation=str(data["generation"]),
                fetched_at=float(data["fetched_at"]),
                counts={str(k): int(v) for k, v in data["counts"].items()},
                buckets=int(data["buckets"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def product_count(self) -> int:
        return self.counts.get("all", 0)


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh fetched and, unless it was a dry run, published."""

    products: int
    pages: int
    elapsed: float
    generation: str | None
    added: frozenset[str] = field(default_factory=frozenset)
    removed: frozenset[str] = field(default_factory=frozenset)
    changed: frozenset[str] = field(default_factory=frozenset)
    dry_run: bool = False


@dataclass(frozen=True)
class CacheState:
    """One cached entry as ``occasion_status`` reports it."""

    name: str
    generation: str | None
    fetched_at: float | None
    age: float | None
    fresh: bool
    servable: bool
    detail: str = ""


@dataclass
class FetchedListing:
    """A listing read page by page, kept as what will be cached.

    Each page's products are turned into their compact JSON text at once,
    so a refresh holds about one copy of the catalogue's JSON rather than
    every page's parsed documents and objects.
    """

    members: dict[str, str] = field(default_factory=dict)  # id -> digest
    texts: dict[str, str] = field(default_factory=dict)  # digest -> JSON
    chunks: dict[str, list[list[str]]] = field(default_factory=dict)
    related: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    pages: int = 0
    _included: ResourceIndex = field(default_factory=ResourceIndex)

    def add_page(self, document: Document) -> None:
        self.pages += 1
        for resource in document.included:
            self._included.add(resource)
        for resource in document.resources:
            if resource.type != "products" or resource.id is None:
                continue
            if resource.id in self.members:
                continue
            text = json.dumps(
                public_json(resource), separators=(",", ":"), sort_keys=True
            )
            digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
            self.members[resource.id] = digest
            self.texts[digest] = text
            for key in product_filter_keys(resource):
                self.chunks.setdefault(key, []).append([resource.id, digest])
            for name in ("merchant", "venue"):
                linked = self._included.related(resource, name)
                if linked is not None and linked.identifier not in self.related:
                    self.related[linked.identifier] = public_json(linked)


class _StaleRead(Exception):
    """A key of the generation being read is gone (replaced or evicted)."""


class _Memo(Generic[K, V]):
    """A small least-recently-used mapping that a process's threads share."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key] = self._items[key]
        return found

    def set_many(self, values: Mapping[K, V]) -> None:
        with self._lock:
            self._items.update(values)
            for key in values:
                self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


# Built objects, by (namespace, generation, digest) and (namespace,
# generation). A product's entry is content-addressed and a generation's
# merchants and venues never change, so what these hold is never out of
# date; a new generation simply misses. The namespace keeps accounts (and
# layout versions) apart. Objects are frozen dataclasses, shared read-only.
_product_memo: _Memo[tuple[str, str, str], Product] = _Memo(PRODUCT_MEMO_SIZE)
_related_memo: _Memo[tuple[str, str], ResourceIndex] = _Memo(RELATED_MEMO_SIZE)


class ProductListing(Sequence[Product]):
    """A lazy, sliceable sequence of products, as Django's ``Paginator`` wants.

    Its length comes from the manifest; slicing reads only the chunks and
    products that the slice covers.
    """

    def __init__(self, catalogue: Catalogue, manifest: Manifest, key: str) -> None:
        self.catalogue = catalogue
        self.manifest = manifest
        self.filter_key = key
        self._index: ResourceIndex | None = None

    @property
    def generation(self) -> str:
        """The name of the published generation this listing reads.

        A refresh publishes a new one, so it is a key under which anything
        rendered from the listing may be cached (``{% cache %}`` does). If a
        refresh replaces the generation while the listing is being read, the
        listing moves on to the new one: what was cached under the old name
        then holds newer products, never older ones.
        """
        return self.manifest.generation

    @property
    def fetched_at(self) -> float:
        return self.manifest.fetched_at

    @property
    def is_stale(self) -> bool:
        return not self.catalogue.is_fresh(self.manifest.fetched_at)

    def __len__(self) -> int:
        return self.manifest.counts.get(self.filter_key, 0)

    def count(self) -> int:  # type: ignore[override]
        return len(self)

    @overload
    def __getitem__(self, index: int) -> Product: ...

    @overload
    def __getitem__(self, index: slice) -> list[Product]: ...

    def __getitem__(self, index: int | slice) -> Product | list[Product]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            return self._read(start, stop)
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("product listing index out of range")
        return self._read(position, position + 1)[0]

    def __iter__(self) -> Iterator[Product]:
        for start in range(0, len(self), CHUNK_SIZE):
            yield from self._read(start, min(start + CHUNK_SIZE, len(self)))

    def _read(self, start: int, stop: int) -> list[Product]:
        if start >= stop:
            return []
        try:
            return self.catalogue._read_listing_slice(self, start, stop)
        except _StaleRead:
            newer = self.catalogue.manifest_or_none()
            if newer is None or newer.generation == self.manifest.generation:
                self.catalogue.mark_damaged(self.manifest)
                return self.catalogue._read_listing_slice(
                    self, start, stop, skip_missing=True
                )
            self.manifest = newer
            self._index = None
            return self.catalogue._read_listing_slice(
                self, min(start, len(self)), min(stop, len(self)), skip_missing=True
            )


class ProductSlice(Sequence[Product]):
    """``listing[start:stop]``, read from the cache only when first used.

    What the pages of :class:`~django_occasion.views.ProductPaginator` hold:
    a page whose HTML comes from the template fragment cache never iterates
    its products, so it reads none.
    """

    def __init__(self, listing: ProductListing, start: int, stop: int) -> None:
        self.listing = listing
        self.start = start
        self.stop = stop
        self._products: list[Product] | None = None

    @property
    def products(self) -> list[Product]:
        if self._products is None:
            self._products = self.listing[self.start : self.stop]
        return self._products

    def __len__(self) -> int:
        return len(self.products)

    @overload
    def __getitem__(self, index: int) -> Product: ...

    @overload
    def __getitem__(self, index: slice) -> list[Product]: ...

    def __getitem__(self, index: int | slice) -> Product | list[Product]:
        return self.products[index]

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def __repr__(self) -> str:
        # Never reads: a debugger or the debug toolbar showing the context
        # must not change what the page costs.
        state = "unread" if self._products is None else "read"
        return f"<ProductSlice [{self.start}:{self.stop}], {state}>"


class Catalogue:
    """The cached public catalogue of one Occasion account (or merchant).

    Built from the settings by :func:`get_catalogue`; tests and benchmarks
    may build one around their own client and cache.
    """

    def __init__(
        self,
        client: OccasionClient,
        cache: BaseCache,
        *,
        settings: OccasionSettings = app_settings,
        namespace: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.cache = cache
        self.settings = settings
        self.clock = clock
        self.namespace = (
            namespace or f"occasion:{LAYOUT_VERSION}:{scope_name(settings)}"
        )

    # -- keys -----------------------------------------------------------------

    def key(self, *parts: object) -> str:
        """A cache key in this catalogue's namespace."""
        return ":".join([self.namespace, *map(str, parts)])

    def chunk_key(self, generation: str, key: str, chunk: int) -> str:
        return self.key(generation, "ids", key, chunk)

    def product_key(self, digest: str) -> str:
        return self.key("product", digest)

    # -- freshness ------------------------------------------------------------

    def age(self, fetched_at: float) -> float:
        """Seconds since ``fetched_at``, by this catalogue's clock."""
        return max(0.0, self.clock() - fetched_at)

    def is_fresh(self, fetched_at: float) -> bool:
        """Younger than ``OCCASION_CACHE_TIMEOUT``: served without a refresh."""
        return self.age(fetched_at) < self.settings.CACHE_TIMEOUT

    def is_servable(self, fetched_at: float) -> bool:
        """Younger than ``OCCASION_MAX_STALENESS``: may still be shown."""
        limit = self.settings.MAX_STALENESS
        return limit is None or self.age(fetched_at) <= limit

    # -- the listing ----------------------------------------------------------

    def manifest_or_none(self) -> Manifest | None:
        """The published manifest as it is, fresh or not, without fetching."""
        return Manifest.from_json(self.cache.get(self.key("current")))

    def current_manifest(self) -> Manifest:
        """The manifest to serve, refreshing it first if it is due."""
        values = self.cache.get_many([self.key("current"), self.key("damaged")])
        manifest = Manifest.from_json(values.get(self.key("current")))
        damaged = manifest is not None and (
            values.get(self.key("damaged")) == manifest.generation
        )
        if manifest is not None and self.is_fresh(manifest.fetched_at) and not damaged:
            logger.debug("Occasion listing cache hit (%s)", manifest.generation)
            return manifest
        logger.debug("Occasion listing cache %s", "stale" if manifest else "miss")
        return self._revalidate(
            "listing",
            stale=manifest
            if manifest is not None and self.is_servable(manifest.fetched_at)
            else None,
            fetch=self._refresh_and_read_manifest,
            read=self.manifest_or_none,
            is_newer=lambda m: manifest is None or m.generation != manifest.generation,
        )

    def _refresh_and_read_manifest(self) -> Manifest:
        self.refresh()
        manifest = self.manifest_or_none()
        if manifest is None:  # pragma: no cover - evicted within microseconds
            raise OccasionError("the refreshed listing was evicted at once")
        return manifest

    def listing(
        self, *, status: str | None = None, venue: str | int | None = None
    ) -> ProductListing:
        """The public products, optionally of one status and/or venue."""
        if status is not None and status not in PRODUCT_STATUSES:
            raise InvalidQuery(
                f"unknown product status {status!r}; use one of "
                + ", ".join(PRODUCT_STATUSES)
            )
        venue = None if venue is None else str(venue)
        return ProductListing(
            self, self.current_manifest(), filter_key(status=status, venue=venue)
        )

    def _read_listing_slice(
        self,
        listing: ProductListing,
        start: int,
        stop: int,
        *,
        skip_missing: bool = False,
    ) -> list[Product]:
        generation = listing.manifest.generation
        chunk_keys = [
            self.chunk_key(generation, listing.filter_key, n)
            for n in range(start // CHUNK_SIZE, (stop - 1) // CHUNK_SIZE + 1)
        ]
        if listing._index is None:
            listing._index = _related_memo.get((self.namespace, generation))
        wanted = (
            chunk_keys
            if listing._index is not None
            else [*chunk_keys, self.key(generation, "related")]
        )
        found = self.cache.get_many(wanted)
        if len(found) != len(wanted) and not skip_missing:
            raise _StaleRead
        if listing._index is None:
            listing._index = self._related_index(generation, found)
        pairs: list[list[str]] = []
        for key in chunk_keys:
            pairs.extend(found.get(key) or [])
        offset = (start // CHUNK_SIZE) * CHUNK_SIZE
        pairs = pairs[start - offset : stop - offset]
        return self._products(
            generation, pairs, listing._index, skip_missing=skip_missing
        )

    def _related_index(
        self, generation: str, found: Mapping[str, Any]
    ) -> ResourceIndex | None:
        """The generation's merchants and venues from ``found`` (a read that
        asked for them), memoised; ``None`` if the entry was gone."""
        key = self.key(generation, "related")
        if key not in found:
            return None
        index = ResourceIndex(parse_resource(item) for item in found[key] or [])
        _related_memo.set_many({(self.namespace, generation): index})
        return index

    def _products(
        self,
        generation: str,
        pairs: Iterable[Sequence[str]],
        index: ResourceIndex | None,
        *,
        skip_missing: bool,
    ) -> list[Product]:
        """The products of ``[id, digest]`` pairs, each built once a process.

        Only those the memo lacks are read from the cache. A memoised product
        whose entry has since been evicted is still served: it is the same
        content. Without ``index`` (the generation's merchants and venues were
        evicted) products are built without them and not memoised.
        """
        wanted = [(self.namespace, generation, digest) for _, digest in pairs]
        products = _product_memo.get_many(wanted)
        missing = {
            self.product_key(memo_key[2]): memo_key
            for memo_key in wanted
            if memo_key not in products
        }
        if missing:
            found = self.cache.get_many(list(missing))
            if len(found) != len(missing) and not skip_missing:
                raise _StaleRead
            built = {
                missing[key]: Product.from_resource(
                    parse_resource(json.loads(text)),
                    ResourceIndex() if index is None else index,
                )
                for key, text in found.items()
            }
            if index is not None:
                _product_memo.set_many(built)
            products.update(built)
        return [products[key] for key in wanted if key in products]

    def mark_damaged(self, manifest: Manifest) -> None:
        """Evicted keys: serve what is left, and refresh on the next read."""
        logger.warning(
            "Occasion listing %s lost entries from the cache (evicted?); "
            "serving what is left and refreshing",
            manifest.generation,
        )
        self.cache.set(self.key("damaged"), manifest.generation, None)

    # -- one product ----------------------------------------------------------

    def product(self, product_id: str) -> Product:
        """One public product: from the listing, else from ``/products/ID``."""
        product_id = str(product_id)
        try:
            manifest = self.current_manifest()
        except OccasionError:
            # No servable listing: the product's own entry may still be.
            return self._single_product(product_id)
        bucket = self.key(
            manifest.generation,
            "lookup",
            lookup_bucket(product_id, manifest.buckets),
        )
        index = _related_memo.get((self.namespace, manifest.generation))
        values = self.cache.get_many(
            [bucket]
            if index is not None
            else [bucket, self.key(manifest.generation, "related")]
        )
        if bucket not in values:
            # Evicted: this generation can no longer say which ids it holds.
            self.mark_damaged(manifest)
            return self._single_product(product_id)
        digest = values[bucket].get(product_id)
        if digest is not None:
            if index is None:
                index = self._related_index(manifest.generation, values)
            products = self._products(
                manifest.generation,
                [(product_id, digest)],
                index,
                skip_missing=True,
            )
            if products:
                return products[0]
            return self._single_product(product_id)
        # The listing holds every public product: an id it lacks is unknown.
        # Asking Occasion (and caching its answer) for each such id would let
        # anyone fill the cache and the request quota with made-up ids.
        raise NotFound(f"no product has id {product_id!r}", status=404, path="products")

    def _single_product(self, product_id: str) -> Product:
        if not RECORD_ID.fullmatch(product_id):
            # It goes into a URL path: ".." or "?" must never reach the API.
            raise NotFound(
                f"{product_id[:80]!r} is not a product id", status=404, path="products"
            )
        entry = self.cached_entry(
            f"product-detail:{safe_key_part(product_id)}",
            lambda: self._fetch_single_product(product_id),
            fresh_for=self.settings.CACHE_TIMEOUT,
        )
        resources = [parse_resource(item) for item in entry["resources"]]
        return Product.from_resource(resources[0], ResourceIndex(resources))

    def _fetch_single_product(self, product_id: str) -> dict[str, Any]:
        document = self.client.get(
            f"products/{product_id}", {"include": LISTING_INCLUDE}
        )
        if not document.resources:
            raise NotFound(status=404, path=f"products/{product_id}")
        product = document.resources[0]
        return {
            "resources": [
                public_json(product),
                *(public_json(r) for r in document.included),
            ]
        }

    # -- generic stale-while-revalidate entries -------------------------------

    def cached_entry(
        self,
        name: str,
        fetch: Callable[[], Any],
        *,
        fresh_for: float,
    ) -> Any:
        """A JSON value fetched by ``fetch``, cached with the freshness policy.

        A ``NotFound`` is cached too (for ``fresh_for``), so unknown ids cannot
        be used to make every page view call the API.
        """
        key = self.key("entry", name)

        def read() -> dict[str, Any] | None:
            entry = self.cache.get(key)
            return entry if isinstance(entry, dict) and "fetched_at" in entry else None

        def fetch_and_store() -> dict[str, Any]:
            try:
                entry = {"fetched_at": self.clock(), "value": fetch()}
            except NotFound as exc:
                # Kept only while fresh: an unknown id is no data to protect.
                entry = {"fetched_at": self.clock(), "not_found": str(exc)}
                self.cache.set(key, entry, fresh_for)
                return entry
            self.cache.set(key, entry, self._entry_timeout(fresh_for))
            return entry

        entry = read()
        if entry is not None and self.age(entry["fetched_at"]) < fresh_for:
            logger.debug("Occasion cache hit %s", name)
        else:
            logger.debug("Occasion cache %s %s", "stale" if entry else "miss", name)
            entry = self._revalidate(
                name,
                stale=entry
                if entry is not None and self.is_servable(entry["fetched_at"])
                else None,
                fetch=fetch_and_store,
                read=read,
                is_newer=lambda e: (
                    entry is None or e["fetched_at"] != entry["fetched_at"]
                ),
            )
        if "not_found" in entry:
            raise NotFound(entry["not_found"], status=404, path=name)
        return entry["value"]

    def store_entry(self, name: str, value: Any, *, fresh_for: float) -> None:
        """Replace ``name``'s cached value with one just fetched elsewhere."""
        self.cache.set(
            self.key("entry", name),
            {"fetched_at": self.clock(), "value": value},
            self._entry_timeout(fresh_for),
        )

    def _entry_timeout(self, fresh_for: float) -> float | None:
        # Entries of their own (not generations) are kept as long as they may
        # be served; nothing else would ever remove them.
        limit = self.settings.MAX_STALENESS
        return None if limit is None else max(limit, fresh_for) + fresh_for

    def _revalidate(
        self,
        name: str,
        *,
        stale: T | None,
        fetch: Callable[[], T],
        read: Callable[[], T | None],
        is_newer: Callable[[T], bool],
    ) -> T:
        """Fetch ``name`` once across processes; serve ``stale`` meanwhile.

        The process that wins the lock fetches; the others serve ``stale``
        or, with nothing to serve, wait for the winner's result.
        """
        failure_key = self.key("failure", name)
        outage_key = self.key("outage")
        failures = self.cache.get_many([failure_key, outage_key])
        if failures:
            if stale is not None:
                logger.debug("Occasion %s: backing off, serving stale data", name)
                return stale
            if failure_key in failures:
                what = f"Occasion failed for {name} moments ago"
                failure = failures[failure_key]
            else:
                what = f"Occasion is failing, so {name} was not asked for"
                failure = failures[outage_key]
            raise UpstreamBackoff(
                f"{what} ({failure}); not asking again for "
                f"{self.settings.FAILURE_BACKOFF} seconds"
            )
        lock_key = self.key("lock", name)
        token = secrets.token_hex(8)
        if not self.cache.add(
            lock_key, token, whole_seconds(self.settings.LOCK_TIMEOUT)
        ):
            if stale is not None:
                return stale
            return self._wait_for(name, lock_key, read, is_newer)
        try:
            value = fetch()
        except OccasionError as exc:
            marks = {failure_key: str(exc)[:300]}
            if isinstance(exc, OUTAGE_ERRORS):
                marks[outage_key] = marks[failure_key]
            self.cache.set_many(marks, whole_seconds(self.settings.FAILURE_BACKOFF))
            # Rejected keys need the operator, not patience: log them louder.
            level = logging.ERROR if isinstance(exc, NotAuthorized) else logging.WARNING
            if stale is None:
                logger.log(
                    level, "Occasion %s failed and nothing is cached: %s", name, exc
                )
                raise
            logger.log(level, "Occasion %s failed; serving stale data: %s", name, exc)
            return stale
        finally:
            if self.cache.get(lock_key) == token:
                self.cache.delete(lock_key)
        return value

    def uncached_call(
        self, name: str, call: Callable[[], T], *, private: bool = False
    ) -> T:
        """Ask Occasion directly for something never cached (codes, prices).

        It honours and sets the same API-wide back-off as cached reads, so a
        down Occasion costs one slow request per window here too. A private
        call's rejected secret says nothing about the public data, so it
        backs nothing off.
        """
        outage_key = self.key("outage")
        failure = self.cache.get(outage_key)
        if failure is not None:
            raise UpstreamBackoff(
                f"Occasion is failing, so {name} was not asked for ({failure}); "
                f"not asking again for {self.settings.FAILURE_BACKOFF} seconds"
            )
        try:
            return call()
        except OUTAGE_ERRORS as exc:
            if private and isinstance(exc, NotAuthorized):
                raise
            self.cache.set(
                outage_key, str(exc)[:300], whole_seconds(self.settings.FAILURE_BACKOFF)
            )
            raise

    def _wait_for(
        self,
        name: str,
        lock_key: str,
        read: Callable[[], T | None],
        is_newer: Callable[[T], bool],
    ) -> T:
        deadline = time.monotonic() + self.settings.LOCK_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(LOCK_POLL_INTERVAL)
            value = read()
            if value is not None and is_newer(value):
                return value
            if self.cache.get(lock_key) is None:
                value = read()
                if value is not None and is_newer(value):
                    return value
                failure = self.cache.get(self.key("failure", name))
                raise UpstreamBackoff(
                    f"another process failed to fetch {name} from Occasion"
                    + (f" ({failure})" if failure else "")
                )
        raise UpstreamBackoff(
            f"timed out waiting for another process to fetch {name} from Occasion"
        )

    # -- refresh --------------------------------------------------------------

    def fetch_all(self) -> FetchedListing:
        """Every page of the public listing; nothing is cached yet."""
        fetched = FetchedListing()
        params = {"include": LISTING_INCLUDE, "page[size]": self.settings.API_PAGE_SIZE}
        for document in self.client.iter_pages("products", params):
            fetched.add_page(document)
        return fetched

    def refresh(self, *, dry_run: bool = False) -> RefreshResult:
        """Fetch the whole listing, then publish it as one new generation.

        Nothing in the cache changes until every page has been read, so a
        failed refresh leaves the previous generation in place.
        """
        started = time.monotonic()
        try:
            fetched = self.fetch_all()
        except OccasionError as exc:
            self._record_outcome(ok=False, detail=str(exc), started=started)
            raise
        if dry_run:
            return RefreshResult(
                products=len(fetched.members),
                pages=fetched.pages,
                elapsed=time.monotonic() - started,
                generation=None,
                dry_run=True,
            )
        try:
            with self._publishing():
                result = self._publish(fetched, started)
        except OccasionError as exc:
            self._record_outcome(ok=False, detail=str(exc), started=started)
            raise
        self._record_outcome(
            ok=True,
            detail=f"{result.products} products in {result.pages} "
            + ("page" if result.pages == 1 else "pages"),
            started=started,
        )
        catalogue_refreshed.send(sender=type(self), catalogue=self, result=result)
        return result

    @contextmanager
    def _publishing(self) -> Iterator[None]:
        """One publish at a time across processes.

        Each publish deletes the generation it replaces; two at once would
        both replace the same one, and the loser's keys, stored without
        expiry, would stay in the cache for ever.
        """
        key = self.key("lock", "publish")
        token = secrets.token_hex(8)
        timeout = whole_seconds(self.settings.LOCK_TIMEOUT)
        deadline = time.monotonic() + timeout
        while not self.cache.add(key, token, timeout):
            if time.monotonic() > deadline:
                raise OccasionError(
                    "another refresh has been publishing for "
                    f"{timeout} seconds; the previous listing stays in place"
                )
            time.sleep(LOCK_POLL_INTERVAL)
        try:
            yield
        finally:
            if self.cache.get(key) == token:
                self.cache.delete(key)

    def _publish(self, fetched: FetchedListing, started: float) -> RefreshResult:
        previous = self.manifest_or_none()
        previous_members: dict[str, str] = {}
        if previous is not None:
            previous_members = (
                self.cache.get(self.key(previous.generation, "members")) or {}
            )

        generation = "g" + secrets.token_hex(6)
        members, texts, chunks = fetched.members, fetched.texts, fetched.chunks

        buckets = max(1, math.ceil(len(members) / LOOKUP_BUCKET_SIZE))
        lookup: dict[int, dict[str, str]] = {}
        for product_id, digest in members.items():
            lookup.setdefault(lookup_bucket(product_id, buckets), {})[product_id] = (
                digest
            )

        # Unchanged products keep their entries, unless readers found entries
        # of the previous generation missing: then everything is written again.
        damaged = previous is not None and (
            self.cache.get(self.key("damaged")) == previous.generation
        )
        kept_digests = set() if damaged else set(previous_members.values())
        values: dict[str, Any] = {
            self.product_key(digest): text
            for digest, text in texts.items()
            if digest not in kept_digests
        }
        for key, pairs in chunks.items():
            for n in range(0, len(pairs), CHUNK_SIZE):
                values[self.chunk_key(generation, key, n // CHUNK_SIZE)] = pairs[
                    n : n + CHUNK_SIZE
                ]
        for n, bucket in lookup.items():
            values[self.key(generation, "lookup", n)] = bucket
        values[self.key(generation, "related")] = list(fetched.related.values())
        values[self.key(generation, "members")] = members
        # Until the old generation is deleted, both live in the cache: the new
        # entries, the unchanged products they share, and the old generation's
        # chunks, buckets and related entries (about as many as the new one's).
        generation_entries = len(values) - len(texts) + len(kept_digests & set(texts))
        self._check_room(len(values) + len(kept_digests) + generation_entries)
        failed = self.cache.set_many(values, None)
        if failed:
            raise OccasionError(
                f"the cache refused {len(failed)} of {len(values)} entries; "
                "the previous listing stays in place"
            )
        manifest = Manifest(
            generation=generation,
            fetched_at=self.clock(),
            counts={key: len(pairs) for key, pairs in chunks.items()} or {"all": 0},
            buckets=buckets,
        )
        self.cache.set(self.key("current"), manifest.to_json(), None)
        if previous is not None:
            self._delete_generation(previous, previous_members, keep=set(texts))

        previous_ids = set(previous_members)
        return RefreshResult(
            products=len(members),
            pages=fetched.pages,
            elapsed=time.monotonic() - started,
            generation=generation,
            added=frozenset(set(members) - previous_ids),
            removed=frozenset(previous_ids - set(members)),
            changed=frozenset(
                product_id
                for product_id, digest in members.items()
                if product_id in previous_members
                and previous_members[product_id] != digest
            ),
        )

    def _check_room(self, entries: int) -> None:
        """Refuse to publish into a cache that would cull the listing.

        Django's local-memory, file and database caches drop entries at
        random once they hold ``MAX_ENTRIES`` (300 unless configured); a
        listing published into one that is too small would lose products.
        """
        if not isinstance(self.cache, CULLING_BACKENDS):
            return
        limit = self.cache._max_entries
        if entries > limit:
            raise CacheTooSmall(
                f"the cache {self.settings.CACHE_ALIAS!r} keeps at most {limit} "
                f"entries but the listing needs about {entries}; raise its "
                "OPTIONS['MAX_ENTRIES']. The previous listing stays in place"
            )

    def _delete_generation(
        self, manifest: Manifest, members: dict[str, str], *, keep: set[str]
    ) -> None:
        keys = [self.key(manifest.generation, "related")]
        keys.append(self.key(manifest.generation, "members"))
        for key, count in manifest.counts.items():
            keys.extend(
                self.chunk_key(manifest.generation, key, n)
                for n in range(math.ceil(count / CHUNK_SIZE))
            )
        keys.extend(
            self.key(manifest.generation, "lookup", n) for n in range(manifest.buckets)
        )
        keys.extend(self.product_key(digest) for digest in set(members.values()) - keep)
        self.cache.delete_many(keys)

    def _record_outcome(self, *, ok: bool, detail: str, started: float) -> None:
        self.cache.set(
            self.key("last-refresh"),
            {
                "ok": ok,
                "at": self.clock(),
                "elapsed": round(time.monotonic() - started, 3),
                "detail": detail[:300],
            },
            None,
        )

    def clear(self) -> int:
        """Remove the published listing; return how many products it held."""
        manifest = self.manifest_or_none()
        if manifest is None:
            return 0
        members = self.cache.get(self.key(manifest.generation, "members")) or {}
        self.cache.delete(self.key("current"))
        self._delete_generation(manifest, members, keep=set())
        return manifest.product_count

    # -- observability --------------------------------------------------------

    def last_refresh(self) -> dict[str, Any] | None:
        """How the last refresh went: ``ok``, ``at``, ``elapsed``, ``detail``."""
        value = self.cache.get(self.key("last-refresh"))
        return value if isinstance(value, dict) else None

    def states(self) -> list[CacheState]:
        """The listing's state, for operators."""
        manifest = self.manifest_or_none()
        if manifest is None:
            return [CacheState("listing", None, None, None, False, False, "not cached")]
        backoff = self.cache.get(self.key("failure", "listing"))
        return [
            CacheState(
                name="listing",
                generation=manifest.generation,
                fetched_at=manifest.fetched_at,
                age=self.age(manifest.fetched_at),
                fresh=self.is_fresh(manifest.fetched_at),
                servable=self.is_servable(manifest.fetched_at),
                detail=f"{manifest.product_count} products"
                + (f"; backing off after: {backoff}" if backoff else ""),
            )
        ]


def public_json(resource: Resource) -> dict[str, Any]:
    """The resource as JSON for the cache, without its type's private fields.

    Public calls leave these out already; this is defence in depth, so that
    nothing private can reach a cache entry even if an answer carries it.
    """
    data = resource.to_json()
    for name in PRIVATE_ATTRIBUTES.get(resource.type, ()):
        data["attributes"].pop(name, None)
    return data


def scope_name(settings: OccasionSettings) -> str:
    """Names the account a cache entry belongs to, without holding a key.

    Switching the base URL, login or partner merchant must never serve the
    other account's entries; the login itself is not stored, only a digest.
    """
    if settings.DEMO:
        return "demo" + (
            f"-{safe_key_part(settings.MERCHANT_ID)}" if settings.MERCHANT_ID else ""
        )
    material = "\0".join(
        [settings.API_URL, settings.API_LOGIN, settings.MERCHANT_ID or ""]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _new_client(
    base_url: str,
    login: str,
    secret: str,
    merchant_id: str | None,
    connect_timeout: float,
    read_timeout: float,
    max_retries: int,
    retry_budget: float,
    max_pages: int,
    demo: bool,
    demo_outage: bool,
) -> OccasionClient:
    client = OccasionClient(
        base_url,
        login,
        secret,
        merchant_id=merchant_id,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_retries=max_retries,
        retry_budget=retry_budget,
        max_pages=max_pages,
    )
    if demo:
        from .demo import mount_demo

        mount_demo(client.session, outage=demo_outage)
    return client


_clients: dict[tuple[Any, ...], OccasionClient] = {}
_clients_lock = threading.Lock()


def get_client(settings: OccasionSettings = app_settings) -> OccasionClient:
    """The process-wide client for the current settings (one ``Session``)."""
    options = (
        settings.effective_api_url,
        settings.effective_login,
        settings.API_SECRET,
        settings.MERCHANT_ID,
        settings.CONNECT_TIMEOUT,
        settings.READ_TIMEOUT,
        settings.MAX_RETRIES,
        settings.RETRY_BUDGET,
        settings.MAX_PAGES,
        settings.DEMO,
        settings.DEMO_OUTAGE,
    )
    client = _clients.get(options)
    if client is None:
        with _clients_lock:
            client = _clients.get(options)
            if client is None:
                client = _clients[options] = _new_client(*options)
    return client


# Like Django's own cache connections, one catalogue per thread (or async
# context): building it reads a dozen settings and hashes the account, which
# is a fifth of a warm page's cost. ``_settings_epoch`` moves on whenever
# a setting it depends on changes.
_catalogues = Local()
_settings_epoch = 0


def get_catalogue() -> Catalogue:
    """The catalogue of the current settings and ``OCCASION_CACHE_ALIAS``."""
    built = getattr(_catalogues, "built", None)
    if built is not None and built[0] == _settings_epoch:
        return built[1]  # type: ignore[no-any-return]
    catalogue = Catalogue(get_client(), caches[app_settings.CACHE_ALIAS])
    _catalogues.built = (_settings_epoch, catalogue)
    return catalogue


@receiver(setting_changed)
def _forget_clients(*, setting: str, **kwargs: Any) -> None:
    global _settings_epoch
    if setting.startswith("OCCASION_") or setting == "CACHES":
        _settings_epoch += 1
    if setting.startswith("OCCASION_"):
        with _clients_lock:
            for client in _clients.values():
                client.close()
            _clients.clear()


# -- the public service API ----------------------------------------------------


def list_products(
    *, status: str | None = None, venue: str | int | None = None
) -> ProductListing:
    """The public products, newest first, optionally filtered.

    Raises an :class:`~django_occasion.exceptions.OccasionError` only when
    nothing servable is cached and Occasion cannot be reached.
    """
    return get_catalogue().listing(status=status, venue=venue)


def get_product(product_id: str) -> Product:
    """One public product; raises ``NotFound`` for an unknown id."""
    return get_catalogue().product(product_id)


def refresh_catalogue(*, dry_run: bool = False) -> RefreshResult:
    """Fetch every page of the listing and publish it in one step."""
    return get_catalogue().refresh(dry_run=dry_run)


# -- merchants, venues, time slots, questions, redeemables and prices ----------
#
# Each read below picks the caching policy that fits its data: merchants,
# venues and questions change rarely and are cached like the listing
# (OCCASION_CACHE_TIMEOUT); time slots are cached briefly
# (OCCASION_TIME_SLOTS_TIMEOUT) because spots change with every booking;
# redeemable checks and price quotes depend on the visitor's input and are
# never cached. Only JSON (resource objects) goes into the cache.

TIME_SLOT_STATUSES = ("bookable", "upcoming")
DEFAULT_TIME_SLOTS_LIMIT = 10
MAX_TIME_SLOTS_LIMIT = 500
#: The API's largest page of time slots.
TIME_SLOTS_PAGE_MAX = 100
MERCHANT_INCLUDE = "currency,business_type"
VENUE_INCLUDE = "country,state"
QUESTIONS_INCLUDE = "attributes,attributes.attribute_options,attributes.field_type"
# A public call leaves these out; they must not reach the cache regardless.
#: Coupon and gift card codes: letters, digits and - _ . (as in "GIFT-7Q2-KL9").
REDEEMABLE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_ANSWERS = 100
MAX_ANSWER_LENGTH = 2000
#: ``requests`` keeps this many connections per host in a session's pool;
#: more workers would open connections only to throw them away.
MAX_WORKERS = DEFAULT_POOLSIZE


def check_record_id(value: Any, what: str = "id") -> str:
    """``value`` as text, if it is a well-formed Occasion id."""
    text = str(value)
    if not RECORD_ID.fullmatch(text):
        raise InvalidQuery(f"{what} {text[:80]!r} is not a valid Occasion id")
    return text


def clean_redeemable_code(code: Any) -> str:
    """The code without surrounding spaces, if it is well-formed.

    Raises :class:`~django_occasion.exceptions.InvalidQuery` otherwise, so a
    malformed code never costs a request.
    """
    text = code.strip() if isinstance(code, str) else ""
    if not REDEEMABLE_CODE.fullmatch(text):
        raise InvalidQuery(
            "a code holds 1 to 64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return text


def _query_key(params: Mapping[str, Any]) -> str:
    text = json.dumps(sorted(params.items()), separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _document_json(
    resources: Iterable[Resource], included: Iterable[Resource] = ()
) -> dict[str, Any]:
    return {
        "resources": [resource.to_json() for resource in resources],
        "included": [resource.to_json() for resource in included],
    }


def _read_document_json(value: Any) -> tuple[list[Resource], ResourceIndex]:
    resources = [parse_resource(item) for item in value["resources"]]
    index = ResourceIndex(parse_resource(item) for item in value["included"])
    for resource in resources:
        index.add(resource)
    return resources, index


def _fetch_collection(
    client: OccasionClient, path: str, resource_type: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    resources: list[Resource] = []
    included = ResourceIndex()
    for document in client.iter_pages(path, params):
        resources.extend(r for r in document.resources if r.type == resource_type)
        for resource in document.included:
            included.add(resource)
    return _document_json(resources, included)


def _without(resource: Resource, names: frozenset[str]) -> Resource:
    attributes = {k: v for k, v in resource.attributes.items() if k not in names}
    return replace(resource, attributes=attributes)


def _collection_params(
    resource_type: str, include: str, query: Query | None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "include": include,
        "page[size]": app_settings.API_PAGE_SIZE,
    }
    if query is not None:
        params = merge_params(params, query.to_params(resource_type))
    return params


# -- merchants


def list_merchants(query: Query | None = None) -> list[Merchant]:
    """The merchants the API key reaches, with currency and business type.

    A merchant's key reaches its own merchant; a partner key the merchants
    Occasion lists for it (with ``OCCASION_MERCHANT_ID`` sent, as on every
    collection read). Cached for ``OCCASION_CACHE_TIMEOUT``.
    """
    params = _collection_params("merchants", MERCHANT_INCLUDE, query)
    catalogue = get_catalogue()
    value = catalogue.cached_entry(
        f"merchants:{_query_key(params)}",
        lambda: _fetch_collection(catalogue.client, "merchants", "merchants", params),
        fresh_for=catalogue.settings.CACHE_TIMEOUT,
    )
    resources, index = _read_document_json(value)
    return [Merchant.from_resource(resource, index) for resource in resources]


def get_merchant(merchant_id: str | None = None) -> Merchant:
    """One merchant of :func:`list_merchants`: ``merchant_id``, else the
    configured ``OCCASION_MERCHANT_ID``, else the first (a merchant key's own).

    Raises :class:`~django_occasion.exceptions.NotFound` if there is none.
    """
    wanted = merchant_id or app_settings.MERCHANT_ID
    merchants = list_merchants()
    for merchant in merchants:
        if wanted is None or merchant.id == str(wanted):
            return merchant
    raise NotFound(
        f"no merchant {wanted!r}" if wanted else "no merchant",
        status=404,
        path="merchants",
    )


# -- venues


def list_venues(query: Query | None = None) -> list[Venue]:
    """The public venues, with country and state. Cached like the listing."""
    params = _collection_params("venues", VENUE_INCLUDE, query)
    catalogue = get_catalogue()

    def fetch() -> dict[str, Any]:
        value = _fetch_collection(catalogue.client, "venues", "venues", params)
        for item in value["resources"]:
            for name in PRIVATE_VENUE_ATTRIBUTES:
                item["attributes"].pop(name, None)
        return value

    value = catalogue.cached_entry(
        f"venues:{_query_key(params)}",
        fetch,
        fresh_for=catalogue.settings.CACHE_TIMEOUT,
    )
    resources, index = _read_document_json(value)
    return [Venue.from_resource(resource, index) for resource in resources]


def get_venue(venue_id: str) -> Venue:
    """One public venue with country and state; ``NotFound`` if unknown."""
    venue_id = check_record_id(venue_id, "venue id")
    catalogue = get_catalogue()

    def fetch() -> dict[str, Any]:
        document = catalogue.client.get(
            f"venues/{venue_id}", {"include": VENUE_INCLUDE}
        )
        venues = [r for r in document.resources if r.type == "venues"]
        if not venues:
            raise NotFound(status=404, path=f"venues/{venue_id}")
        return _document_json(
            [_without(venues[0], PRIVATE_VENUE_ATTRIBUTES)], document.included
        )

    value = catalogue.cached_entry(
        f"venue:{venue_id}", fetch, fresh_for=catalogue.settings.CACHE_TIMEOUT
    )
    resources, index = _read_document_json(value)
    return Venue.from_resource(resources[0], index)


def venue_of(product: Product) -> Venue | None:
    """The product's venue with its country and state.

    Falls back to the listing's copy of the venue (without them) when
    Occasion cannot answer, so a page can always show the venue's name.
    """
    if product.venue is None:
        return None
    try:
        return get_venue(product.venue.id)
    except OccasionError as exc:
        logger.warning("Occasion venue %s unavailable: %s", product.venue.id, exc)
        return product.venue


def merchant_of(product: Product) -> Merchant | None:
    """The product's merchant with currency and business type, like
    :func:`venue_of` falling back to the listing's copy."""
    if product.merchant is None:
        return None
    try:
        return get_merchant(product.merchant.id)
    except OccasionError as exc:
        logger.warning("Occasion merchant %s unavailable: %s", product.merchant.id, exc)
        return product.merchant


# -- time slots


def _time_slots_window(limit: int) -> int:
    """How many slots to fetch for ``limit``: a few sizes, so that tags and
    views asking for 3, 5 or 10 share one cache entry and one request."""
    for size in (10, 50, TIME_SLOTS_PAGE_MAX):
        if limit <= size:
            return size
    return math.ceil(limit / TIME_SLOTS_PAGE_MAX) * TIME_SLOTS_PAGE_MAX


def _next_cursor(link: str) -> str | None:
    values = parse_qs(urlsplit(link).query).get("filter[last]")
    return values[0] if values else None


def _fetch_time_slots(
    client: OccasionClient,
    product_id: str,
    status: str,
    count: int,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Up to ``count`` slots, following the API's cursor (``filter[last]``).

    The cursor is read from ``links.next`` (or, if the link lacks it, is the
    last slot's id, as the API documents) and sent on a request built here,
    rather than following the link as is: the request keeps the configured
    host and partner scope whatever the link says.
    """
    path = f"products/{product_id}/time_slots"
    slots: list[Resource] = []
    included = ResourceIndex()
    cursor: str | None = None
    seen: set[str] = set()
    for _page in range(client.max_pages):
        page_params = {
            **params,
            "filter[status]": status,
            "page[size]": min(count - len(slots), TIME_SLOTS_PAGE_MAX),
        }
        if cursor is not None:
            page_params["filter[last]"] = cursor
        document = client.get(path, page_params, collection=True)
        page = [r for r in document.resources if r.type == "time_slots"]
        slots.extend(page)
        for resource in document.included:
            included.add(resource)
        if len(slots) >= count or not page or document.next_url is None:
            return _document_json(slots[:count], included)
        cursor = _next_cursor(document.next_url) or page[-1].id
        if cursor is None or cursor in seen:
            raise PagingError(f"GET /{path}: the time slot cursor repeats")
        seen.add(cursor)
    raise PagingError(f"GET /{path} went past {client.max_pages} pages")


def _time_slots_request(
    product_id: Any, status: str, limit: int, query: Query | None
) -> tuple[str, str, int, dict[str, Any]]:
    product_id = check_record_id(product_id, "product id")
    if status not in TIME_SLOT_STATUSES:
        raise InvalidQuery(
            f"unknown time slot status {status!r}; use one of "
            + ", ".join(TIME_SLOT_STATUSES)
        )
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= MAX_TIME_SLOTS_LIMIT
    ):
        raise InvalidQuery(
            f"the time slot limit must be a whole number from 1 to "
            f"{MAX_TIME_SLOTS_LIMIT}, not {limit!r}"
        )
    params = query.to_params("time_slots") if query is not None else {}
    count = _time_slots_window(limit)
    name = f"time-slots:{product_id}:{status}:{count}"
    if params:
        name += f":{_query_key(params)}"
    return product_id, name, count, params


def _product_time_zone(product_id: str) -> str | None:
    """The zone of the product's venue, else merchant, if one is known."""
    try:
        product = get_product(product_id)
    except OccasionError:
        return None
    for place in (product.venue, product.merchant):
        if place is not None and place.time_zone:
            return place.time_zone
    return None


def list_time_slots(
    product_id: str,
    *,
    status: str = "bookable",
    limit: int = DEFAULT_TIME_SLOTS_LIMIT,
    time_zone: str | None = None,
    query: Query | None = None,
) -> list[TimeSlot]:
    """The next ``limit`` time slots of a product, soonest first.

    ``status`` is ``"bookable"`` (can still be booked) or ``"upcoming"``
    (sold-out ones too). Start times are in each slot's own time zone, else
    ``time_zone``, else the zone of the product's venue or merchant. Slots
    that have started are left out, even from a stale copy.

    Cached for ``OCCASION_TIME_SLOTS_TIMEOUT`` seconds, since spots change
    with every booking. Raises ``NotFound`` for an unknown product and
    ``InvalidQuery`` for a bad status or limit.
    """
    product_id, name, count, params = _time_slots_request(
        product_id, status, limit, query
    )
    catalogue = get_catalogue()
    value = catalogue.cached_entry(
        name,
        lambda: _fetch_time_slots(catalogue.client, product_id, status, count, params),
        fresh_for=catalogue.settings.TIME_SLOTS_TIMEOUT,
    )
    resources, index = _read_document_json(value)
    if time_zone is None and any(not r.attributes.get("time_zone") for r in resources):
        time_zone = _product_time_zone(product_id)
    now = datetime.fromtimestamp(catalogue.clock(), UTC)
    slots = [
        TimeSlot.from_resource(resource, index, default_time_zone=time_zone)
        for resource in resources
    ]
    return [s for s in slots if s.starts_at is not None and s.starts_at > now][:limit]


@dataclass(frozen=True)
class WarmResult:
    """What :func:`warm_time_slots` fetched, and which products failed."""

    products: int
    time_slots: int
    elapsed: float
    workers: int
    failed: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = False


def warm_time_slots(
    product_ids: Iterable[str],
    *,
    status: str = "bookable",
    limit: int = DEFAULT_TIME_SLOTS_LIMIT,
    max_workers: int = 4,
    dry_run: bool = False,
) -> WarmResult:
    """Fetch the time slots of many products at once and cache them.

    At most ``max_workers`` requests run at a time (1 to :data:`MAX_WORKERS`),
    on the one shared session, so connections to Occasion are reused. A
    product that fails is reported in ``failed`` and leaves its cached slots
    as they were. With ``dry_run`` the slots are fetched but not stored.
    """
    if isinstance(max_workers, bool) or not (
        isinstance(max_workers, int) and 1 <= max_workers <= MAX_WORKERS
    ):
        raise InvalidQuery(
            f"max_workers must be a whole number from 1 to {MAX_WORKERS}, "
            f"not {max_workers!r}"
        )
    wanted = [
        _time_slots_request(product_id, status, limit, None)
        for product_id in dict.fromkeys(map(str, product_ids))
    ]
    started = time.monotonic()
    client = get_client()

    def warm(product_id: str, name: str, count: int) -> int:
        value = _fetch_time_slots(client, product_id, status, count, {})
        if not dry_run:
            # One catalogue (and cache connection) per worker thread.
            get_catalogue().store_entry(
                name, value, fresh_for=app_settings.TIME_SLOTS_TIMEOUT
            )
        return len(value["resources"])

    workers = max(1, min(max_workers, len(wanted)))
    counts: dict[str, int] = {}
    failed: dict[str, str] = {}
    # requests makes no thread-safety promise for Session, but the one
    # shared here only sends requests: its urllib3 pool is thread-safe and
    # the workers never change its settings.
    with ThreadPoolExecutor(workers, thread_name_prefix="occasion-slots") as pool:
        futures = {
            pool.submit(warm, product_id, name, count): product_id
            for product_id, name, count, _params in wanted
        }
        for future in as_completed(futures):
            product_id = futures[future]
            try:
                counts[product_id] = future.result()
            except OccasionError as exc:
                logger.warning(
                    "Occasion time slots of product %s not warmed: %s",
                    product_id,
                    exc,
                )
                failed[product_id] = str(exc)
    return WarmResult(
        products=len(counts),
        time_slots=sum(counts.values()),
        elapsed=time.monotonic() - started,
        workers=workers,
        failed=dict(sorted(failed.items())),
        dry_run=dry_run,
    )


def cached_product_ids(status: str | None = "active") -> list[str]:
    """The ids of the published listing's products, without asking Occasion.

    What ``occasion_refresh --time-slots`` warms; empty if nothing is cached.
    """
    catalogue = get_catalogue()
    manifest = catalogue.manifest_or_none()
    if manifest is None:
        return []
    # The chunks already hold the ids: no product needs reading or building.
    key = filter_key(status=status)
    chunk_keys = [
        catalogue.chunk_key(manifest.generation, key, n)
        for n in range(math.ceil(manifest.counts.get(key, 0) / CHUNK_SIZE))
    ]
    chunks = catalogue.cache.get_many(chunk_keys)
    return [pair[0] for chunk in chunk_keys for pair in chunks.get(chunk, [])]


# -- questions


def get_questions(product_id: str) -> list[Question]:
    """The questions of a product's order form, with options and field types.

    Cached for ``OCCASION_CACHE_TIMEOUT``; ``NotFound`` for an unknown
    product.
    """
    product_id = check_record_id(product_id, "product id")
    catalogue = get_catalogue()

    def fetch() -> dict[str, Any]:
        document = catalogue.client.get(
            f"products/{product_id}", {"include": QUESTIONS_INCLUDE}
        )
        products = [r for r in document.resources if r.type == "products"]
        if not products:
            raise NotFound(status=404, path=f"products/{product_id}")
        # Only the links to the questions are kept, not the product itself.
        product = replace(products[0], attributes={})
        return _document_json([product], document.included)

    value = catalogue.cached_entry(
        f"questions:{product_id}", fetch, fresh_for=catalogue.settings.CACHE_TIMEOUT
    )
    resources, index = _read_document_json(value)
    return Question.list_for(resources[0], index)


# -- redeemables and price quotes (never cached)


def check_redeemable(product_id: str, code: str) -> RedeemableResult:
    """What ``code`` is for this product: a coupon, a gift card, or neither.

    Answers ``RedeemableStatus.UNKNOWN`` when Occasion does not know the
    code (404) and ``UNUSABLE`` when it can no longer be used (409). A
    malformed code raises ``InvalidQuery`` before any request. Never cached:
    a gift card's value changes with every use.
    """
    product_id = check_record_id(product_id, "product id")
    code = clean_redeemable_code(code)
    try:
        catalogue = get_catalogue()
        document = catalogue.uncached_call(
            "redeemables",
            lambda: catalogue.client.get(
                f"products/{product_id}/redeemables",
                {"filter[code]": code},
                collection=True,
            ),
        )
    except NotFound:
        return RedeemableResult(code, RedeemableStatus.UNKNOWN)
    except Conflict:
        return RedeemableResult(code, RedeemableStatus.UNUSABLE)
    for resource in document.resources:
        if resource.type == "coupons":
            return RedeemableResult(
                code, RedeemableStatus.VALID, Coupon.from_resource(resource)
            )
        if resource.type == "gift_cards":
            return RedeemableResult(
                code, RedeemableStatus.VALID, GiftCard.from_resource(resource)
            )
    if document.resources:
        raise MalformedResponse(
            f"GET /products/{product_id}/redeemables answered a "
            f"{document.resources[0].type}, not a coupon or gift card"
        )
    return RedeemableResult(code, RedeemableStatus.UNKNOWN)


def _check_answers(answers: Mapping[str, Any]) -> dict[str, str]:
    if len(answers) > MAX_ANSWERS:
        raise InvalidQuery(f"at most {MAX_ANSWERS} answers can be priced")
    checked: dict[str, str] = {}
    for question_id, value in answers.items():
        question_id = check_record_id(question_id, "question id")
        text = "" if value is None else str(value)
        if len(text) > MAX_ANSWER_LENGTH or any(
            unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in text
        ):
            raise InvalidQuery(f"the answer to question {question_id} is not valid")
        checked[question_id] = text
    return checked


def quote_price(
    product_id: str,
    answers: Mapping[str, Any] | None = None,
    coupon_code: str | None = None,
) -> PriceQuote:
    """What one order of the product would cost (``POST /orders/price``).

    ``answers`` maps question ids to answers (for questions with options,
    the chosen option's id). A ``coupon_code`` is checked first with
    :func:`check_redeemable`; it is applied only if it is a usable coupon
    (a gift card pays for an order, it does not discount it), and the
    outcome is on ``quote.redeemable`` either way.

    The Occasion API notes list the orders endpoints as private, so this is
    a private call: it needs ``OCCASION_API_SECRET``. Never cached. Raises
    ``InvalidDocument`` (422) when Occasion rejects the answers.
    """
    product_id = check_record_id(product_id, "product id")
    checked = _check_answers(answers or {})
    redeemable = check_redeemable(product_id, coupon_code) if coupon_code else None
    relationships: dict[str, Any] = {
        "product": {"data": {"type": "products", "id": product_id}}
    }
    if checked:
        relationships["attribute_values"] = {
            "data": [
                {
                    "type": "attribute_values",
                    "attributes": {"value": value},
                    "relationships": {
                        "attribute": {"data": {"type": "attributes", "id": key}}
                    },
                }
                for key, value in checked.items()
            ]
        }
    if redeemable is not None and redeemable.coupon is not None:
        relationships["coupon"] = {
            "data": {"type": "coupons", "id": redeemable.coupon.id}
        }
    order = {
        "data": {"type": "orders", "attributes": {}, "relationships": relationships}
    }
    catalogue = get_catalogue()
    document = catalogue.uncached_call(
        "a price quote",
        lambda: catalogue.client.post("orders/price", order, private=True),
        private=True,
    )
    quote = None
    if document.resources:
        quote = PriceQuote.from_resource(document.resources[0], redeemable)
    if quote is None:
        raise MalformedResponse("POST /orders/price answered no subtotal and total")
    return quote
