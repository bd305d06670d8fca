"""The demo catalogue: two invented merchants, three venues and 34 products.

Everything here is fixed, so every run of the demo and of the tests sees the
same records, except the time slots: they are laid out from the day they are
asked for, so that the demo always has something left to book.

The catalogue is built once per process (:func:`catalogue`); the JSON:API
shapes of its records are prepared at the same time, so that answering a
request only filters, sorts and copies.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

Identifier: TypeAlias = tuple[str, str]

PRICE_DROPDOWN = "ft-price-dropdown"
DROPDOWN = "ft-dropdown"
TEXT_AREA = "ft-text-area"
TEXT_INPUT = "ft-text-input"
CHECKBOX = "ft-checkbox"

#: Field types as the API describes them: ``category`` "price" questions
#: change the total, the others only collect information.
FIELD_TYPES: dict[str, dict[str, Any]] = {
    PRICE_DROPDOWN: {
        "category": "price",
        "form_control": "drop_down",
        "operation": "adding",
        "reflective": False,
    },
    DROPDOWN: {
        "category": "info",
        "form_control": "drop_down",
        "operation": None,
        "reflective": False,
    },
    TEXT_AREA: {
        "category": "info",
        "form_control": "text_area",
        "operation": None,
        "reflective": False,
    },
    TEXT_INPUT: {
        "category": "info",
        "form_control": "text_input",
        "operation": None,
        "reflective": False,
    },
    CHECKBOX: {
        "category": "info",
        "form_control": "checkbox",
        "operation": None,
        "reflective": False,
    },
}


@dataclass(frozen=True, slots=True)
class StaticImage:
    """A picture shipped in the app's static folder.

    Its URL is only known when a request is answered (``STATIC_URL`` and the
    storage decide it), so records carry the path and the adapter resolves it.
    With ``thumb`` it is written as the product image object (``url`` and
    ``thumb.url``), without as a bare URL string.
    """

    path: str
    thumb: bool = True


@dataclass(frozen=True, slots=True)
class Record:
    """One resource as the demo API stores it, ready to be serialised."""

    type: str
    id: str
    attributes: Mapping[str, Any]
    to_one: Mapping[str, Identifier] = field(default_factory=dict)
    #: Left out when empty, as a product without questions is.
    to_many: Mapping[str, tuple[Identifier, ...]] = field(default_factory=dict)
    #: Only written for calls that carry the API secret.
    private_attributes: Mapping[str, Any] = field(default_factory=dict)
    images: Mapping[str, StaticImage] = field(default_factory=dict)
    #: Values to sort by, parsed once: timestamps with different offsets do
    #: not sort correctly as text.
    sort_values: Mapping[str, Any] = field(default_factory=dict)
    #: Whether ``/{type}/{id}`` is an endpoint, to write ``links.self``.
    addressable: bool = False

    @property
    def identifier(self) -> Identifier:
        return self.type, self.id

    def related_id(self, name: str) -> str | None:
        identifier = self.to_one.get(name)
        return None if identifier is None else identifier[1]

    def related(self, name: str) -> tuple[Identifier, ...]:
        identifier = self.to_one.get(name)
        return (identifier,) if identifier else self.to_many.get(name, ())


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    type: str
    name: str
    code: str


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    name: str
    time_zone: str
    tax_percentage: str
    business_type: tuple[str, str]
    logo: str
    facebook_page: str
    created: str
    updated: str


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    merchant_id: str
    name: str
    address: str
    city: str
    zip: str
    state: Region
    phone: str
    email: str
    website: str
    time_zone: str
    tax_percentage: str
    capacity: int
    created: str


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    title: str
    price: Decimal = Decimal("0")
    default: bool = False


@dataclass(frozen=True, slots=True)
class Question:
    """A question of a product's order form (an ``attributes`` resource)."""

    id: str
    title: str
    field_type: str
    options: tuple[Option, ...] = ()
    required: bool = False

    @property
    def is_priced(self) -> bool:
        return self.field_type == PRICE_DROPDOWN

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    @property
    def default_option(self) -> Option | None:
        return next((o for o in self.options if o.default), None)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Slots at ``at`` (venue time) each ``weekday`` (Monday is 0), or daily.

    The first slot is on the next such day after today. ``duration`` is in
    minutes, as recorded answers and the official client read it. ``spots``
    is cycled over the slots; ``None`` means unlimited.
    """

    at: time
    duration: int
    count: int
    weekday: int | None = None
    spots: tuple[int | None, ...] = (None,)

    def days(self, today: date) -> list[date]:
        if self.weekday is None:
            return [today + timedelta(days=n + 1) for n in range(self.count)]
        ahead = (self.weekday - today.weekday() - 1) % 7 + 1
        return [today + timedelta(days=ahead + 7 * n) for n in range(self.count)]


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    venue_id: str
    title: str
    status: str
    price: Decimal
    description: str
    image: str | None
    created: str
    updated: str
    schedule: Schedule | None = None
    questions: tuple[Question, ...] = ()
    order_button_text: str = "Book now"
    post_transactional_message: str = "Thanks! Your confirmation is on its way."
    sells_sessions: bool = False
    show_availability: bool = True
    show_duration: bool = True

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True, slots=True)
class TimeSlot:
    id: str
    product_id: str
    starts_at: datetime
    duration: int
    spots_available: int | None
    time_zone: str

    def is_bookable(self, now: datetime) -> bool:
        return self.starts_at > now and self.spots_available != 0

    def to_record(self) -> Record:
        return Record(
            type="time_slots",
            id=self.id,
            attributes={
                "starts_at": timestamp(self.starts_at),
                "time_zone": self.time_zone,
                "duration": self.duration,
                "spots_available": self.spots_available,
            },
            to_one={"product": ("products", self.product_id)},
        )


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    code: str
    name: str
    discount_percentage: Decimal | None = None
    discount_fixed: Decimal | None = None

    def to_record(self) -> Record:
        return Record(
            type="coupons",
            id=self.id,
            attributes={
                "name": self.name,
                "code": self.code,
                "discount_fixed": _number(self.discount_fixed),
                "discount_percentage": _number(self.discount_percentage),
            },
        )


@dataclass(frozen=True, slots=True)
class GiftCard:
    id: str
    code: str
    initial_value: Decimal
    value: Decimal

    @property
    def is_usable(self) -> bool:
        return self.value > 0

    def to_record(self) -> Record:
        return Record(
            type="gift_cards",
            id=self.id,
            attributes={
                "code": self.code,
                "initial_value": _number(self.initial_value),
                "value": _number(self.value),
            },
        )


Redeemable: TypeAlias = Coupon | GiftCard

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Quote:
    """What an order would cost: the answer of ``POST /orders/price``."""

    subtotal: Decimal
    coupon_amount: Decimal
    tax_percentage: Decimal
    tax: Decimal
    total: Decimal


def quote(
    price: Decimal,
    *,
    tax_percentage: Decimal,
    quantity: int = 1,
    extras: tuple[Decimal, ...] = (),
    coupon: Coupon | None = None,
) -> Quote:
    """Price an order the way the API's examples add up.

    Priced answers (``extras``) are added once per order, not per unit. The
    coupon comes off the subtotal (a fixed one never below zero) and tax is
    charged on what is left, each amount rounded half up to the cent.
    """
    subtotal = to_cents(price * quantity + sum(extras, Decimal("0")))
    discount = Decimal("0")
    if coupon is not None and coupon.discount_percentage is not None:
        discount = to_cents(subtotal * coupon.discount_percentage / HUNDRED)
    elif coupon is not None and coupon.discount_fixed is not None:
        discount = to_cents(min(coupon.discount_fixed, subtotal))
    tax = to_cents((subtotal - discount) * tax_percentage / HUNDRED)
    return Quote(
        subtotal=subtotal,
        coupon_amount=discount,
        tax_percentage=tax_percentage,
        tax=tax,
        total=subtotal - discount + tax,
    )


def _number(value: Decimal | None) -> float | None:
    # The API writes coupon and gift card amounts as JSON numbers, unlike
    # the order amounts, which are decimal strings.
    return None if value is None else float(value)


def timestamp(moment: datetime) -> str:
    """A timestamp as the API writes it: milliseconds and the UTC offset."""
    return moment.isoformat(timespec="milliseconds")


def _local(text: str, time_zone: str) -> datetime:
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M")
    return naive.replace(tzinfo=ZoneInfo(time_zone))


USA = Region("co-us", "countries", "United States of America", "USA")
MINNESOTA = Region("st-mn", "states", "Minnesota", "MN")
COLORADO = Region("st-co", "states", "Colorado", "CO")

CURRENCY = ("cur-usd", "USD", "$")

KILN = "m4Kc2"
GLACIER = "m7Gp5"
STUDIO = "v2Kc8"
RINK = "v5Gi3"
BARN = "v9Gb6"

MERCHANTS = (
    Merchant(
        id=KILN,
        name="Kiln & Crane Clay Studio",
        time_zone="America/Chicago",
        tax_percentage="8.025",
        business_type=("bt-art", "Art Studio"),
        logo="kiln-and-crane.svg",
        facebook_page="https://social.example/kilnandcrane",
        created="2024-09-03 09:15",
        updated="2026-10-28 16:40",
    ),
    Merchant(
        id=GLACIER,
        name="Glacier Point Ice & Climb",
        time_zone="America/Denver",
        tax_percentage="8.81",
        business_type=("bt-sport", "Sports & Recreation"),
        logo="glacier-point.svg",
        facebook_page="https://social.example/glacierpoint",
        created="2024-11-18 11:30",
        updated="2026-11-02 08:05",
    ),
)

VENUES = (
    Venue(
        id=STUDIO,
        merchant_id=KILN,
        name="Kiln & Crane Northeast Studio",
        address="2417 Quarry Avenue NE",
        city="Minneapolis",
        zip="55418",
        state=MINNESOTA,
        phone="(612) 555-0147",
        email="studio@kilnandcrane.example",
        website="www.kilnandcrane.example",
        time_zone="America/Chicago",
        tax_percentage="8.025",
        capacity=24,
        created="2024-09-03 09:20",
    ),
    Venue(
        id=RINK,
        merchant_id=GLACIER,
        name="Glacier Point Ice Arena",
        address="880 Rink Road",
        city="Denver",
        zip="80216",
        state=COLORADO,
        phone="(303) 555-0182",
        email="rink@glacierpoint.example",
        website="www.glacierpoint.example/ice",
        time_zone="America/Denver",
        tax_percentage="8.81",
        capacity=400,
        created="2024-11-18 11:45",
    ),
    Venue(
        id=BARN,
        merchant_id=GLACIER,
        name="Glacier Point Boulder Barn",
        address="1550 Chalk Street",
        city="Boulder",
        zip="80301",
        state=COLORADO,
        phone="(303) 555-0119",
        email="climb@glacierpoint.example",
        website="www.glacierpoint.example/climb",
        time_zone="America/Denver",
        tax_percentage="8.845",
        capacity=120,
        created="2025-01-06 10:00",
    ),
)


MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)


def _weekly(
    weekday: int,
    hour: int,
    minute: int,
    duration: int,
    count: int = 8,
    spots: tuple[int | None, ...] = (None,),
) -> Schedule:
    return Schedule(time(hour, minute), duration, count, weekday, spots)


#: The product whose description tries every trick a sanitiser must undo.
SCRIPT_PRODUCT_ID = "p7Runz"
#: A product with priced and plain questions, and weekly slots.
QUESTIONS_PRODUCT_ID = "p1uG8G"
#: A product with daily slots: more than three default pages of them.
DAILY_SLOTS_PRODUCT_ID = "p1BGZW"

PRODUCTS = (
    # Kiln & Crane Clay Studio: all at the Northeast Studio.
    Product(
        id=QUESTIONS_PRODUCT_ID,
        venue_id=STUDIO,
        title="Wheel Throwing: Six-Week Beginner Course",
        status="active",
        price=Decimal("285.00"),
        description=(
            "<p>Six Tuesday evenings at the wheel, from <strong>centring</strong>"
            " your first lump of clay to trimming a set of bowls.</p>"
            "<ul><li>25 lb of stoneware, glazes and firings included</li>"
            "<li>Aprons and tools provided</li>"
            "<li>Open studio practice on Sunday afternoons</li></ul>"
            "<p><em>Wear clothes that can get muddy.</em></p>"
        ),
        image="wheel.svg",
        created="2025-01-14 10:02",
        updated="2026-11-30 16:45",
        schedule=_weekly(TUESDAY, 18, 30, 120, spots=(4, 0, 2, 6, None, 3, 5, 8)),
        questions=(
            Question(
                "q-clay-body",
                "Which clay body?",
                PRICE_DROPDOWN,
                (
                    Option("o-stoneware", "Stoneware (included)", default=True),
                    Option("o-porcelain", "Porcelain (+$15)", Decimal("15")),
                ),
                required=True,
            ),
            Question(
                "q-experience",
                "Have you thrown on a wheel before?",
                DROPDOWN,
                (
                    Option("o-never", "Never", default=True),
                    Option("o-few-times", "A few times"),
                    Option("o-rusty", "Yes, but I'm rusty"),
                ),
            ),
            Question("q-notes", "Anything we should know?", TEXT_AREA),
        ),
        order_button_text="Reserve my wheel",
        post_transactional_message="See you at the studio! Bring a towel.",
        sells_sessions=True,
    ),
    Product(
        id="p14o5M",
        venue_id=STUDIO,
        title="Date Night at the Wheel",
        status="active",
        price=Decimal("110.00"),
        description=(
            "<p>Two hours, two wheels, one bottle of something nice (bring your"
            " own).</p><p>Each of you throws a piece; we glaze and fire them and"
            " text you when they are ready.<br>Pickup is about three weeks"
            " later.</p>"
        ),
        image="wheel.svg",
        created="2025-02-03 14:20",
        updated="2026-10-12 09:10",
        schedule=_weekly(FRIDAY, 19, 0, 120, count=6, spots=(3, 1, 0, 4, 4, 2)),
        order_button_text="Book for two",
    ),
    Product(
        id="p9JAYK",
        venue_id=STUDIO,
        title="Hand-Building Basics: Pinch, Coil and Slab",
        status="active",
        price=Decimal("65.00"),
        description=(
            "<p>No wheel needed. Learn the three oldest ways to make a pot:</p>"
            "<ul><li><strong>Pinch</strong> a tea bowl</li>"
            "<li><strong>Coil</strong> a planter</li>"
            "<li><strong>Slab</strong>-build a serving dish</li></ul>"
        ),
        image="hand-building.svg",
        created="2025-02-20 11:00",
        updated="2026-09-01 13:25",
        schedule=_weekly(SATURDAY, 10, 0, 120, spots=(8, 6, 8, 2, 8, 8, 7, 8)),
    ),
    Product(
        id="p81UXX",
        venue_id=STUDIO,
        title="Glaze Lab: Mixing Your Own Celadon",
        status="sold_out",
        price=Decimal("55.00"),
        description=(
            "<p>Weigh, sieve and test-fire a <em>celadon</em> from raw"
            " materials.</p><p><strong>Sold out</strong> &mdash; join the"
            " waiting list at the front desk.</p>"
        ),
        image="glaze.svg",
        created="2025-03-02 09:00",
        updated="2026-11-29 08:12",
        schedule=_weekly(SATURDAY, 13, 0, 90, count=3, spots=(0,)),
    ),
    Product(
        id="p7WXLC",
        venue_id=STUDIO,
        title="Family Clay Afternoon",
        status="active",
        price=Decimal("45.00"),
        description=(
            "<p>Bring the kids (ages 5 and up) for pinch pots, coil vases and"
            " clay critters.</p><ul><li>One adult and one child per booking</li>"
            "<li>Add siblings below</li></ul>"
        ),
        image="hand-building.svg",
        created="2025-03-18 15:30",
        updated="2026-08-22 10:00",
        schedule=_weekly(SUNDAY, 13, 0, 90, spots=(6, 4, 0, 6, 5, 6, 6, 6)),
        questions=(
            Question(
                "q-children",
                "How many children are coming?",
                PRICE_DROPDOWN,
                (
                    Option("o-one-child", "One child (included)", default=True),
                    Option("o-two-children", "Two children (+$20)", Decimal("20")),
                    Option("o-three-children", "Three children (+$40)", Decimal("40")),
                ),
                required=True,
            ),
            Question("q-child-ages", "Children's ages", TEXT_INPUT),
        ),
    ),
    Product(
        id="p3aNfh",
        venue_id=STUDIO,
        title="Open Studio Membership (Monthly)",
        status="active",
        price=Decimal("120.00"),
        description=(
            "<p>For potters who know their way around a wheel.</p>"
            "<ul><li>Studio access seven days a week, 8am&ndash;10pm</li>"
            "<li>A shelf of your own</li><li>Two kiln loads a month</li></ul>"
        ),
        image="wheel.svg",
        created="2025-04-01 08:00",
        updated="2026-07-15 12:00",
        order_button_text="Join the studio",
        show_availability=False,
        show_duration=False,
    ),
    Product(
        id="p40gCa",
        venue_id=STUDIO,
        title="Raku Firing Weekend",
        status="expired",
        price=Decimal("195.00"),
        description=(
            "<p>Pull glowing pots from the kiln and drop them into sawdust."
            " Outdoors, weather permitting.</p>"
        ),
        image="glaze.svg",
        created="2025-04-22 10:10",
        updated="2025-10-06 18:00",
    ),
    Product(
        id=SCRIPT_PRODUCT_ID,
        venue_id=STUDIO,
        title="Holiday Ornament Workshop",
        status="active",
        price=Decimal("48.00"),
        # Pasted by the merchant from a "share widget" snippet: a demo site
        # must show this description with the script, the handler and the
        # javascript: link removed.
        description=(
            "<p onclick=\"alert('clicked')\">Paint and fire three stoneware"
            " ornaments in one cosy evening.</p>"
            '<script>alert("xss")</script>'
            "<p>We glaze and fire them; pickup is a week later."
            " <a href=\"javascript:alert('gotcha')\">Read the care guide</a>.</p>"
        ),
        image="hand-building.svg",
        created="2025-10-30 12:00",
        updated="2026-11-20 17:30",
        schedule=_weekly(WEDNESDAY, 18, 0, 90, count=4, spots=(10, 7, 3, 12)),
        order_button_text="Save my spot",
    ),
    Product(
        id="p4w7wZ",
        venue_id=STUDIO,
        title="Private Studio Party",
        status="active",
        price=Decimal("350.00"),
        description=(
            "<p>The whole studio for two hours: birthdays, team outings, hen"
            " parties.</p><p>Everyone makes a piece on the wheel or by hand;"
            " snacks welcome.<br><strong>Up to 16 guests.</strong></p>"
        ),
        image="wheel.svg",
        created="2025-05-09 16:00",
        updated="2026-11-05 11:20",
        schedule=_weekly(SATURDAY, 17, 0, 120, count=6, spots=(1, 1, 0, 1, 1, 1)),
        questions=(
            Question(
                "q-party-size",
                "Party size",
                PRICE_DROPDOWN,
                (
                    Option("o-up-to-8", "Up to 8 guests", default=True),
                    Option("o-9-to-12", "9 to 12 guests (+$90)", Decimal("90")),
                    Option("o-13-to-16", "13 to 16 guests (+$180)", Decimal("180")),
                ),
                required=True,
            ),
            Question("q-celebrating", "What are you celebrating?", TEXT_INPUT),
        ),
        order_button_text="Request the studio",
    ),
    Product(
        id="p6VGOe",
        venue_id=STUDIO,
        title="Surface Decoration: Sgraffito and Slip",
        status="inactive",
        price=Decimal("75.00"),
        description=(
            "<p>Carve through coloured slip to reveal the clay beneath.</p>"
            "<p><em>On a break while our instructor is on sabbatical.</em></p>"
        ),
        image="glaze.svg",
        created="2025-05-27 09:45",
        updated="2026-06-30 10:00",
    ),
    Product(
        id="p5fJIs",
        venue_id=STUDIO,
        title="Intermediate Wheel: Lidded Forms",
        status="active",
        price=Decimal("260.00"),
        description=(
            "<p>Jars, teapots and casseroles: measuring galleries, fitting lids"
            " and pulling spouts.</p><ul><li>Six Thursday evenings</li>"
            "<li>Prerequisite: the beginner course or equivalent</li></ul>"
        ),
        image="wheel.svg",
        created="2025-06-11 13:00",
        updated="2026-10-01 15:00",
        schedule=_weekly(THURSDAY, 18, 30, 120, count=6, spots=(5, 5, 4, 5, 5, 5)),
        sells_sessions=True,
    ),
    Product(
        id="p4Dj4P",
        venue_id=STUDIO,
        title="Pottery Painting Drop-In",
        status="active",
        price=Decimal("25.00"),
        description=(
            "Pick a bisque piece from the shelf and paint it. We glaze and fire"
            " it for you. Walk-ins welcome, booking recommended on weekends."
        ),
        image=None,
        created="2025-06-30 10:30",
        updated="2026-11-18 14:10",
        schedule=_weekly(SATURDAY, 11, 0, 60, count=10),
    ),
    Product(
        id="p9tb2T",
        venue_id=STUDIO,
        title="Kids' Summer Clay Camp",
        status="expired",
        price=Decimal("320.00"),
        description=(
            "<p>Five mornings of clay for ages 8&ndash;12.</p>"
            "<ul><li>Snacks included</li><li>Pieces fired by Friday</li></ul>"
        ),
        image="hand-building.svg",
        created="2025-03-01 09:00",
        updated="2026-08-15 12:00",
    ),
    Product(
        id="p5xDBf",
        venue_id=STUDIO,
        title="Kiln Loading and Firing Basics",
        status="inactive",
        price=Decimal("40.00"),
        description=(
            "<p>For members only: how to load, program and unload our kilns.</p>"
        ),
        image=None,
        created="2025-07-19 17:00",
        updated="2026-02-11 09:30",
    ),
    # Glacier Point Ice & Climb: the ice arena.
    Product(
        id=DAILY_SLOTS_PRODUCT_ID,
        venue_id=RINK,
        title="Public Skate",
        status="active",
        price=Decimal("12.00"),
        description=(
            "<p>Everyone on the ice! Daily public sessions with music.</p>"
            "<ul><li>Skate rental at the counter</li>"
            "<li>Helmets free for under-12s</li></ul>"
        ),
        image="skating.svg",
        created="2025-01-08 12:00",
        updated="2026-11-25 07:45",
        schedule=Schedule(time(14, 0), 90, 28),
        order_button_text="Get tickets",
    ),
    Product(
        id="p65LJF",
        venue_id=RINK,
        title="Learn to Skate: Adult Beginner",
        status="active",
        price=Decimal("149.00"),
        description=(
            "<p>Six Monday evenings, from <em>standing up</em> to"
            " <strong>stopping</strong>, forward crossovers and a little"
            " backwards skating.</p><p>Small groups, patient coaches.</p>"
        ),
        image="skating.svg",
        created="2025-02-14 09:30",
        updated="2026-10-20 13:00",
        schedule=_weekly(MONDAY, 19, 0, 60, count=6, spots=(10, 10, 8, 10, 10, 10)),
        questions=(
            Question(
                "q-skate-rental",
                "Skate rental",
                PRICE_DROPDOWN,
                (
                    Option("o-own-skates", "I'll bring my own skates", default=True),
                    Option(
                        "o-rental-skates",
                        "Rental skates for the course (+$24)",
                        Decimal("24"),
                    ),
                ),
                required=True,
            ),
            Question("q-skate-size", "Skate size (if renting)", TEXT_INPUT),
            Question(
                "q-rink-waiver",
                "I have read and accept the rink's waiver",
                CHECKBOX,
                required=True,
            ),
        ),
        sells_sessions=True,
    ),
    Product(
        id="p94Fz6",
        venue_id=RINK,
        title="Learn to Skate: Kids (Ages 5 to 8)",
        status="active",
        price=Decimal("129.00"),
        description=(
            "<p>Saturday mornings of games on ice. Parents watch from the warm"
            " side of the glass.</p><ul><li>Helmet required</li>"
            "<li>Mittens strongly recommended</li></ul>"
        ),
        image="skating.svg",
        created="2025-02-15 10:00",
        updated="2026-10-21 10:00",
        schedule=_weekly(SATURDAY, 9, 0, 60, count=6, spots=(12, 0, 3, 12, 12, 12)),
        sells_sessions=True,
    ),
    Product(
        id="p8q2AK",
        venue_id=RINK,
        title="Drop-In Adult Hockey",
        status="active",
        price=Decimal("18.00"),
        description=(
            "<p>No-check pickup hockey for skaters with some experience.</p>"
            "<p><strong>Full gear required.</strong> Goalies skate free.</p>"
        ),
        image="hockey.svg",
        created="2025-03-05 20:00",
        updated="2026-11-27 22:15",
        schedule=_weekly(WEDNESDAY, 21, 30, 90, count=10, spots=(0, 4, 12, 20, 0, 22)),
    ),
    Product(
        id="p7GHZb",
        venue_id=RINK,
        title="Stick and Puck",
        status="active",
        price=Decimal("15.00"),
        description=(
            "<p>Practise shooting and stickhandling; no games.</p>"
            "<p>Helmets with cages required for all ages.</p>"
        ),
        image="hockey.svg",
        created="2025-03-12 12:00",
        updated="2026-09-09 09:00",
        schedule=_weekly(TUESDAY, 12, 0, 60, count=10, spots=(25,)),
    ),
    Product(
        id="p9oXi0",
        venue_id=RINK,
        title="Freestyle Figure Skating Ice",
        status="active",
        price=Decimal("20.00"),
        description=(
            "<p>Reserved ice for figure skaters working on jumps and spins.</p>"
            "<p><em>Skaters must have passed Basic 6.</em></p>"
        ),
        image=None,
        created="2025-04-03 06:30",
        updated="2026-10-30 06:30",
        schedule=_weekly(THURSDAY, 6, 0, 60, spots=(15, 15, 9, 15, 15, 15, 15, 15)),
    ),
    Product(
        id="p09TH4",
        venue_id=RINK,
        title="Birthday Party on Ice",
        status="active",
        price=Decimal("225.00"),
        description=(
            "<p>Ninety minutes of skating and a party room for thirty more.</p>"
            "<ul><li>Skate rental for everyone</li><li>A host who handles the"
            " cake</li><li>Choose a package below</li></ul>"
        ),
        image="skating.svg",
        created="2025-04-29 15:00",
        updated="2026-11-10 15:00",
        schedule=_weekly(SUNDAY, 15, 0, 120, count=6, spots=(2, 1, 2, 0, 2, 2)),
        questions=(
            Question(
                "q-party-package",
                "Party package",
                PRICE_DROPDOWN,
                (
                    Option("o-classic", "Classic (10 skaters)", default=True),
                    Option("o-deluxe", "Deluxe with pizza (+$85)", Decimal("85")),
                    Option(
                        "o-ultimate",
                        "Ultimate with a Zamboni ride (+$150)",
                        Decimal("150"),
                    ),
                ),
                required=True,
            ),
            Question("q-birthday-name", "Whose birthday is it?", TEXT_INPUT),
        ),
        order_button_text="Plan the party",
    ),
    Product(
        id="p1TNBE",
        venue_id=RINK,
        title="Skate with Santa",
        status="expired",
        price=Decimal("10.00"),
        description="<p>Hot cocoa, carols and a very jolly skater in red.</p>",
        image="skating.svg",
        created="2025-10-01 10:00",
        updated="2025-12-22 18:00",
    ),
    Product(
        id="p2E4o2",
        venue_id=RINK,
        title="Glow Skate Night",
        status="sold_out",
        price=Decimal("16.00"),
        description=(
            "<p>Lights down, glow sticks on, DJ in the booth.</p>"
            "<p><strong>Sold out.</strong> Tickets are not sold at the door.</p>"
        ),
        image="skating.svg",
        created="2025-08-08 20:00",
        updated="2026-11-28 23:00",
        schedule=_weekly(FRIDAY, 20, 0, 120, count=2, spots=(0,)),
    ),
    Product(
        id="p1OSDR",
        venue_id=RINK,
        title="Curling Try-It Night",
        status="inactive",
        price=Decimal("35.00"),
        description=(
            "<p>Sweep, slide and shout &ldquo;hurry hard&rdquo;.</p>"
            "<p><em>Back when the league schedule allows.</em></p>"
        ),
        image="hockey.svg",
        created="2025-09-15 18:00",
        updated="2026-03-01 12:00",
    ),
    Product(
        id="p7T79I",
        venue_id=RINK,
        title="Zamboni Ride-Along",
        status="sold_out",
        price=Decimal("40.00"),
        description=(
            "<p>Ride shotgun while the ice is resurfaced.</p>"
            "<ul><li>Ages 6 and up</li><li>One rider per slot</li></ul>"
        ),
        image="hockey.svg",
        created="2025-11-11 11:11",
        updated="2026-11-26 16:00",
        schedule=_weekly(SATURDAY, 15, 30, 60, count=4, spots=(0,)),
        show_duration=False,
    ),
    # Glacier Point Ice & Climb: the Boulder Barn.
    Product(
        id="p4JzQt",
        venue_id=BARN,
        title="Intro to Bouldering",
        status="active",
        price=Decimal("35.00"),
        description=(
            "<p>Ninety minutes on the walls with a coach: footwork, falling"
            " safely and reading a problem.</p><ul><li>Day pass included</li>"
            "<li>No experience needed</li></ul>"
        ),
        image="climbing.svg",
        created="2025-01-20 17:00",
        updated="2026-11-14 10:30",
        schedule=_weekly(TUESDAY, 18, 0, 90, spots=(8, 8, 0, 5, 8, 8, 8, 8)),
        questions=(
            Question(
                "q-shoe-rental",
                "Shoe rental",
                PRICE_DROPDOWN,
                (
                    Option("o-own-shoes", "I have climbing shoes", default=True),
                    Option("o-rental-shoes", "Rental shoes (+$6)", Decimal("6")),
                ),
                required=True,
            ),
            Question(
                "q-barn-waiver",
                "I have read and accept the climbing waiver",
                CHECKBOX,
                required=True,
            ),
        ),
    ),
    Product(
        id="p8ZPGS",
        venue_id=BARN,
        title="Top Rope Belay Certification",
        status="active",
        price=Decimal("60.00"),
        description=(
            "<p>Learn to tie in, belay and lower. Pass the check at the end"
            " and you can climb the rope walls with a partner.</p>"
        ),
        image="climbing.svg",
        created="2025-02-02 10:00",
        updated="2026-09-30 10:00",
        schedule=_weekly(SATURDAY, 10, 0, 120, spots=(6, 6, 6, 0, 6, 6, 6, 6)),
    ),
    Product(
        id="p7Z4zB",
        venue_id=BARN,
        title="Lead Climbing Clinic",
        status="active",
        price=Decimal("95.00"),
        description=(
            "<p>Clipping, falling and catching falls, on the 15-metre lead"
            " wall.</p><p><strong>Top-rope certification required.</strong></p>"
        ),
        image="climbing.svg",
        created="2025-03-09 10:00",
        updated="2026-10-05 10:00",
        schedule=_weekly(SUNDAY, 10, 0, 120, count=4, spots=(4, 4, 2, 4)),
    ),
    Product(
        id="p3s1ra",
        venue_id=BARN,
        title="Community Climb Night",
        status="active",
        price=Decimal("0.00"),
        description=(
            "<p>Free entry on Friday evenings for first-timers and their"
            " friends.<br>Shoes on us while they last.</p>"
        ),
        image="climbing.svg",
        created="2025-05-02 18:00",
        updated="2026-11-21 18:00",
        schedule=_weekly(FRIDAY, 18, 0, 120),
        order_button_text="Count me in",
    ),
    Product(
        id="p0jP4M",
        venue_id=BARN,
        title="Crack Climbing Workshop",
        status="inactive",
        price=Decimal("85.00"),
        description=(
            "<p>Hand jams, finger locks and how to tape up.</p>"
            "<p><em>Paused while the crack wall is rebuilt.</em></p>"
        ),
        image="climbing.svg",
        created="2025-06-06 10:00",
        updated="2026-05-20 10:00",
    ),
    Product(
        id="p7ZH7F",
        venue_id=BARN,
        title="Kids' Climbing Club",
        status="active",
        price=Decimal("22.00"),
        description=(
            "<p>After-school climbing for ages 7&ndash;12, with games and a snack.</p>"
        ),
        image=None,
        created="2025-08-25 15:00",
        updated="2026-11-01 15:00",
        schedule=_weekly(WEDNESDAY, 16, 30, 60, spots=(10, 10, 10, 10, 10, 0, 10, 10)),
    ),
    Product(
        id="p56mqS",
        venue_id=BARN,
        title="Outdoor Crag Day at Clear Creek",
        status="expired",
        price=Decimal("145.00"),
        description=(
            "<p>A guided day on real rock, transport and gear included.</p>"
            "<ul><li>Season runs May to October</li></ul>"
        ),
        image="climbing.svg",
        created="2025-04-10 08:00",
        updated="2026-10-31 08:00",
    ),
    Product(
        id="p7DGX0",
        venue_id=BARN,
        title="Yoga for Climbers",
        status="active",
        price=Decimal("18.00"),
        description=(
            "<p>Hips, shoulders and fingers: an hour of stretching aimed at the"
            " muscles climbing overworks.</p>"
        ),
        image="climbing.svg",
        created="2025-09-01 07:00",
        updated="2026-11-12 07:00",
        schedule=_weekly(MONDAY, 7, 0, 60, spots=(20,)),
    ),
    Product(
        id="p7ZBJQ",
        venue_id=BARN,
        title="Route Setting 101",
        status="sold_out",
        price=Decimal("80.00"),
        description=(
            "<p>Spend a morning with our setters and put up a problem of your own.</p>"
        ),
        image="climbing.svg",
        created="2025-10-14 09:00",
        updated="2026-11-19 09:00",
        schedule=_weekly(SUNDAY, 9, 0, 120, count=2, spots=(0,)),
    ),
)

REDEEMABLES: tuple[Redeemable, ...] = (
    Coupon(
        "c-101", "WELCOME10", "Welcome to the demo", discount_percentage=Decimal("10")
    ),
    Coupon("c-102", "FIVEOFF", "Five dollars off", discount_fixed=Decimal("5.0")),
    GiftCard("g-201", "GIFT-DEMO-50", Decimal("50.0"), Decimal("32.5")),
    GiftCard("g-202", "USEDUP", Decimal("25.0"), Decimal("0.0")),
)


@dataclass(frozen=True)
class Catalogue:
    """Every demo record, by identifier and by type, and the source data."""

    merchants: Mapping[str, Merchant]
    venues: Mapping[str, Venue]
    products: Mapping[str, Product]
    records: Mapping[Identifier, Record]
    by_type: Mapping[str, tuple[Record, ...]]
    redeemables: Mapping[str, Redeemable]

    def get(self, resource_type: str, resource_id: str) -> Record | None:
        return self.records.get((resource_type, resource_id))

    def redeemable(self, code: str) -> Redeemable | None:
        """The coupon or gift card of a code, compared case-insensitively."""
        return self.redeemables.get(code.strip().upper())

    def tax_percentage(self, product: Product) -> Decimal:
        return Decimal(self.venues[product.venue_id].tax_percentage)


def _region_record(region: Region) -> Record:
    return Record(region.type, region.id, {"name": region.name, "code": region.code})


def _merchant_record(merchant: Merchant) -> Record:
    created = _local(merchant.created, merchant.time_zone)
    updated = _local(merchant.updated, merchant.time_zone)
    return Record(
        type="merchants",
        id=merchant.id,
        attributes={
            "name": merchant.name,
            "time_zone": merchant.time_zone,
            "tax_percentage": merchant.tax_percentage,
            "facebook_page": merchant.facebook_page,
            "created_at": timestamp(created),
            "updated_at": timestamp(updated),
        },
        to_one={
            "business_type": ("business_types", merchant.business_type[0]),
            "currency": ("currencies", CURRENCY[0]),
        },
        images={"profile_picture": StaticImage(merchant.logo, thumb=False)},
        sort_values={
            "name": merchant.name.casefold(),
            "created_at": created,
            "updated_at": updated,
        },
        addressable=True,
    )


def _venue_record(venue: Venue) -> Record:
    created = _local(venue.created, venue.time_zone)
    return Record(
        type="venues",
        id=venue.id,
        attributes={
            "name": venue.name,
            "address": venue.address,
            "city": venue.city,
            "zip": venue.zip,
            "website": venue.website,
            "email": venue.email,
            "phone": venue.phone,
            "time_zone": venue.time_zone,
            "created_at": timestamp(created),
            "updated_at": timestamp(created),
        },
        to_one={
            "country": (USA.type, USA.id),
            "state": (venue.state.type, venue.state.id),
            "merchant": ("merchants", venue.merchant_id),
        },
        private_attributes={"capacity": venue.capacity, "public": True},
        sort_values={
            "name": venue.name.casefold(),
            "city": venue.city.casefold(),
            "created_at": created,
            "updated_at": created,
        },
        addressable=True,
    )


def _question_records(question: Question, position: int) -> list[Record]:
    to_many = {}
    if question.options:
        to_many["attribute_options"] = tuple(
            ("attribute_options", option.id) for option in question.options
        )
    records = [
        Record(
            type="attributes",
            id=question.id,
            attributes={
                "title": question.title,
                "position": position,
                "required": question.required,
                "parameters": {},
            },
            to_one={"field_type": ("field_types", question.field_type)},
            to_many=to_many,
        )
    ]
    for position, option in enumerate(question.options):
        records.append(
            Record(
                type="attribute_options",
                id=option.id,
                attributes={
                    "title": option.title,
                    "position": position,
                    "default": option.default,
                    "parameters": (
                        {"price": float(option.price)} if question.is_priced else {}
                    ),
                },
            )
        )
    return records


def _product_record(product: Product, venue: Venue, merchant: Merchant) -> Record:
    created = _local(product.created, venue.time_zone)
    updated = _local(product.updated, venue.time_zone)
    attributes: dict[str, Any] = {
        "title": product.title,
        "description": product.description,
        "status": product.status,
        "image": None,
        "tax_percentage": venue.tax_percentage,
        "order_button_text": product.order_button_text,
        "post_transactional_message": product.post_transactional_message,
        "show_occurrence_availability": product.show_availability,
        "show_time_slot_duration": product.show_duration,
        "closing_time_relative": True,
        # The API's way of saying "two hours before": a duration since the
        # start of 2000-01-01.
        "time_slots_closed_before": "2000-01-01T02:00:00.000Z",
        "sells_sessions": product.sells_sessions,
        "free": product.price == 0,
        "has_time_slots": product.schedule is not None,
        "has_redeemables": True,
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
        "widget_contact_title": "About you",
        "widget_payment_title": "Payment",
        "widget_total_due_title": "Total due",
    }
    # The two merchants were set up at different times: the clay studio's
    # products carry the older names of two section titles, the others the
    # newer ones, as real accounts do.
    if merchant.id == KILN:
        attributes["widget_occurrences_title"] = "Pick a date"
        attributes["widget_attributes_title"] = "A few questions"
    else:
        attributes["widget_time_slots_title"] = "Choose a session"
        attributes["widget_questions_title"] = "Before you come"
    to_many = {}
    if product.questions:
        to_many["attributes"] = tuple(
            ("attributes", question.id) for question in product.questions
        )
    return Record(
        type="products",
        id=product.id,
        attributes=attributes,
        to_one={
            "merchant": ("merchants", merchant.id),
            "venue": ("venues", venue.id),
        },
        to_many=to_many,
        private_attributes={
            "email_subject": f"Your booking at {merchant.name}: {product.title}",
            "from_name": merchant.name,
        },
        images={"image": StaticImage(product.image)} if product.image else {},
        sort_values={
            "title": product.title.casefold(),
            "status": product.status,
            "created_at": created,
            "updated_at": updated,
        },
        addressable=True,
    )


def _build() -> Catalogue:
    merchants = {merchant.id: merchant for merchant in MERCHANTS}
    venues = {venue.id: venue for venue in VENUES}
    products = {product.id: product for product in PRODUCTS}
    records: list[Record] = [
        _region_record(USA),
        _region_record(MINNESOTA),
        _region_record(COLORADO),
        Record("currencies", CURRENCY[0], {"name": CURRENCY[1], "code": CURRENCY[2]}),
    ]
    records.extend(
        Record(type="field_types", id=field_type_id, attributes=attributes)
        for field_type_id, attributes in FIELD_TYPES.items()
    )
    for merchant in MERCHANTS:
        business_type_id, business_type_name = merchant.business_type
        records.append(
            Record("business_types", business_type_id, {"name": business_type_name})
        )
        records.append(_merchant_record(merchant))
    records.extend(_venue_record(venue) for venue in VENUES)
    for product in PRODUCTS:
        venue = venues[product.venue_id]
        records.append(_product_record(product, venue, merchants[venue.merchant_id]))
        for position, question in enumerate(product.questions):
            records.extend(_question_records(question, position))
    by_type: dict[str, list[Record]] = {}
    for record in records:
        by_type.setdefault(record.type, []).append(record)
    return Catalogue(
        merchants=merchants,
        venues=venues,
        products=products,
        records={record.identifier: record for record in records},
        by_type={name: tuple(found) for name, found in by_type.items()},
        redeemables={item.code.upper(): item for item in REDEEMABLES},
    )


@functools.cache
def catalogue() -> Catalogue:
    """The demo catalogue, built on first use and shared afterwards."""
    return _build()


@functools.lru_cache(maxsize=128)
def time_slots(product_id: str, today: date) -> tuple[TimeSlot, ...]:
    """Every slot of a product, laid out from ``today``, in start order.

    A slot's id holds its local start time, so it names the same slot on
    every day it is listed and a cursor stays valid across midnight.
    """
    data = catalogue()
    product = data.products.get(product_id)
    if product is None or product.schedule is None:
        return ()
    schedule = product.schedule
    time_zone = data.venues[product.venue_id].time_zone
    zone = ZoneInfo(time_zone)
    slots = []
    for number, day in enumerate(schedule.days(today)):
        starts_at = datetime.combine(day, schedule.at, tzinfo=zone)
        slots.append(
            TimeSlot(
                id=f"ts-{product.id}-{starts_at:%Y%m%d%H%M}",
                product_id=product.id,
                starts_at=starts_at,
                duration=schedule.duration,
                spots_available=schedule.spots[number % len(schedule.spots)],
                time_zone=time_zone,
            )
        )
    return tuple(slots)
