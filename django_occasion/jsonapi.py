"""A reader for JSON:API (v1.0) documents as the Occasion API writes them.

It is lenient where real answers are untidy (ids that are numbers, missing
attributes, relationships with no ``data``) and strict where a wrong guess
would be dangerous: anything that is not a document with ``data`` or
``errors`` raises :class:`~django_occasion.exceptions.MalformedResponse`.

Resources round-trip through :meth:`Resource.to_json`, which is also the
shape the service layer keeps in the cache: plain JSON, never pickled
classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .exceptions import MalformedResponse

Identifier: TypeAlias = tuple[str, str]
Linkage: TypeAlias = Identifier | tuple[Identifier, ...] | None


def _identifier(data: Any) -> Identifier:
    if (
        not isinstance(data, Mapping)
        or data.get("type") is None
        or data.get("id") is None
    ):
        raise MalformedResponse("a resource identifier lacks its type or id")
    # Recorded answers mix numeric and string ids: compare them as text.
    return str(data["type"]), str(data["id"])


def _linkage(relationship: Any) -> Linkage:
    data = relationship.get("data")
    if data is None:
        return None
    if isinstance(data, list):
        return tuple(_identifier(item) for item in data)
    return _identifier(data)


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource object: ``type``, ``id``, attributes and linkage."""

    type: str
    id: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    relationships: Mapping[str, Linkage] = field(default_factory=dict)

    @property
    def identifier(self) -> Identifier:
        return self.type, self.id or ""

    def to_json(self) -> dict[str, Any]:
        """The resource as a JSON-compatible JSON:API resource object."""
        relationships: dict[str, Any] = {}
        for name, linkage in self.relationships.items():
            if linkage is None:
                relationships[name] = {"data": None}
            elif not linkage or isinstance(linkage[0], tuple):  # to-many
                relationships[name] = {
                    "data": [{"type": t, "id": i} for t, i in linkage]
                }
            else:
                relationships[name] = {"data": {"type": linkage[0], "id": linkage[1]}}
        return {
            "type": self.type,
            "id": self.id,
            "attributes": dict(self.attributes),
            "relationships": relationships,
        }


def parse_resource(data: Any) -> Resource:
    """Read one resource object; raise ``MalformedResponse`` if it is none."""
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        raise MalformedResponse("a resource object lacks its type")
    attributes = data.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise MalformedResponse(f"the attributes of a {data['type']} are not an object")
    relationships: dict[str, Linkage] = {}
    raw_relationships = data.get("relationships") or {}
    if not isinstance(raw_relationships, Mapping):
        raise MalformedResponse(
            f"the relationships of a {data['type']} are not an object"
        )
    for name, relationship in raw_relationships.items():
        # A relationship with only ``links`` says nothing we can resolve.
        if isinstance(relationship, Mapping) and "data" in relationship:
            relationships[str(name)] = _linkage(relationship)
    resource_id = data.get("id")
    return Resource(
        type=data["type"],
        id=None if resource_id is None else str(resource_id),
        attributes=dict(attributes),
        relationships=relationships,
    )


class ResourceIndex:
    """Resources by type and id, to resolve relationships against."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_identifier: dict[Identifier, Resource] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Resource) -> None:
        if resource.id is not None:
            self._by_identifier.setdefault(resource.identifier, resource)

    def get(self, resource_type: str, resource_id: object) -> Resource | None:
        return self._by_identifier.get((resource_type, str(resource_id)))

    def __len__(self) -> int:
        return len(self._by_identifier)

    def __iter__(self) -> Any:
        return iter(self._by_identifier.values())

    def related(self, resource: Resource, name: str) -> Resource | None:
        """The resource a to-one relationship points at, if it is known."""
        linkage = resource.relationships.get(name)
        if not linkage or isinstance(linkage[0], tuple):
            return None
        return self._by_identifier.get(linkage)

    def related_many(self, resource: Resource, name: str) -> list[Resource]:
        """The known resources of a to-many relationship, in its order."""
        linkage = resource.relationships.get(name)
        if not linkage or not isinstance(linkage[0], tuple):
            return []
        found = (self._by_identifier.get(ident) for ident in linkage)
        return [resource for resource in found if resource is not None]


@dataclass(frozen=True)
class Document:
    """A JSON:API top-level document with primary ``data``."""

    data: Resource | list[Resource] | None
    included: list[Resource]
    links: Mapping[str, Any]
    meta: Mapping[str, Any]

    @property
    def resources(self) -> list[Resource]:
        """The primary data as a list, whether the document held one or many."""
        if self.data is None:
            return []
        return self.data if isinstance(self.data, list) else [self.data]

    @property
    def index(self) -> ResourceIndex:
        return ResourceIndex([*self.included, *self.resources])

    @property
    def next_url(self) -> str | None:
        link = self.links.get("next")
        if isinstance(link, Mapping):  # JSON:API allows link objects too
            link = link.get("href")
        return link if isinstance(link, str) and link else None


def parse_document(payload: Any) -> Document:
    """Read a top-level document that carries ``data``.

    The redeemables endpoint wraps its one document in a list; a list holding
    exactly one document is accepted for that reason.
    """
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    if not isinstance(payload, Mapping):
        raise MalformedResponse("the answer is not a JSON:API document")
    if "data" not in payload:
        raise MalformedResponse("the answer holds no JSON:API data")
    raw_data = payload["data"]
    data: Resource | list[Resource] | None
    if raw_data is None:
        data = None
    elif isinstance(raw_data, list):
        data = [parse_resource(item) for item in raw_data]
    else:
        data = parse_resource(raw_data)
    raw_included = payload.get("included") or []
    if not isinstance(raw_included, list):
        raise MalformedResponse("the answer's included member is not a list")
    links = payload.get("links") or {}
    meta = payload.get("meta") or {}
    return Document(
        data=data,
        included=[parse_resource(item) for item in raw_included],
        links=links if isinstance(links, Mapping) else {},
        meta=meta if isinstance(meta, Mapping) else {},
    )
