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
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, overload

from django.core.cache import BaseCache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.dispatch import receiver

from .client import OccasionClient
from .conf import OccasionSettings, app_settings
from .domain import PRODUCT_STATUSES, Product
from .exceptions import (
    CacheTooSmall,
    InvalidQuery,
    NotFound,
    OccasionError,
    UpstreamBackoff,
)
from .jsonapi import Resource, ResourceIndex, parse_resource
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
LOCK_POLL_INTERVAL = 0.05
CULLING_BACKENDS = (LocMemCache, FileBasedCache, DatabaseCache)

T = TypeVar("T")


def safe_key_part(value: str) -> str:
    """A cache-key-safe form of an API value (memcached allows no spaces)."""
    if (
        value
        and len(value) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)
    ):
        return value
    return "h" + hashlib.sha256(value.encode()).hexdigest()[:24]


def filter_key(status: str | None = None, venue: str | None = None) -> str:
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


class _StaleRead(Exception):
    """A key of the generation being read is gone (replaced or evicted)."""


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
                return list(self[start:stop])[::step]
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
            return self.catalogue.read_listing_slice(self, start, stop)
        except _StaleRead:
            newer = self.catalogue.manifest_or_none()
            if newer is None or newer.generation == self.manifest.generation:
                self.catalogue.mark_damaged(self.manifest)
                return self.catalogue.read_listing_slice(
                    self, start, stop, skip_missing=True
                )
            self.manifest = newer
            self._index = None
            return self.catalogue.read_listing_slice(
                self, min(start, len(self)), min(stop, len(self)), skip_missing=True
            )


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
        return ":".join([self.namespace, *map(str, parts)])

    def chunk_key(self, generation: str, key: str, chunk: int) -> str:
        return self.key(generation, "ids", key, chunk)

    def product_key(self, digest: str) -> str:
        return self.key("product", digest)

    # -- freshness ------------------------------------------------------------

    def age(self, fetched_at: float) -> float:
        return max(0.0, self.clock() - fetched_at)

    def is_fresh(self, fetched_at: float) -> bool:
        return self.age(fetched_at) < self.settings.CACHE_TIMEOUT

    def is_servable(self, fetched_at: float) -> bool:
        limit = self.settings.MAX_STALENESS
        return limit is None or self.age(fetched_at) <= limit

    # -- the listing ----------------------------------------------------------

    def manifest_or_none(self) -> Manifest | None:
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
        self, *, status: str | None = None, venue: str | None = None
    ) -> ProductListing:
        """The public products, optionally of one status and/or venue."""
        if status is not None and status not in PRODUCT_STATUSES:
            raise InvalidQuery(
                f"unknown product status {status!r}; use one of "
                + ", ".join(PRODUCT_STATUSES)
            )
        return ProductListing(
            self, self.current_manifest(), filter_key(status=status, venue=venue)
        )

    def read_listing_slice(
        self,
        listing: ProductListing,
        start: int,
        stop: int,
        *,
        skip_missing: bool = False,
    ) -> list[Product]:
        manifest = listing.manifest
        chunk_keys = [
            self.chunk_key(manifest.generation, listing.filter_key, n)
            for n in range(start // CHUNK_SIZE, (stop - 1) // CHUNK_SIZE + 1)
        ]
        related_key = self.key(manifest.generation, "related")
        wanted = (
            chunk_keys if listing._index is not None else [*chunk_keys, related_key]
        )
        found = self.cache.get_many(wanted)
        if len(found) != len(wanted) and not skip_missing:
            raise _StaleRead
        if listing._index is None:
            listing._index = self._related_index(found.get(related_key))
        pairs: list[list[str]] = []
        for key in chunk_keys:
            pairs.extend(found.get(key) or [])
        offset = (start // CHUNK_SIZE) * CHUNK_SIZE
        pairs = pairs[start - offset : stop - offset]
        return self._products(pairs, listing._index, skip_missing=skip_missing)

    def _related_index(self, related: Any) -> ResourceIndex:
        return ResourceIndex(parse_resource(item) for item in related or [])

    def _products(
        self,
        pairs: Iterable[Sequence[str]],
        index: ResourceIndex,
        *,
        skip_missing: bool,
    ) -> list[Product]:
        keys = [self.product_key(digest) for _, digest in pairs]
        found = self.cache.get_many(keys)
        if len(found) != len(set(keys)) and not skip_missing:
            raise _StaleRead
        return [
            Product.from_resource(parse_resource(json.loads(found[key])), index)
            for key in keys
            if key in found
        ]

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
        values = self.cache.get_many([bucket, self.key(manifest.generation, "related")])
        digest = (values.get(bucket) or {}).get(product_id)
        if digest is not None:
            products = self._products(
                [(product_id, digest)],
                self._related_index(
                    values.get(self.key(manifest.generation, "related"))
                ),
                skip_missing=True,
            )
            if products:
                return products[0]
        return self._single_product(product_id)

    def _single_product(self, product_id: str) -> Product:
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
                public_product_json(product),
                *(r.to_json() for r in document.included),
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
                entry = {"fetched_at": self.clock(), "not_found": str(exc)}
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
        failure = self.cache.get(failure_key)
        if failure is not None:
            if stale is not None:
                logger.debug("Occasion %s: backing off, serving stale data", name)
                return stale
            raise UpstreamBackoff(
                f"Occasion failed for {name} moments ago ({failure}); "
                f"not asking again for {self.settings.FAILURE_BACKOFF} seconds"
            )
        lock_key = self.key("lock", name)
        token = secrets.token_hex(8)
        if not self.cache.add(lock_key, token, self.settings.LOCK_TIMEOUT):
            if stale is not None:
                return stale
            return self._wait_for(name, lock_key, read, is_newer)
        try:
            value = fetch()
        except OccasionError as exc:
            self.cache.set(failure_key, str(exc)[:300], self.settings.FAILURE_BACKOFF)
            if stale is None:
                logger.warning(
                    "Occasion %s failed and nothing is cached: %s", name, exc
                )
                raise
            logger.warning("Occasion %s failed; serving stale data: %s", name, exc)
            return stale
        finally:
            if self.cache.get(lock_key) == token:
                self.cache.delete(lock_key)
        self.cache.delete(failure_key)
        return value

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

    def fetch_all(self) -> tuple[list[Resource], ResourceIndex, int]:
        """Every page of the public listing; nothing is cached yet."""
        products: list[Resource] = []
        related = ResourceIndex()
        pages = 0
        params = {"include": LISTING_INCLUDE, "page[size]": self.settings.API_PAGE_SIZE}
        for document in self.client.iter_pages("products", params):
            pages += 1
            products.extend(r for r in document.resources if r.type == "products")
            for resource in document.included:
                related.add(resource)
        return products, related, pages

    def refresh(self, *, dry_run: bool = False) -> RefreshResult:
        """Fetch the whole listing, then publish it as one new generation.

        Nothing in the cache changes until every page has been read, so a
        failed refresh leaves the previous generation in place.
        """
        started = time.monotonic()
        try:
            products, related, pages = self.fetch_all()
        except OccasionError as exc:
            self._record_outcome(ok=False, detail=str(exc), started=started)
            raise
        if dry_run:
            return RefreshResult(
                products=len(products),
                pages=pages,
                elapsed=time.monotonic() - started,
                generation=None,
                dry_run=True,
            )
        result = self._publish(products, related, pages, started)
        self._record_outcome(
            ok=True,
            detail=f"{result.products} products in {result.pages} pages",
            started=started,
        )
        catalogue_refreshed.send(sender=type(self), catalogue=self, result=result)
        return result

    def _publish(
        self,
        products: list[Resource],
        related: ResourceIndex,
        pages: int,
        started: float,
    ) -> RefreshResult:
        previous = self.manifest_or_none()
        previous_members: dict[str, str] = {}
        if previous is not None:
            previous_members = (
                self.cache.get(self.key(previous.generation, "members")) or {}
            )

        generation = "g" + secrets.token_hex(6)
        members: dict[str, str] = {}
        texts: dict[str, str] = {}
        chunks: dict[str, list[list[str]]] = {}
        seen_ids: set[str] = set()
        for resource in products:
            if resource.id is None or resource.id in seen_ids:
                continue
            seen_ids.add(resource.id)
            text = json.dumps(
                public_product_json(resource), separators=(",", ":"), sort_keys=True
            )
            digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
            members[resource.id] = digest
            texts[digest] = text
            for key in product_filter_keys(resource):
                chunks.setdefault(key, []).append([resource.id, digest])

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
        values[self.key(generation, "related")] = self._related_json(products, related)
        values[self.key(generation, "members")] = members
        self._check_room(len(values) + len(kept_digests) + len(chunks) + buckets)
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
            pages=pages,
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

    def _related_json(
        self, products: list[Resource], related: ResourceIndex
    ) -> list[dict[str, Any]]:
        wanted: dict[tuple[str, str], dict[str, Any]] = {}
        for product in products:
            for name in ("merchant", "venue"):
                resource = related.related(product, name)
                if resource is not None:
                    wanted.setdefault(resource.identifier, resource.to_json())
        return list(wanted.values())

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


def public_product_json(resource: Resource) -> dict[str, Any]:
    data = resource.to_json()
    for name in PRIVATE_PRODUCT_ATTRIBUTES:
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


@lru_cache(maxsize=8)
def _client_for(
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


def get_client(settings: OccasionSettings = app_settings) -> OccasionClient:
    """The process-wide client for the current settings (one ``Session``)."""
    return _client_for(
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


def get_catalogue() -> Catalogue:
    return Catalogue(get_client(), caches[app_settings.CACHE_ALIAS])


@receiver(setting_changed)
def _forget_clients(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("OCCASION_"):
        _client_for.cache_clear()


# -- the public service API ----------------------------------------------------


def list_products(
    *, status: str | None = None, venue: str | None = None
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
