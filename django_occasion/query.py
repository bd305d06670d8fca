"""A small query language for the API's collection reads.

A :class:`Query` names filters, a sort order, sparse fieldsets and related
resources to include; :meth:`Query.to_params` turns it into the API's
``filter[...]``, ``sort``, ``fields[...]`` and ``include`` parameters for
one resource type, after checking every name against that type's allow-list
and every value for characters no query should carry. Anything refused
raises :class:`~django_occasion.exceptions.InvalidQuery` before a request is
made::

    Query(filters={"city": "Springfield"}, sort=["name"], include=["state"])
    Query().filter(city="Springfield").order_by("-created_at")
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeAlias

from .domain import (
    FieldType,
    Merchant,
    Product,
    Question,
    QuestionOption,
    TimeSlot,
    Venue,
)
from .exceptions import InvalidQuery

NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_.]*")
MAX_VALUE_LENGTH = 200

FilterValue: TypeAlias = str | int | bool
TypeKey: TypeAlias = str | type

#: The public attributes of each resource type: what ``fields[TYPE]`` may
#: name. Private attributes are left out on purpose; public calls would not
#: return them anyway.
ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "products": frozenset(
            {
                "title",
                "description",
                "status",
                "image",
                "tax_percentage",
                "order_button_text",
                "post_transactional_message",
                "show_occurrence_availability",
                "show_time_slot_duration",
                "closing_time_relative",
                "time_slots_closed_before",
                "sells_sessions",
                "created_at",
                "updated_at",
                "widget_contact_title",
                "widget_occurrences_title",
                "widget_time_slots_title",
                "widget_attributes_title",
                "widget_questions_title",
                "widget_payment_title",
                "widget_total_due_title",
            }
        ),
        "merchants": frozenset(
            {"name", "profile_picture", "time_zone", "tax_percentage", "facebook_page"}
        ),
        "venues": frozenset(
            {"name", "address", "city", "zip", "website", "email", "phone", "time_zone"}
        ),
        "time_slots": frozenset(
            {"starts_at", "duration", "spots_available", "time_zone"}
        ),
        "countries": frozenset({"name", "code"}),
        "states": frozenset({"name", "code"}),
        "currencies": frozenset({"name", "code"}),
        "business_types": frozenset({"name"}),
        "attributes": frozenset({"title", "position", "parameters"}),
        "attribute_options": frozenset({"title", "position", "default", "parameters"}),
        "field_types": frozenset(
            {"category", "form_control", "operation", "reflective"}
        ),
    }
)

#: Domain classes accepted as keys of ``fields`` in place of type names.
TYPE_NAMES: Mapping[type, str] = MappingProxyType(
    {
        Product: "products",
        Merchant: "merchants",
        Venue: "venues",
        TimeSlot: "time_slots",
        Question: "attributes",
        QuestionOption: "attribute_options",
        FieldType: "field_types",
    }
)


@dataclass(frozen=True)
class Rules:
    """What a query on one collection may ask for."""

    filters: frozenset[str] = frozenset()
    sort: frozenset[str] = frozenset()
    include: frozenset[str] = frozenset()
    #: Filters the service layer sets itself, with the reason given when a
    #: query tries to set them.
    reserved: Mapping[str, str] = field(default_factory=dict)


RULES: Mapping[str, Rules] = MappingProxyType(
    {
        "products": Rules(
            filters=frozenset({"status", "title"}),
            sort=frozenset({"title", "status", "created_at", "updated_at"}),
            include=frozenset(
                {
                    "merchant",
                    "venue",
                    "attributes",
                    "attributes.attribute_options",
                    "attributes.field_type",
                }
            ),
        ),
        "merchants": Rules(
            filters=frozenset({"name"}),
            sort=frozenset({"name", "created_at", "updated_at"}),
            include=frozenset({"currency", "business_type"}),
        ),
        "venues": Rules(
            filters=frozenset({"name", "city", "zip"}),
            sort=frozenset({"name", "city", "created_at", "updated_at"}),
            include=frozenset({"country", "state", "merchant"}),
        ),
        # The API orders time slots by start and pages them by cursor: a
        # sort would break the cursor, and both filters belong to the
        # service (``list_time_slots(status=...)`` and the cursor itself).
        "time_slots": Rules(
            include=frozenset({"product"}),
            reserved={
                "status": "set it with list_time_slots(status=...)",
                "last": "it is the pagination cursor, which the app manages",
            },
        ),
    }
)


def check_name(name: Any, what: str) -> str:
    """``name`` if it is a plain API name (``^[a-z_][a-z0-9_.]*$``)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidQuery(
            f"{what} {name!r} is not a valid name: use lower-case letters, "
            "digits, '_' and '.'"
        )
    return name


def check_value(value: Any, what: str) -> str:
    """``value`` as the text the API expects, if it is safe to send."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise InvalidQuery(
            f"{what} must be text, a whole number or a boolean, "
            f"not {type(value).__name__}"
        )
    if not value or len(value) > MAX_VALUE_LENGTH:
        raise InvalidQuery(f"{what} must hold 1 to {MAX_VALUE_LENGTH} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise InvalidQuery(f"{what} contains control characters")
    return value


def _choices(allowed: frozenset[str]) -> str:
    return ", ".join(sorted(allowed)) if allowed else "none"


def _type_name(key: TypeKey) -> str:
    if isinstance(key, type):
        try:
            return TYPE_NAMES[key]
        except KeyError:
            raise InvalidQuery(
                f"fields: {key.__name__} is not an Occasion resource"
            ) from None
    return check_name(key, "fields type")


@dataclass(frozen=True)
class Query:
    """Filters, sort, sparse fieldsets and includes for one collection read.

    ``filters`` maps attribute names to the value they must equal; ``sort``
    lists attribute names, ``-name`` for descending; ``fields`` maps a
    resource type (its API name such as ``"venues"``, or its domain class
    such as :class:`~django_occasion.domain.Venue`) to the attributes to
    fetch; ``include`` lists relationship paths such as ``"state"``.

    A query is checked when it is turned into parameters, against the rules
    of the collection it is sent to (:data:`RULES`).
    """

    filters: Mapping[str, FilterValue] = field(default_factory=dict)
    sort: Sequence[str] = ()
    fields: Mapping[TypeKey, Sequence[str]] = field(default_factory=dict)
    include: Sequence[str] = ()

    def __post_init__(self) -> None:
        # A bare string would be read one character at a time.
        for name in ("sort", "include"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
        for key, names in self.fields.items():
            if isinstance(names, str):
                raise InvalidQuery(
                    f"fields[{key}] must be a list of names, not one string"
                )

    def filter(self, **filters: FilterValue) -> Query:
        """A copy with these filters added."""
        return replace(self, filters={**self.filters, **filters})

    def order_by(self, *names: str) -> Query:
        """A copy sorted by ``names`` (``-name`` for descending)."""
        return replace(self, sort=names)

    def to_params(self, resource_type: str) -> dict[str, str]:
        """The query parameters for a read of ``resource_type``.

        Raises :class:`~django_occasion.exceptions.InvalidQuery` for any
        name the collection does not allow or any unsafe value.
        """
        try:
            rules = RULES[resource_type]
        except KeyError:
            raise InvalidQuery(
                f"{resource_type!r} cannot be queried; use one of "
                + _choices(frozenset(RULES))
            ) from None
        params: dict[str, str] = {}
        for name, value in self.filters.items():
            check_name(name, "filter")
            if name in rules.reserved:
                raise InvalidQuery(
                    f"filter {name!r} cannot be set on {resource_type}: "
                    + rules.reserved[name]
                )
            if name not in rules.filters:
                raise InvalidQuery(
                    f"unknown filter {name!r} for {resource_type}; use one of "
                    + _choices(rules.filters)
                )
            params[f"filter[{name}]"] = check_value(value, f"filter {name!r}")
        if self.sort:
            params["sort"] = self._sort_param(resource_type, rules)
        for key, names in self.fields.items():
            type_name = _type_name(key)
            allowed = ATTRIBUTES.get(type_name)
            if allowed is None:
                raise InvalidQuery(
                    f"fields: unknown resource type {type_name!r}; use one of "
                    + _choices(frozenset(ATTRIBUTES))
                )
            if not names:
                raise InvalidQuery(f"fields[{type_name}] names no attribute")
            for name in names:
                check_name(name, f"fields[{type_name}] attribute")
                if name not in allowed:
                    raise InvalidQuery(
                        f"unknown attribute {name!r} of {type_name}; use one of "
                        + _choices(allowed)
                    )
            params[f"fields[{type_name}]"] = ",".join(dict.fromkeys(names))
        if self.include:
            for path in self.include:
                check_name(path, "include")
                if path not in rules.include:
                    raise InvalidQuery(
                        f"cannot include {path!r} with {resource_type}; use one of "
                        + _choices(rules.include)
                    )
            params["include"] = ",".join(dict.fromkeys(self.include))
        return params

    def _sort_param(self, resource_type: str, rules: Rules) -> str:
        seen: set[str] = set()
        for item in self.sort:
            name = item[1:] if isinstance(item, str) and item[:1] == "-" else item
            check_name(name, "sort field")
            if name not in rules.sort:
                raise InvalidQuery(
                    f"cannot sort {resource_type} by {name!r}; use one of "
                    + _choices(rules.sort)
                )
            if name in seen:
                raise InvalidQuery(f"sort names {name!r} twice")
            seen.add(name)
        return ",".join(self.sort)


def merge_params(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """``extra`` over ``base``, with the two ``include`` lists joined."""
    merged = {**base, **extra}
    includes = [
        part
        for value in (base.get("include"), extra.get("include"))
        if value
        for part in value.split(",")
    ]
    if includes:
        merged["include"] = ",".join(dict.fromkeys(includes))
    return merged
