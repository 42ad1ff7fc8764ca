"""Seeded synthetic omnichannel data with ground truth, for testing identity resolution.

:func:`generate` invents customers (:class:`Person`) and streams what they leave behind on
every channel as omnichannel :class:`~omnichannel.Interaction` values, in time order: a
WhatsApp message shows a phone and a profile name, an email an address and a display name,
a store receipt a loyalty card, a web order an email, a name and an address. The same seed
gives the same output, byte for byte.

Real data is messy, and so is this (each kind of noise has a rate in
:class:`NoiseSettings`): phone numbers in national, international and ``00`` formats, email
addresses with changed case, gmail dots, ``+tags`` and googlemail.com, names with typos,
dropped diacritics, transliteration variants and nicknames, households sharing one phone,
namesakes, role mailboxes shared by a small business, phone numbers recycled to a new
owner, placeholder values typed at the till.

The ground truth says who is behind every interaction: ``dataset.truth[(channel,
source_id)]`` is a person id. :func:`pair_metrics` scores a resolver's assignment against
it; :func:`records` gives a CRM-export view of the same people for batch deduplication.

Example::

    dataset = generate(1_000, seed=7)
    hub = Hub(store=MemoryStore())
    stored = {}
    for interaction in dataset.interactions:
        stored[(interaction.channel, interaction.source_id)] = hub.ingest(interaction).profile_id
    live = {profile_id: hub.profile(profile_id).id for profile_id in set(stored.values())}
    assignment = {key: live[profile_id] for key, profile_id in stored.items()}  # after merges
    print(pair_metrics(assignment, dataset.truth))

Interactions are made as they are read: each person has one pending entry (their next
interaction, in the bucket of its day), so memory grows with the number of people and not
with the number of interactions. People are kept as compact records and built as
:class:`Person` when read. Source ids are a keyed permutation of (person, ordinal,
channel), so the truth mapping needs no table either.

Identifiers are built from the normal form the generator already knows (it formatted the
number, it spelled the mailbox); ``generate(check_identifiers=True)`` builds each through
``Identifier.phone/email/handle/external`` instead, with identical output.
"""

# ruff: noqa: RUF001 - Cyrillic names and texts are data
from __future__ import annotations

import hashlib
import heapq
import math
import random
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from statistics import NormalDist
from typing import Literal, NamedTuple, TypeAlias, TypeVar, overload

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from omnichannel._errors import InvalidValueError
from omnichannel._model import (
    Channel,
    ContactCardPart,
    ContentPart,
    Direction,
    Identifier,
    IdentifierKind,
    Interaction,
    InteractionKind,
    OrderRefPart,
    TextPart,
    utc,
)
from omnichannel._normalize import (
    DOT_INSENSITIVE_EMAIL_DOMAINS,
    normalize_phone,
)

__all__ = [
    "GroundTruth",
    "Metrics",
    "NoiseSettings",
    "Person",
    "PhoneTenure",
    "SyntheticDataset",
    "generate",
    "pair_metrics",
    "records",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_K = TypeVar("_K", bound=Hashable)

_DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_ORDINAL = 1 << 12  # interactions per person (12 bits of the source id plaintext)
_MAX_PEOPLE = 1 << 24  # people (24 bits)


# --- public models -----------------------------------------------------------------------


class NoiseSettings(BaseModel):
    """How messy the generated data is: each field is a rate in [0, 1]; 0 turns it off.

    Person-level rates are shares of all people (``household=0.12``: 12% of people live in
    a household that shares a phone). The others apply per observation, as noted.

    Attributes:
        phone_format: share of phone numbers written other than in E.164 (national with
            spaces, dashes or parentheses, with or without the trunk 0, ``00``-prefixed,
            international with spaces). National formats appear only on channels that know
            the region (SMS gateway, call records, tills, web forms); WhatsApp always shows
            E.164.
        email_variant: share of email addresses written differently from how the person
            registered them: changed case; on gmail also dots, a ``+tag`` or googlemail.com.
        name_typo: share of written names with a one-character slip (substitution,
            deletion, doubled letter, transposition).
        diacritics_dropped: share of names with diacritics written without them (Łukasz ->
            Lukasz, Müller -> Mueller or Muller, Hélène -> Helene).
        transliteration: share of names with transliteration variants written in another
            one (Oleksandr -> Aleksandr or Alexander; Telegram also shows Cyrillic).
        nickname: share of informal contexts (messengers, chats) showing a nickname
            (Małgorzata -> Gosia).
        household: share of people living in a household of 2-4 that shares one landline
            or family mobile (same surname and address, different first names).
        namesake: share of people with the same common full name as another person
            (sometimes in the same city), with their own birth date and contacts.
        role_mailbox: share of people working in a small business whose role mailbox
            (``biuro@``, ``info@``, ``contact@``) several of them use.
        recycled_number: share of people whose mobile number is later given to a new
            customer (they move to a new number on that date).
        foreign_phone: share of people living abroad (Ukrainians in Poland ...) with a
            phone number of their home country.
        placeholder: share of store records carrying a placeholder (loyalty card
            ``000000``, ``test@test.com``, ``noreply@shop.example``).
        address_variant: share of addresses and cities written differently in CRM
            records (abbreviations, exonyms such as Warsaw for Warszawa).
        missing_value: share of CRM record fields left empty.
    """

    model_config = _FROZEN
    phone_format: float = Field(default=0.5, ge=0, le=1)
    email_variant: float = Field(default=0.25, ge=0, le=1)
    name_typo: float = Field(default=0.04, ge=0, le=1)
    diacritics_dropped: float = Field(default=0.35, ge=0, le=1)
    transliteration: float = Field(default=0.5, ge=0, le=1)
    nickname: float = Field(default=0.1, ge=0, le=1)
    household: float = Field(default=0.12, ge=0, le=1)
    namesake: float = Field(default=0.04, ge=0, le=1)
    role_mailbox: float = Field(default=0.03, ge=0, le=1)
    recycled_number: float = Field(default=0.01, ge=0, le=1)
    foreign_phone: float = Field(default=0.04, ge=0, le=1)
    placeholder: float = Field(default=0.05, ge=0, le=1)
    address_variant: float = Field(default=0.2, ge=0, le=1)
    missing_value: float = Field(default=0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _check_shares(self) -> NoiseSettings:
        total = self.household + self.namesake + self.role_mailbox + 2 * self.recycled_number
        if total > 1:
            raise ValueError(
                "household + namesake + role_mailbox + 2 * recycled_number must not exceed 1"
            )
        return self

    @classmethod
    def none(cls) -> NoiseSettings:
        """Clean data: every rate 0."""
        return cls(**dict.fromkeys(cls.model_fields, 0.0))


class PhoneTenure(BaseModel):
    """A phone number a person uses, and when.

    Attributes:
        number: the number in E.164.
        region: the region the number belongs to (``"PL"``).
        line: ``"mobile"`` or ``"landline"``.
        is_shared: True for a household's phone, used by all its members.
        since: the person uses it from this moment on (None: from the start).
        until: the person stops using it at this moment (None: to the end).
    """

    model_config = _FROZEN
    number: str
    region: str
    line: Literal["mobile", "landline"]
    is_shared: bool = False
    since: datetime | None = None
    until: datetime | None = None


class Person(BaseModel):
    """One synthetic customer: the ground truth behind their interactions.

    Attributes:
        person_id: the ground-truth id (``"P0000042"``).
        first_name: the given name as registered (with diacritics).
        surname: the family name (Polish surnames in their gendered form).
        gender: ``"female"`` or ``"male"``.
        birth_date: date of birth.
        language: the language they write in (``"pl"``, ``"de"``, ``"en"``, ``"uk"``,
            ``"fr"``).
        country: where they live (ISO 3166-1 alpha-2); the shop's country for them.
        address: street address.
        postcode: postal code.
        city: city.
        phones: the numbers they use, with when.
        emails: their addresses as they registered them, personal first, then the role
            mailbox of their business if any.
        handles: their Telegram id and username, their web-chat visitor ids.
        loyalty_card: their loyalty card number, if they have one.
        household_id: the household they share a phone with, if any.
        business_id: the small business whose role mailbox they use, if any.
        namesake_group: the group of people sharing their full name, if any.
        active_from: their first interaction is not earlier than this.
    """

    model_config = _FROZEN
    person_id: str
    first_name: str
    surname: str
    gender: Literal["female", "male"]
    birth_date: date
    language: str
    country: str
    address: str
    postcode: str
    city: str
    phones: tuple[PhoneTenure, ...] = ()
    emails: tuple[str, ...] = ()
    handles: tuple[Identifier, ...] = ()
    loyalty_card: str | None = None
    household_id: str | None = None
    business_id: str | None = None
    namesake_group: str | None = None
    active_from: datetime


class Metrics(BaseModel):
    """Pairwise quality of a resolution against the ground truth.

    Every unordered pair of interactions is either put in one profile or not, and either
    belongs to one person or not.

    Attributes:
        interactions: interactions counted.
        pairs: all unordered pairs of them.
        same_person_pairs: pairs that belong to one person.
        same_profile_pairs: pairs the resolution put in one profile.
        correct_pairs: pairs of one person put in one profile.
        over_merged_pairs: pairs of different people put in one profile.
        under_merged_pairs: pairs of one person left in different profiles.
        over_merge_rate: over-merged pairs / pairs of different people (0 is best).
        under_merge_rate: under-merged pairs / pairs of one person (0 is best).
        precision: correct pairs / same-profile pairs (1 when there are none).
        recall: correct pairs / same-person pairs (1 when there are none).
        f1: the harmonic mean of precision and recall.
    """

    model_config = _FROZEN
    interactions: int
    pairs: int
    same_person_pairs: int
    same_profile_pairs: int
    correct_pairs: int
    over_merged_pairs: int
    under_merged_pairs: int
    over_merge_rate: float = Field(ge=0, le=1)
    under_merge_rate: float = Field(ge=0, le=1)
    precision: float = Field(ge=0, le=1)
    recall: float = Field(ge=0, le=1)
    f1: float = Field(ge=0, le=1)


def pair_metrics(assignment: Mapping[_K, Hashable], truth: Mapping[_K, Hashable]) -> Metrics:
    """Score ``assignment`` (interaction key -> profile id) against ``truth`` (-> person id).

    Counts come from the contingency table of profiles and people, in one pass over
    ``assignment``: no pair is enumerated. Only the keys of ``assignment`` are counted;
    give every interaction a profile (a singleton profile when it stayed unresolved).
    Keys are whatever both mappings share: ``(channel, source_id)`` for
    :attr:`SyntheticDataset.truth`, a record id for :func:`records`.

    Raises:
        InvalidValueError: a key of ``assignment`` is not in ``truth``.
    """
    cells: Counter[tuple[Hashable, Hashable]] = Counter()
    for key, profile in assignment.items():
        try:
            person = truth[key]
        except KeyError:
            raise InvalidValueError(
                "assignment", key, "is not an interaction of the ground truth", mask=False
            ) from None
        cells[(profile, person)] += 1
    profiles: Counter[Hashable] = Counter()
    people: Counter[Hashable] = Counter()
    correct = 0
    for (profile, person), size in cells.items():
        profiles[profile] += size
        people[person] += size
        correct += size * (size - 1) // 2
    total = sum(profiles.values())
    pairs = total * (total - 1) // 2
    same_profile = sum(n * (n - 1) // 2 for n in profiles.values())
    same_person = sum(n * (n - 1) // 2 for n in people.values())
    over = same_profile - correct
    under = same_person - correct
    different_person = pairs - same_person
    precision = correct / same_profile if same_profile else 1.0
    recall = correct / same_person if same_person else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(
        interactions=total,
        pairs=pairs,
        same_person_pairs=same_person,
        same_profile_pairs=same_profile,
        correct_pairs=correct,
        over_merged_pairs=over,
        under_merged_pairs=under,
        over_merge_rate=over / different_person if different_person else 0.0,
        under_merge_rate=under / same_person if same_person else 0.0,
        precision=precision,
        recall=recall,
        f1=f1,
    )


# --- reference data ----------------------------------------------------------------------


class _Name(NamedTuple):
    canonical: str
    variants: tuple[str, ...] = ()  # other spellings: transliterations
    nicknames: tuple[str, ...] = ()
    cyrillic: str | None = None


def _n(canonical: str, *nicknames: str) -> _Name:
    return _Name(canonical, (), nicknames)


def _t(canonical: str, variants: str, cyrillic: str, nicknames: str = "") -> _Name:
    return _Name(canonical, tuple(variants.split()), tuple(nicknames.split()), cyrillic)


def _names(text: str) -> tuple[_Name, ...]:
    """``"Jan:Janek Anna:Ania:Anka Ewa"`` -> names with nicknames."""
    return tuple(_n(*item.split(":")) for item in text.split())


_FIRST_NAMES: dict[str, dict[str, tuple[_Name, ...]]] = {
    "PL": {
        "male": _names(
            "Piotr:Piotrek Krzysztof:Krzysiek Andrzej:Jędrek Tomasz:Tomek Jan:Janek "
            "Paweł Michał Marcin Łukasz Grzegorz:Grzesiek Adam Wojciech:Wojtek "
            "Mateusz:Mati Jakub:Kuba Marek Stanisław:Staszek Aleksander:Olek Kamil "
            "Dariusz:Darek Zbigniew:Zbyszek Jerzy:Jurek Józef:Józek"
        ),
        "female": _names(
            "Anna:Ania Katarzyna:Kasia Maria:Marysia Małgorzata:Gosia Agnieszka:Aga "
            "Barbara:Basia Ewa Krystyna:Krysia Magdalena:Magda Elżbieta:Ela Joanna:Asia "
            "Aleksandra:Ola Zofia:Zosia Monika Beata Dorota Jolanta:Jola Natalia "
            "Weronika:Wera Łucja Grażyna Bożena"
        ),
    },
    "DE": {
        "male": _names(
            "Thomas:Tom Michael:Micha Andreas:Andi Stefan Christian:Chris Alexander:Alex "
            "Markus Daniel:Dani Jürgen Wolfgang:Wolfi Klaus Uwe Jörg Frank Matthias:Matze "
            "Sebastian:Basti Johannes:Hannes Lukas Maximilian:Max Günter"
        ),
        "female": _names(
            "Sabine Susanne:Susi Petra Claudia Andrea Stefanie:Steffi Katharina:Kathi "
            "Julia:Jule Anna:Anni Monika Birgit Jana Lena Sophie Jessica:Jessi Nicole "
            "Ursula:Uschi Brigitte:Gitte Lea Marie Bärbel Hannelore"
        ),
    },
    "GB": {
        "male": _names(
            "James:Jim:Jamie John:Johnny David:Dave Robert:Rob:Bob Michael:Mike "
            "William:Will:Bill Richard:Rich Thomas:Tom Christopher:Chris Daniel:Dan "
            "Matthew:Matt Andrew:Andy Paul Mark Steven:Steve Oliver:Ollie Harry George "
            "Jack Samuel:Sam"
        ),
        "female": _names(
            "Sarah Emma Olivia:Liv Sophie Jessica:Jess Emily:Em Charlotte:Lottie "
            "Elizabeth:Liz:Beth Margaret:Maggie Catherine:Kate:Cathy Rebecca:Becky Laura "
            "Hannah Lucy Amy Rachel Victoria:Vicky Alice Grace Jennifer:Jen"
        ),
    },
    "US": {
        "male": _names(
            "Michael:Mike James:Jim John Robert:Bob David:Dave William:Bill Richard:Rick "
            "Joseph:Joe Thomas:Tom Christopher:Chris Charles:Charlie:Chuck Daniel:Dan "
            "Matthew:Matt Anthony:Tony Mark Steven:Steve Joshua:Josh Kevin Brian José"
        ),
        "female": _names(
            "Mary Patricia:Pat:Patty Jennifer:Jen:Jenny Linda Elizabeth:Liz:Beth "
            "Barbara:Barb Susan:Sue Jessica:Jess Sarah Karen Lisa Nancy Betty Sandra:Sandy "
            "Ashley Kimberly:Kim Emily Donna Michelle María"
        ),
    },
    "FR": {
        "male": _names(
            "Jean Pierre:Pierrot Michel Philippe:Phil Alain Nicolas:Nico François Julien "
            "Frédéric:Fred Sébastien:Seb Stéphane:Steph Christophe Laurent Olivier Jérôme "
            "Thomas Antoine Benoît Raphaël:Raph Théo"
        ),
        "female": _names(
            "Marie Nathalie:Nath Isabelle:Isa Sylvie Catherine:Cathy Françoise Christine "
            "Sandrine Céline Valérie:Val Sophie Stéphanie:Steph Hélène Camille Léa Chloé "
            "Manon Amélie Zoé Élodie"
        ),
    },
    "UA": {
        "male": (
            _t("Oleksandr", "Aleksandr Alexander Alexandr Olexandr", "Олександр", "Sasha Sashko"),
            _t("Serhii", "Sergey Sergei Serhiy Sergiy", "Сергій"),
            _t("Dmytro", "Dmitry Dmitriy Dmitro", "Дмитро", "Dima"),
            _t("Andrii", "Andriy Andrey Andrei", "Андрій"),
            _t("Mykola", "Nikolai Nikolay Mikola", "Микола", "Kolia"),
            _t("Volodymyr", "Vladimir Volodimir", "Володимир", "Vova"),
            _t("Yevhen", "Evgeny Yevgeniy Evgen Ievgen", "Євген", "Zhenia"),
            _t("Maksym", "Maxim Maksim", "Максим", "Max"),
            _t("Ivan", "Iwan", "Іван", "Vania"),
            _t("Vitalii", "Vitaliy Vitaly", "Віталій"),
            _t("Yurii", "Yuriy Yuri Iurii", "Юрій", "Yura"),
            _t("Taras", "", "Тарас"),
            _t("Bohdan", "Bogdan", "Богдан"),
            _t("Oleh", "Oleg", "Олег"),
            _t("Pavlo", "Pavel", "Павло", "Pasha"),
        ),
        "female": (
            _t("Olena", "Elena Yelena Helena", "Олена", "Lena"),
            _t("Yuliia", "Yulia Iuliia Julia Yuliya", "Юлія"),
            _t("Nataliia", "Natalia Natalya Nataliya", "Наталія", "Natasha"),
            _t("Iryna", "Irina", "Ірина", "Ira"),
            _t("Tetiana", "Tatiana Tetyana Tatyana", "Тетяна", "Tania"),
            _t("Kateryna", "Ekaterina Katerina Yekaterina", "Катерина", "Katia"),
            _t("Oksana", "", "Оксана"),
            _t("Svitlana", "Svetlana", "Світлана", "Sveta"),
            _t("Viktoriia", "Viktoria Victoria Viktoriya", "Вікторія", "Vika"),
            _t("Anastasiia", "Anastasia Anastasiya", "Анастасія", "Nastia"),
            _t("Mariia", "Maria Mariya", "Марія"),
            _t("Halyna", "Galina Halina", "Галина", "Halia"),
            _t("Liudmyla", "Lyudmila Ludmila", "Людмила", "Liuda"),
            _t("Anna", "Hanna Ganna", "Анна"),
            _t("Daryna", "Darina", "Дарина"),
        ),
    },
}

_SURNAMES: dict[str, tuple[_Name, ...]] = {
    "PL": _names(
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
        "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk "
        "Kaczmarek Piotrowski Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński "
        "Wróbel Nowakowski Majewski Olszewski Stępień Jaworski Malinowski Dudek Górski "
        "Sikora Baran Ostrowski Pietrzak Zawadzki Czarnecki Sokołowski Kołodziej "
        "Ziółkowski Przybylski Włodarczyk"
    ),
    "DE": _names(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
        "Hofmann Hartmann Lange Werner Krause Lehmann Köhler Herrmann König Walter Huber "
        "Kaiser Fuchs Peters Möller Weiß Jung Hahn Vogel Günther Jäger Groß Böhm"
    ),
    "GB": _names(
        "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts "
        "Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris "
        "Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark King "
        "Baker Harrison Morgan Allen Scott O'Brien"
    ),
    "US": _names(
        "Smith Johnson Williams Brown Jones García Miller Davis Rodríguez Martínez "
        "Hernández López González Wilson Anderson Thomas Taylor Moore Jackson Martin Lee "
        "Pérez Thompson White Harris Sánchez Clark Ramírez Lewis Robinson Walker Young "
        "Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker"
    ),
    "FR": _names(
        "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon "
        "Michel Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont "
        "Lambert Fontaine Rousseau Vincent Lefèvre Faure André Mercier Blanc Guérin "
        "Boyer Garnier Chevalier Gauthier Perrin Clément Noël Rivière Ménard Prévost"
    ),
    "UA": (
        _t("Shevchenko", "Szewczenko Schewtschenko", "Шевченко"),
        _t("Kovalenko", "Kowalenko", "Коваленко"),
        _t("Bondarenko", "", "Бондаренко"),
        _t("Tkachenko", "Tkaczenko Tkatschenko", "Ткаченко"),
        _t("Kravchenko", "Krawczenko", "Кравченко"),
        _t("Melnyk", "Melnik Melnyk", "Мельник"),
        _t("Boiko", "Boyko Bojko", "Бойко"),
        _t("Kovalchuk", "Kowalczuk Kovaltchuk", "Ковальчук"),
        _t("Oliinyk", "Oliynyk Oleinik Olijnyk", "Олійник"),
        _t("Lysenko", "Lisenko", "Лисенко"),
        _t("Moroz", "", "Мороз"),
        _t("Marchenko", "Marczenko", "Марченко"),
        _t("Savchenko", "Sawczenko", "Савченко"),
        _t("Rudenko", "", "Руденко"),
        _t("Petrenko", "", "Петренко"),
        _t("Klymenko", "Klimenko", "Клименко"),
        _t("Pavlenko", "Pawlenko", "Павленко"),
        _t("Levchenko", "Lewczenko", "Левченко"),
        _t("Kuzmenko", "Kuzmienko", "Кузьменко"),
        _t("Kharchenko", "Harchenko Charczenko", "Харченко"),
        _t("Savchuk", "Sawczuk", "Савчук"),
        _t("Polishchuk", "Polischuk Poliszczuk", "Поліщук"),
        _t("Tkachuk", "Tkaczuk", "Ткачук"),
    ),
}

#: Common full names given to namesakes: (gender, first name, masculine surname).
_COMMON_NAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "PL": (
        ("female", "Anna", "Nowak"),
        ("male", "Piotr", "Kowalski"),
        ("female", "Katarzyna", "Wiśniewski"),
        ("male", "Tomasz", "Wójcik"),
        ("female", "Małgorzata", "Kowalczyk"),
    ),
    "DE": (
        ("male", "Thomas", "Müller"),
        ("female", "Julia", "Schmidt"),
        ("male", "Michael", "Schneider"),
        ("female", "Sabine", "Fischer"),
    ),
    "GB": (
        ("male", "John", "Smith"),
        ("female", "Sarah", "Jones"),
        ("male", "David", "Williams"),
        ("female", "Emma", "Taylor"),
    ),
    "US": (
        ("male", "Michael", "Johnson"),
        ("female", "Jennifer", "Smith"),
        ("male", "James", "Brown"),
        ("female", "Mary", "Williams"),
    ),
    "FR": (
        ("female", "Marie", "Martin"),
        ("male", "Jean", "Bernard"),
        ("female", "Nathalie", "Dubois"),
        ("male", "Frédéric", "Moreau"),
    ),
    "UA": (
        ("male", "Oleksandr", "Shevchenko"),
        ("female", "Olena", "Kovalenko"),
        ("male", "Andrii", "Bondarenko"),
        ("female", "Yuliia", "Melnyk"),
    ),
}


class _Country(NamedTuple):
    language: str
    currency: str
    price_median: float
    cities: tuple[tuple[str, tuple[str, ...]], ...]  # (city, postcode prefixes)
    streets: tuple[str, ...]
    email_domains: tuple[str, ...]
    email_weights: tuple[int, ...]
    role_locals: tuple[str, ...]
    tld: str
    business_names: tuple[str, ...]  # formats of a surname {s}
    origins: tuple[str, ...]  # where people living here with a foreign phone come from


def _country(
    language: str,
    currency: str,
    price_median: float,
    *,
    cities: str,
    streets: str,
    domains: str,
    roles: str,
    tld: str,
    businesses: str,
    origins: str,
) -> _Country:
    """A country from compact text: lists split on ``|`` (cities ``name:prefix,prefix``)."""
    city_list = tuple(
        (name, tuple(prefixes.split(",")))
        for name, prefixes in (item.split(":") for item in cities.split("|"))
    )
    domain_list = [item.split(":") for item in domains.split()]
    return _Country(
        language,
        currency,
        price_median,
        city_list,
        tuple(streets.split("|")),
        tuple(domain for domain, _ in domain_list),
        tuple(int(weight) for _, weight in domain_list),
        tuple(roles.split()),
        tld,
        tuple(businesses.split("|")),
        tuple(origins.split()),
    )


_COUNTRIES: dict[str, _Country] = {
    "PL": _country(
        "pl",
        "PLN",
        180.0,
        cities="Warszawa:00,01,02,03,04|Kraków:30,31|Łódź:90,91,92,93|Wrocław:50,51,52,53"
        "|Poznań:60,61|Gdańsk:80|Szczecin:70,71|Lublin:20|Białystok:15|Katowice:40",
        streets="Długa|Polna|Leśna|Słoneczna|Ogrodowa|Lipowa|Kwiatowa|Szkolna|Mickiewicza"
        "|Kościuszki|Sienkiewicza|Piłsudskiego|Żeromskiego|Marszałkowska|Grunwaldzka"
        "|Łąkowa|Źródlana|Kolejowa",
        domains="gmail.com:40 wp.pl:20 onet.pl:12 o2.pl:10 interia.pl:10 outlook.com:8",
        roles="biuro kontakt sekretariat info",
        tld="pl",
        businesses="{s} Serwis|Kancelaria {s}|{s} Transport|Studio {s}",
        origins="UA UA UA DE GB",
    ),
    "DE": _country(
        "de",
        "EUR",
        45.0,
        cities="Berlin:10,12,13|Hamburg:20,21,22|München:80,81|Köln:50,51"
        "|Frankfurt am Main:60|Stuttgart:70|Düsseldorf:40|Leipzig:04|Dortmund:44|Nürnberg:90",
        streets="Hauptstraße|Bahnhofstraße|Schulstraße|Gartenstraße|Dorfstraße|Lindenstraße"
        "|Bergstraße|Kirchstraße|Waldstraße|Goethestraße|Schillerstraße|Mühlenweg|Birkenweg"
        "|Am Markt",
        domains="gmail.com:30 gmx.de:25 web.de:25 t-online.de:12 outlook.de:8",
        roles="info kontakt office",
        tld="de",
        businesses="{s} GmbH|{s} & Partner|Praxis {s}|{s} Elektro",
        origins="PL UA FR GB",
    ),
    "GB": _country(
        "en",
        "GBP",
        40.0,
        cities="London:SW,SE,N,NW,E,W|Manchester:M|Birmingham:B|Leeds:LS|Glasgow:G"
        "|Bristol:BS|Liverpool:L|Edinburgh:EH",
        streets="High Street|Station Road|Church Lane|Victoria Road|Green Lane|Manor Road"
        "|Park Road|Queen's Road|Kings Road|Mill Lane",
        domains="gmail.com:40 outlook.com:15 hotmail.co.uk:15 yahoo.co.uk:10 btinternet.com:10"
        " icloud.com:10",
        roles="info office hello enquiries",
        tld="co.uk",
        businesses="{s} & Sons|{s} Consulting|{s} Ltd|{s} Plumbing",
        origins="PL FR DE US UA",
    ),
    "UA": _country(
        "uk",
        "UAH",
        1200.0,
        cities="Kyiv:01,02,03,04|Lviv:79|Kharkiv:61|Odesa:65|Dnipro:49|Zaporizhzhia:69"
        "|Vinnytsia:21",
        streets="vul. Khreshchatyk|vul. Shevchenka|vul. Franka|vul. Lesi Ukrainky"
        "|vul. Hrushevskoho|vul. Sadova|vul. Zelena|vul. Soborna|prosp. Nezalezhnosti"
        "|prosp. Peremohy",
        domains="gmail.com:55 ukr.net:30 i.ua:10 meta.ua:5",
        roles="info office",
        tld="com.ua",
        businesses="{s} Group|TOV {s}|{s} Service",
        origins="PL",
    ),
    "US": _country(
        "en",
        "USD",
        50.0,
        cities="New York:100,101,102|Los Angeles:900|Chicago:606|Houston:770|Phoenix:850"
        "|Philadelphia:191|San Antonio:782|San Diego:921|Dallas:752|Seattle:981",
        streets="Main Street|Oak Street|Maple Avenue|Cedar Lane|Elm Street|Washington Avenue"
        "|Lake Drive|Pine Street|Park Avenue|Sunset Boulevard",
        domains="gmail.com:45 yahoo.com:20 outlook.com:10 hotmail.com:10 icloud.com:10 aol.com:5",
        roles="info office contact hello",
        tld="com",
        businesses="{s} & Sons|{s} Consulting|{s} Landscaping|{s} Dental",
        origins="GB FR DE PL",
    ),
    "FR": _country(
        "fr",
        "EUR",
        45.0,
        cities="Paris:750|Marseille:130|Lyon:690|Toulouse:310|Nice:060|Nantes:440"
        "|Strasbourg:670|Montpellier:340|Bordeaux:330|Lille:590",
        streets="rue de la Paix|rue Victor Hugo|avenue Jean Jaurès|rue de la République"
        "|boulevard Voltaire|rue Pasteur|place de l'Église|rue des Écoles|chemin des Vignes"
        "|allée des Tilleuls",
        domains="gmail.com:35 orange.fr:20 free.fr:15 hotmail.fr:10 laposte.net:10 sfr.fr:10",
        roles="contact info",
        tld="fr",
        businesses="Cabinet {s}|{s} et Fils|Boulangerie {s}|{s} Conseil",
        origins="PL DE GB UA",
    ),
}

_EXONYMS = {
    "Warszawa": "Warsaw",
    "Kraków": "Cracow",
    "München": "Munich",
    "Köln": "Cologne",
    "Nürnberg": "Nuremberg",
    "Kyiv": "Kiev",
    "Odesa": "Odessa",
    "Kharkiv": "Kharkov",
    "Lviv": "Lvov",
}
_ABBREVIATIONS = (
    ("straße", "str."),
    ("Straße", "Str."),
    (" Street", " St"),
    (" Road", " Rd"),
    (" Avenue", " Ave"),
    (" Lane", " Ln"),
    ("boulevard ", "bd "),
    ("avenue ", "av. "),
    ("vul. ", "vulytsia "),
    ("prosp. ", "prospekt "),
)

_TEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (inbound, outbound)
    "pl": (
        (
            "Dzień dobry, kiedy dotrze moje zamówienie {order}?",
            "Czy ten model jest dostępny w rozmiarze {size}?",
            "Chcę zwrócić zamówienie {order}, jak to zrobić?",
            "Dziękuję, wszystko w porządku!",
            "Czy mogę odebrać zamówienie w sklepie w {city}?",
            "Paczka doszła uszkodzona, co teraz?",
            "Jakie są godziny otwarcia w sobotę?",
            "Proszę o fakturę do zamówienia {order}.",
        ),
        (
            "Twoje zamówienie {order} jest gotowe do odbioru.",
            "Dziękujemy za wiadomość, odpowiemy najszybciej jak to możliwe.",
            "Zwrot zamówienia {order} został przyjęty.",
        ),
    ),
    "de": (
        (
            "Guten Tag, wann kommt meine Bestellung {order}?",
            "Haben Sie das auch in Größe {size}?",
            "Ich möchte die Bestellung {order} zurückgeben.",
            "Vielen Dank, alles bestens!",
            "Kann ich die Bestellung in der Filiale {city} abholen?",
            "Das Paket kam beschädigt an.",
            "Wie lange haben Sie am Samstag geöffnet?",
            "Bitte schicken Sie mir die Rechnung zu {order}.",
        ),
        (
            "Ihre Bestellung {order} liegt zur Abholung bereit.",
            "Danke für Ihre Nachricht, wir melden uns so schnell wie möglich.",
            "Ihre Rücksendung zu {order} ist eingegangen.",
        ),
    ),
    "en": (
        (
            "Hi, when will my order {order} arrive?",
            "Do you have this in size {size}?",
            "I'd like to return order {order}.",
            "Thanks, all sorted!",
            "Can I collect my order at the {city} store?",
            "My parcel arrived damaged, what now?",
            "What are your opening hours on Saturday?",
            "Could you send me the invoice for {order}?",
        ),
        (
            "Your order {order} is ready for collection.",
            "Thanks for your message, we'll get back to you shortly.",
            "We've received your return for order {order}.",
        ),
    ),
    "uk": (
        (
            "Добрий день, коли прийде моє замовлення {order}?",
            "Чи є ця модель у розмірі {size}?",
            "Хочу повернути замовлення {order}.",
            "Дякую, все добре!",
            "Чи можна забрати замовлення в магазині {city}?",
            "Посилка прийшла пошкоджена, що робити?",
            "Який графік роботи в суботу?",
            "Надішліть, будь ласка, рахунок до замовлення {order}.",
        ),
        (
            "Ваше замовлення {order} готове до видачі.",
            "Дякуємо за повідомлення, відповімо якнайшвидше.",
            "Повернення замовлення {order} отримано.",
        ),
    ),
    "fr": (
        (
            "Bonjour, quand vais-je recevoir ma commande {order} ?",
            "Avez-vous ce modèle en taille {size} ?",
            "Je voudrais retourner la commande {order}.",
            "Merci, tout est parfait !",
            "Puis-je retirer ma commande au magasin de {city} ?",
            "Mon colis est arrivé abîmé, que faire ?",
            "Quels sont vos horaires le samedi ?",
            "Pouvez-vous m'envoyer la facture de la commande {order} ?",
        ),
        (
            "Votre commande {order} est prête à être retirée.",
            "Merci pour votre message, nous revenons vers vous rapidement.",
            "Nous avons bien reçu le retour de la commande {order}.",
        ),
    ),
}
_SIZES = ("S", "M", "L", "XL", "38", "40", "42", "44")
_PLUS_TAGS = ("shop", "sklep", "orders", "news", "promo", "2026")

#: Placeholders typed at the till when a customer gives nothing (the policy ignores them).
_PLACEHOLDER_EMAILS = (("test", "test.com"), ("noreply", "shop.example"), ("no", "email.com"))
_PLACEHOLDER_CARDS = ("000000", "0000000000000")

# Channels, with a code (4 bits of the source id plaintext).
_EMAIL, _SMS, _WHATSAPP, _TELEGRAM, _WEBCHAT, _VOICE, _STORE, _WEB = (
    Channel.EMAIL.value,
    Channel.SMS.value,
    Channel.WHATSAPP.value,
    Channel.TELEGRAM.value,
    Channel.WEBCHAT.value,
    Channel.VOICE.value,
    Channel.STORE.value,
    Channel.WEB.value,
)
_CHANNELS = (_WHATSAPP, _SMS, _VOICE, _EMAIL, _TELEGRAM, _STORE, _WEB, _WEBCHAT)
_CHANNEL_CODES = {channel: code for code, channel in enumerate(_CHANNELS, start=1)}
_PERSONAS = (  # channel weights, in _CHANNELS order
    (30, 10, 8, 8, 12, 14, 10, 8),  # lives in messengers
    (8, 4, 5, 25, 5, 10, 33, 10),  # shops online
    (10, 8, 15, 8, 4, 40, 10, 5),  # store regular
    (6, 15, 35, 10, 2, 20, 10, 2),  # calls
)
_COUNTRY_CHANNEL_FACTORS: dict[str, dict[str, float]] = {
    "UA": {_TELEGRAM: 3.0, _WHATSAPP: 0.5},
    "US": {_WHATSAPP: 0.3, _SMS: 2.0, _TELEGRAM: 0.3},
    "DE": {_TELEGRAM: 0.5},
    "GB": {_WHATSAPP: 1.2, _TELEGRAM: 0.5},
}

# Follow-ups: what an interaction makes likely soon after.
_PICKUP, _RETURN, _REPLY, _CALLBACK, _READY, _RETURNED = 1, 2, 3, 4, 5, 6

_MESSAGE = InteractionKind.MESSAGE.value
_CALL = InteractionKind.CALL.value
_ORDER = InteractionKind.ORDER.value
_VISIT = InteractionKind.VISIT.value
_RETURN_KIND = InteractionKind.RETURN.value
_PICKUP_KIND = InteractionKind.PICKUP.value
_INBOUND = Direction.INBOUND
_OUTBOUND = Direction.OUTBOUND


# --- small helpers -----------------------------------------------------------------------


_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(value: int) -> int:
    """A 64-bit integer hash (splitmix64's finalizer)."""
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


def _derive_seed(seed: int, label: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{label}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class _Feistel:
    """A keyed permutation of ``bits``-bit integers (three Feistel rounds)."""

    __slots__ = ("half", "keys", "mask")

    def __init__(self, bits: int, seed: int, label: str) -> None:
        self.half = bits // 2
        self.mask = (1 << self.half) - 1
        self.keys = tuple(_derive_seed(seed, f"{label}:{i}") for i in range(3))

    def encrypt(self, value: int) -> int:
        half, mask = self.half, self.mask
        left, right = value >> half, value & mask
        for key in self.keys:
            left, right = right, left ^ ((((right ^ key) * _GOLDEN) >> 29) & mask)
        return (left << half) | right

    def decrypt(self, value: int) -> int:
        half, mask = self.half, self.mask
        left, right = value >> half, value & mask
        for key in reversed(self.keys):
            left, right = right ^ ((((left ^ key) * _GOLDEN) >> 29) & mask), left
        return (left << half) | right


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """``text`` without diacritics (ł -> l, ß -> ss, é -> e)."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def _fold_german(text: str) -> str:
    """``text`` with umlauts spelled out (Müller -> Mueller), then folded."""
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe")):
        text = text.replace(umlaut, spelled)
    return _fold(text.replace("Ü", "Ue"))


@lru_cache(maxsize=4096)
def _ascii_token(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _fold(text).lower())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _fold(text).lower()).strip("-")


def _feminine(surname: str) -> str:
    for masculine, feminine in (("cki", "cka"), ("dzki", "dzka"), ("ski", "ska")):
        if surname.endswith(masculine):
            return surname[: -len(masculine)] + feminine
    return surname


@lru_cache(maxsize=512)
def _gendered(name: _Name, gender: str) -> _Name:
    if gender == "male":
        return name
    return _Name(
        _feminine(name.canonical),
        tuple(_feminine(v) for v in name.variants),
        name.nicknames,
        name.cyrillic,
    )


_KEYBOARD_NEIGHBOURS = {
    "a": "sqz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "w": "qe",
    "y": "tu",
    "z": "xa",
}


def _typo(text: str, rng: random.Random) -> str:
    """``text`` with one slip: a neighbouring key, a lost or doubled letter, a swap."""
    if len(text) < 3:
        return text + text[-1:]
    pos = rng.randrange(1, len(text))
    op = rng.randrange(4)
    if op == 0:
        ch = text[pos]
        choices = _KEYBOARD_NEIGHBOURS.get(ch.lower(), "aeiou".replace(ch.lower(), ""))
        return text[:pos] + rng.choice(choices) + text[pos + 1 :]
    if op == 1:
        return text[:pos] + text[pos + 1 :]
    if op == 2:
        return text[:pos] + text[pos] + text[pos:]
    pos = min(pos, len(text) - 2)
    if text[pos] == text[pos + 1]:  # swapping equal letters changes nothing: lose one
        return text[:pos] + text[pos + 1 :]
    return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]


@lru_cache(maxsize=16)
def _prices(median: float) -> tuple[Decimal, ...]:
    """256 prices spread like a log-normal basket value around ``median``."""
    spread = NormalDist(0.0, 0.7)
    return tuple(
        Decimal(f"{max(median * math.exp(spread.inv_cdf((i + 0.5) / 256)), 1.0):.2f}")
        for i in range(256)
    )


@lru_cache(maxsize=64)
def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(accumulate(weights))


def _ean13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


# --- phone numbers -----------------------------------------------------------------------

_FREE_DIGITS = 6
_FREE_SPACE = 10**_FREE_DIGITS
_NUMBER_STEP = 387_419  # coprime with 10: walks a whole block without repeats
_FAKE_NATIONALS = frozenset({"123456789", "987654321", "012345678"})
_PLAIN_STYLES = ("intl", "intl_dash")
_HOME_STYLES = (
    "national",
    "national_dash",
    "national_compact",
    "national_parens",
    "no_trunk",
    "intl_00",
)


@lru_cache(maxsize=64)
def _block(region: str, line: str) -> tuple[int, str, str]:
    """``(country code, leading digits, example NSN)`` of a block of numbers.

    A block is phonenumbers' example number for the region and line type with its last
    six digits varied: the leading digits, which decide validity and formatting, stay.
    """
    kind = (
        phonenumbers.PhoneNumberType.MOBILE
        if line == "mobile"
        else phonenumbers.PhoneNumberType.FIXED_LINE
    )
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:  # pragma: no cover - every region we know has examples
        raise AssertionError(f"phonenumbers has no example number for {region} {line}")
    nsn = str(phonenumbers.national_significant_number(example))
    return int(example.country_code or 0), nsn[:-_FREE_DIGITS], nsn


def _number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))


def _format_style(number: phonenumbers.PhoneNumber, style: str, ctx: str | None) -> str | None:
    """``number`` written in ``style`` by someone in region ``ctx``; None: not possible."""
    fmt = phonenumbers.PhoneNumberFormat
    intl = str(phonenumbers.format_number(number, fmt.INTERNATIONAL))
    if style == "intl":
        return intl
    if style == "intl_dash":
        return intl.replace(" ", "-")
    region = str(phonenumbers.region_code_for_number(number))
    if style == "out":
        if ctx is None or ctx == region:
            return None
        return str(phonenumbers.format_out_of_country_calling_number(number, ctx))
    if ctx != region:
        return None
    national = str(phonenumbers.format_number(number, fmt.NATIONAL))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    trunk = metadata.national_prefix or ""
    written: dict[str, str | None] = {
        "national": national,
        "national_dash": national.replace(" ", "-") if " " in national else None,
        "national_compact": re.sub(r"\D", "", national),
        "national_parens": (
            "({}) {}".format(*national.split(" ", 1))
            if " " in national and "(" not in national
            else None
        ),
        "no_trunk": (
            national[len(trunk) :].lstrip() if trunk and national.startswith(trunk) else None
        ),
        "intl_00": "00" + intl[1:] if metadata.international_prefix == "00" else None,
    }
    return written[style]


def _template(formatted: str, nsn: str) -> str | None:
    """``formatted`` with the digits of ``nsn`` (its last digits, in order) as ``%s``."""
    out: list[str] = []
    left = len(nsn)
    for ch in reversed(formatted):
        if left and ch.isdigit():
            if ch != nsn[left - 1]:
                return None
            out.append("%s")
            left -= 1
        else:
            out.append("%%" if ch == "%" else ch)
    return "".join(reversed(out)) if left == 0 else None


@lru_cache(maxsize=256)
def _styles(region: str, line: str, ctx: str | None) -> tuple[str, ...]:
    """Templates of the ways a block's numbers are written from region ``ctx`` (checked).

    A way of writing is kept only when, on sample numbers of the block, its template gives
    exactly what phonenumbers formats, and :func:`~omnichannel.normalize_phone` reads that
    back with region ``ctx`` as the same number.
    """
    cc, prefix, example_nsn = _block(region, line)
    names = _PLAIN_STYLES + (_HOME_STYLES if ctx == region else ("out",) if ctx else ())
    samples = [prefix + f"{(j * 7919) % _FREE_SPACE:06d}" for j in range(1, 40)]
    samples = [nsn for nsn in samples if phonenumbers.is_valid_number(_number(cc, nsn))][:4]
    templates: list[str] = []
    for style in names:
        written = _format_style(_number(cc, example_nsn), style, ctx)
        template = _template(written, example_nsn) if written else None
        if template is None or template in templates:
            continue
        if all(_style_holds(template, style, cc, nsn, ctx) for nsn in samples):
            templates.append(template)
    return tuple(templates)


def _style_holds(template: str, style: str, cc: int, nsn: str, ctx: str | None) -> bool:
    e164 = f"+{cc}{nsn}"
    raw = template % tuple(nsn)
    if raw == e164 or raw != _format_style(_number(cc, nsn), style, ctx):
        return False
    try:
        return normalize_phone(raw, ctx) == e164
    except InvalidValueError:
        return False


_FOREVER = 1 << 62


class _Phone:
    """A number as the stream uses it: E.164, national significant number, tenure."""

    __slots__ = (
        "cc",
        "e164",
        "home",
        "home_styles",
        "is_mobile",
        "nsn",
        "plain_styles",
        "region",
        "shared",
        "since",
        "until",
    )

    def __init__(
        self, region: str, is_mobile: bool, cc: int, nsn: str, *, home: str, shared: bool
    ) -> None:
        self.region = region
        self.is_mobile = is_mobile
        self.cc = cc
        self.nsn = nsn
        self.e164 = f"+{cc}{nsn}"
        self.home = home  # where its user lives: the region channels there read it with
        self.shared = shared
        self.since = 0  # milliseconds after the start
        self.until = _FOREVER
        line = "mobile" if is_mobile else "landline"
        self.home_styles = _styles(region, line, home)
        self.plain_styles = _styles(region, line, None)

    def styles(self, ctx: str | None) -> tuple[str, ...]:
        """Templates of how the number is written where region ``ctx`` is assumed."""
        if ctx is None:
            return self.plain_styles
        if ctx == self.home:
            return self.home_styles
        return _styles(self.region, self.line, ctx)  # pragma: no cover - not used

    @property
    def line(self) -> str:
        return "mobile" if self.is_mobile else "landline"

    def reassigned(self, since: int, home: str) -> _Phone:
        """The same number in the hands of a new owner from ``since`` on."""
        phone = _Phone(self.region, self.is_mobile, self.cc, self.nsn, home=home, shared=False)
        phone.since = since
        return phone

    def tenure(self, start: datetime) -> PhoneTenure:
        return PhoneTenure(
            number=self.e164,
            region=self.region,
            line="mobile" if self.is_mobile else "landline",
            is_shared=self.shared,
            since=start + timedelta(milliseconds=self.since) if self.since > 0 else None,
            until=start + timedelta(milliseconds=self.until) if self.until < _FOREVER else None,
        )


class _PhonePool:
    """Hands out distinct valid numbers, block by block."""

    def __init__(self, seed: int) -> None:
        self._offset = _derive_seed(seed, "phones") % _FREE_SPACE
        self._next: dict[tuple[int, str], int] = {}

    def allocate(self, region: str, line: str, *, home: str, shared: bool = False) -> _Phone:
        cc, prefix, example_nsn = _block(region, line)
        key = (cc, prefix)  # US mobiles and landlines share a block
        n = self._next.get(key, 0)
        while True:
            if n >= _FREE_SPACE:  # pragma: no cover - a million numbers per block
                raise InvalidValueError(
                    "customers", region, "needs more phone numbers than a block holds", mask=False
                )
            nsn = prefix + f"{(n * _NUMBER_STEP + self._offset) % _FREE_SPACE:06d}"
            n += 1
            national = nsn[-9:]
            if nsn == example_nsn or national in _FAKE_NATIONALS or len(set(national)) <= 2:
                continue  # would look like a placeholder
            # the block is the region's own: valid for it means valid (and faster to ask)
            if phonenumbers.is_valid_number_for_region(_number(cc, nsn), region):
                break
        self._next[key] = n
        return _Phone(region, line == "mobile", cc, nsn, home=home, shared=shared)


# --- the people --------------------------------------------------------------------------


class _Mailbox:
    """A mailbox: the address its owner registered, and the key all its spellings share.

    The generator writes addresses from lowercase ASCII letters, digits, ``.`` and ``_``
    only, so the key needs no parsing: the address itself, or, at a provider that ignores
    dots (:data:`~omnichannel._normalize.DOT_INSENSITIVE_EMAIL_DOMAINS`), the local part
    without dots at the provider's canonical domain. ``check_identifiers=True`` builds
    every spelling through ``Identifier.email`` instead, and the tests compare the two.
    """

    __slots__ = ("address", "domain", "is_dot_insensitive", "key", "local")

    def __init__(self, local: str, domain: str) -> None:
        self.local = local
        self.domain = domain
        self.address = f"{local}@{domain}"
        canonical = DOT_INSENSITIVE_EMAIL_DOMAINS.get(domain)
        self.is_dot_insensitive = canonical is not None
        self.key = f"{local.replace('.', '')}@{canonical}" if canonical else self.address


_PLACEHOLDER_MAILBOXES = tuple(_Mailbox(local, domain) for local, domain in _PLACEHOLDER_EMAILS)


class _Actor:
    """A person and everything the stream needs to speak for them."""

    __slots__ = (
        "address",
        "birth_date",
        "business",
        "channel_weights",
        "city",
        "count",
        "country",
        "first",
        "gender",
        "group",
        "idx",
        "language",
        "last",
        "loyalty",
        "mailbox",
        "phones",
        "postcode",
        "role_mailbox",
        "store",
        "telegram_id",
        "telegram_name",
        "visitors",
        "window_start",
    )

    def __init__(self, idx: int, first: _Name, last: _Name, mailbox: _Mailbox) -> None:
        self.idx = idx
        self.first = first
        self.last = last
        self.mailbox = mailbox
        self.role_mailbox: _Mailbox | None = None
        self.business: str | None = None
        self.phones: list[_Phone] = []
        self.telegram_id: str | None = None
        self.telegram_name: str | None = None
        self.visitors: tuple[str, ...] = ()
        self.loyalty: str | None = None
        self.store = ""
        self.address = self.postcode = self.city = self.birth_date = ""
        self.gender: Literal["female", "male"] = "female"
        self.country = ""
        self.language = ""
        self.channel_weights: tuple[float, ...] = ()
        self.count = 0
        self.window_start = 0
        self.group: tuple[_Group, str] = ("single", "")

    def phone_at(self, moment: int, *, mobile: bool, rng: random.Random) -> _Phone | None:
        """The phone used at ``moment``: own or the household's, mobile only if asked."""
        phones = self.phones
        if len(phones) == 1:
            phone = phones[0]
            ok = phone.since <= moment < phone.until and (phone.is_mobile or not mobile)
            return phone if ok else None
        own = shared = None
        for phone in phones:
            if phone.since <= moment < phone.until and (phone.is_mobile or not mobile):
                if phone.shared:
                    shared = phone
                else:
                    own = phone
        if own is not None and shared is not None:
            return shared if rng.random() < 0.3 else own
        return own or shared


class _Draft(NamedTuple):
    """A person's facts before their contacts are known."""

    origin: str
    country: str
    gender: Literal["female", "male"]
    first: _Name
    last: _Name
    birth: date
    home: tuple[str, str, str]  # address, postcode, city


_Group = Literal["single", "household", "namesake", "business"]


class _PeopleBuilder:
    """Builds the people group by group: households, namesakes, businesses, singles."""

    def __init__(
        self,
        *,
        seed: int,
        customers: int,
        countries: tuple[str, ...],
        noise: NoiseSettings,
        span_ms: int,
        per_customer: tuple[int, int],
        start: datetime,
    ) -> None:
        self.rng = random.Random(_derive_seed(seed, "people"))
        self.seed = seed
        self.customers = customers
        self.countries = countries
        self.noise = noise
        self.span = span_ms  # milliseconds, like every moment
        self.per_customer = per_customer
        self.start = start
        self.pool = _PhonePool(seed)
        self.offset = _derive_seed(seed, "ids")
        self.mail_keys: set[str] = set()
        self.telegram_names: set[str] = set()
        self.business_domains: set[str] = set()
        self.visitor_ids = _Feistel(40, seed, "visitors")
        self.actors: list[_Actor] = []
        self.groups: dict[int, tuple[_Group, str]] = {}
        self._weights: dict[int, list[float]] = {}

    def build(self) -> list[_Actor]:
        counters: Counter[str] = Counter()
        for kind, size in self._plans():
            country = self.rng.choice(self.countries)
            if kind == "single":
                self._add(self._draft(country))
                continue
            counters[kind] += 1
            group_id = f"{kind[0].upper()}{counters[kind]:06d}"
            if kind == "household":
                self._household(country, size, group_id)
            elif kind == "namesake":
                self._namesakes(country, size, group_id)
            else:
                self._business(country, size, group_id)
        self._recycle()
        for idx, (kind, group_id) in self.groups.items():
            self.actors[idx].group = (kind, group_id)
        return self.actors

    def _plans(self) -> list[tuple[_Group, int]]:
        """Group sizes so that each noise rate is the share of people it touches."""
        n, noise, rng = self.customers, self.noise, self.rng
        plans: list[tuple[_Group, int]] = []
        for kind, rate, low, high in (
            ("household", noise.household, 2, 4),
            ("namesake", noise.namesake, 2, 3),
            ("business", noise.role_mailbox, 2, 4),
        ):
            total = round(n * rate)
            sizes: list[int] = []
            while total >= low or (total and sizes):
                size = min(rng.randint(low, high), total)
                if size < low:
                    sizes[-1] += size
                else:
                    sizes.append(size)
                total -= size
            plans.extend((kind, size) for size in sizes)  # type: ignore[misc]
        singles = n - sum(size for _, size in plans)
        plans.extend(("single", 1) for _ in range(singles))
        rng.shuffle(plans)
        return plans

    # -- drawing names, dates and places

    def _pick(self, names: tuple[_Name, ...]) -> _Name:
        weights = self._weights.get(len(names))
        if weights is None:  # roughly Zipf: a few names are common
            weights = list(accumulate(1.0 / (rank + 3) for rank in range(len(names))))
            self._weights[len(names)] = weights
        return names[bisect_right(weights, self.rng.random() * weights[-1])]

    def _first_name(self, origin: str, gender: str, avoid: Sequence[str] = ()) -> _Name:
        name = self._pick(_FIRST_NAMES[origin][gender])
        while name.canonical in avoid:
            name = self._pick(_FIRST_NAMES[origin][gender])
        return name

    def _birth(self, low_age: int, high_age: int) -> date:
        year = self.start.year - self.rng.randint(low_age, high_age)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def _origin(self, country: str) -> str:
        if self.rng.random() < self.noise.foreign_phone:
            return self.rng.choice(_COUNTRIES[country].origins)
        return country

    def _gender(self) -> Literal["female", "male"]:
        return "female" if self.rng.random() < 0.5 else "male"

    def _draft(self, country: str) -> _Draft:
        origin = self._origin(country)
        gender = self._gender()
        return _Draft(
            origin,
            country,
            gender,
            self._first_name(origin, gender),
            self._pick(_SURNAMES[origin]),
            self._birth(18, 85),
            self._address(country),
        )

    def _address(self, country: str) -> tuple[str, str, str]:
        rng = self.rng
        spec = _COUNTRIES[country]
        city, prefixes = rng.choice(spec.cities)
        prefix = rng.choice(prefixes)
        street = rng.choice(spec.streets)
        number = rng.randint(1, 140)
        flat = rng.randint(1, 80) if rng.random() < 0.5 else 0
        rest = 5 - len(prefix)
        postcode = prefix + f"{rng.randrange(10**rest):0{rest}d}" if rest > 0 else prefix
        if country == "PL":
            address = f"ul. {street} {number}" + (f"/{flat}" if flat else "")
            postcode = f"{prefix}-{rng.randrange(1000):03d}"
        elif country == "GB":
            address = (f"Flat {flat}, " if 0 < flat < 20 else "") + f"{number} {street}"
            letters = "ABDEFGHJLNPQRSTUWXYZ"
            postcode = (
                f"{prefix}{rng.randint(1, 20)} {rng.randint(1, 9)}"
                f"{rng.choice(letters)}{rng.choice(letters)}"
            )
        elif country == "UA":
            address = f"{street}, {number}" + (f", kv. {flat}" if flat else "")
        elif country == "US":
            address = f"{number * 10 + rng.randint(0, 9)} {street}" + (
                f" Apt {flat}" if flat else ""
            )
        elif country == "DE":
            address = f"{street} {number}"
        else:
            address = f"{number} {street}"
        return address, postcode, city

    # -- contacts

    def _mailbox(self, first: _Name, last: _Name, birth: date, country: str) -> _Mailbox:
        rng = self.rng
        spec = _COUNTRIES[country]
        weights = _cumulative(spec.email_weights)
        domain = spec.email_domains[bisect_right(weights, rng.random() * weights[-1])]
        f, s = _ascii_token(first.canonical), _ascii_token(last.canonical)
        yy = f"{birth.year % 100:02d}"
        local = rng.choice(
            (
                f"{f}.{s}",
                f"{f}{s}",
                f"{f}_{s}",
                f"{f[0]}{s}",
                f"{s}.{f}",
                f"{f}.{s}{yy}",
                f"{f}{s}{birth.year}",
                f"{f[0]}.{s}{yy}",
            )
        )
        candidate = local
        while True:
            mailbox = _Mailbox(candidate, domain)
            if mailbox.key not in self.mail_keys:  # namesakes get jan.kowalski7 ...
                self.mail_keys.add(mailbox.key)
                return mailbox
            candidate = f"{local}{rng.randrange(1, 1000)}"

    def _telegram(self, actor: _Actor) -> None:
        rng = self.rng
        spread = (actor.idx * 1_000_003 + self.offset) % 900_000_000  # distinct per person
        actor.telegram_id = str(100_000_000 + spread)
        if rng.random() < 0.35:
            return  # no username
        f, s = _ascii_token(actor.first.canonical), _ascii_token(actor.last.canonical)
        base = rng.choice((f"{f}_{s}", f"{f}{s[:1]}", f"{s}_{f}", f"{f}{s}"))
        name = base
        while name in self.telegram_names or len(name) < 5:
            name = f"{base}{rng.randrange(1, 10000)}"
        self.telegram_names.add(name)
        actor.telegram_name = name

    def _add(self, draft: _Draft, *, own_mobile: bool = True) -> _Actor:
        rng = self.rng
        idx = len(self.actors)
        last = _gendered(draft.last, draft.gender)
        actor = _Actor(
            idx, draft.first, last, self._mailbox(draft.first, last, draft.birth, draft.country)
        )
        actor.country = draft.country
        actor.address, actor.postcode, actor.city = draft.home
        actor.birth_date = draft.birth.isoformat()
        actor.language = _COUNTRIES[draft.origin].language
        actor.channel_weights = _channel_weights(rng.randrange(len(_PERSONAS)), draft.country)
        actor.count = rng.randint(*self.per_customer)
        if rng.random() >= 0.7:  # a customer who turns up later
            actor.window_start = int(rng.random() * 0.7 * self.span)
        if own_mobile:
            actor.phones.append(self.pool.allocate(draft.origin, "mobile", home=draft.country))
        if rng.random() < (0.8 if actor.language == "uk" else 0.35):
            self._telegram(actor)
        devices = 1 if rng.random() < 0.7 else 2
        actor.visitors = tuple(
            f"v-{self.visitor_ids.encrypt(idx * 4 + d):010x}" for d in range(devices)
        )
        if rng.random() < 0.6:
            card = (idx * 7_919_191_919 + self.offset) % 10**10  # distinct per person
            actor.loyalty = _ean13(f"29{card:010d}")
        actor.store = _store_id(draft.country, draft.home[2], 1 + rng.randrange(2))
        actor.gender = draft.gender
        self.actors.append(actor)
        return actor

    # -- groups

    def _household(self, country: str, size: int, group_id: str) -> None:
        rng = self.rng
        origin = self._origin(country)
        last = self._pick(_SURNAMES[origin])
        home = self._address(country)
        is_landline = rng.random() < 0.5
        shared = self.pool.allocate(
            country if is_landline else origin,
            "landline" if is_landline else "mobile",
            home=country,
            shared=True,
        )
        adult_age = rng.randint(30, 75)
        names: list[str] = []
        for member in range(size):
            gender: Literal["female", "male"] = (
                ("female", "male")[member] if member < 2 else self._gender()
            )
            first = self._first_name(origin, gender, names)
            names.append(first.canonical)
            if member < 2:
                age = max(18, adult_age + rng.randint(-4, 4))
            else:
                age = max(16, adult_age - rng.randint(20, 32))
            # on a family mobile, some members have no phone of their own
            own_mobile = is_landline or member == 0 or rng.random() < 0.5
            draft = _Draft(origin, country, gender, first, last, self._birth(age, age), home)
            actor = self._add(draft, own_mobile=own_mobile)
            actor.phones.append(shared)
            self.groups[actor.idx] = ("household", group_id)

    def _namesakes(self, country: str, size: int, group_id: str) -> None:
        rng = self.rng
        gender, first_name, surname = rng.choice(_COMMON_NAMES[country])
        first = next(n for n in _FIRST_NAMES[country][gender] if n.canonical == first_name)
        last = next(n for n in _SURNAMES[country] if n.canonical == surname)
        city = self._address(country)
        births: set[date] = set()
        for _ in range(size):
            birth = self._birth(18, 80)
            while birth in births:  # pragma: no cover - one draw in 20,000
                birth = self._birth(18, 80)
            births.add(birth)
            home = self._address(country)
            if rng.random() < 0.5:  # the same city, another street
                home = (home[0], city[1], city[2])
            draft = _Draft(country, country, gender, first, last, birth, home)  # type: ignore[arg-type]
            actor = self._add(draft)
            self.groups[actor.idx] = ("namesake", group_id)

    def _business(self, country: str, size: int, group_id: str) -> None:
        rng = self.rng
        spec = _COUNTRIES[country]
        name = rng.choice(spec.business_names).format(s=self._pick(_SURNAMES[country]).canonical)
        base = _slug(name)
        domain, n = f"{base}.{spec.tld}", 1
        while domain in self.business_domains:
            n += 1
            domain = f"{base}{n}.{spec.tld}"
        self.business_domains.add(domain)
        role = _Mailbox(rng.choice(spec.role_locals), domain)
        for _ in range(size):
            actor = self._add(self._draft(country))
            actor.role_mailbox = role
            actor.business = name
            self.groups[actor.idx] = ("business", group_id)

    def _recycle(self) -> None:
        """Give the mobile of some people to a new customer after a date."""
        rng = self.rng
        pairs = round(self.customers * self.noise.recycled_number)
        if not pairs:
            return
        singles = [a for a in self.actors if a.idx not in self.groups and a.window_start == 0]
        rng.shuffle(singles)
        for previous, new in zip(singles[:pairs], singles[pairs : 2 * pairs], strict=False):
            handover = int(self.span * rng.uniform(0.25, 0.5))
            taken_from = handover + int(self.span * rng.uniform(0.05, 0.15))
            number = previous.phones[0]
            number.until = handover
            replacement = self.pool.allocate(number.region, "mobile", home=previous.country)
            replacement.since = handover
            previous.phones.append(replacement)
            new.phones = [number.reassigned(taken_from, new.country)]
            new.window_start = taken_from
            new.count = max(new.count, 2)


def _person(actor: _Actor, start: datetime) -> Person:
    """The ground-truth record of ``actor``, built when asked for (people are lazy)."""
    kind, group_id = actor.group
    handles = [_handle(_TELEGRAM, f"@{actor.telegram_name}")] if actor.telegram_name else []
    if actor.telegram_id is not None:
        handles.insert(0, _handle(_TELEGRAM, actor.telegram_id))
    handles.extend(_handle(_WEBCHAT, visitor) for visitor in actor.visitors)
    emails = [actor.mailbox.address]
    if actor.role_mailbox is not None:
        emails.append(actor.role_mailbox.address)
    return Person(
        person_id=_person_id(actor.idx),
        first_name=actor.first.canonical,
        surname=actor.last.canonical,
        gender=actor.gender,
        birth_date=date.fromisoformat(actor.birth_date),
        language=actor.language,
        country=actor.country,
        address=actor.address,
        postcode=actor.postcode,
        city=actor.city,
        phones=tuple(phone.tenure(start) for phone in actor.phones),
        emails=tuple(emails),
        handles=tuple(handles),
        loyalty_card=actor.loyalty,
        household_id=group_id if kind == "household" else None,
        business_id=group_id if kind == "business" else None,
        namesake_group=group_id if kind == "namesake" else None,
        active_from=start + timedelta(milliseconds=actor.window_start),
    )


def _handle(platform: str, raw: str) -> Identifier:
    """A handle the generator made: digits, ``@`` and lowercase ASCII, or ``v-`` and hex.

    Its normal form is known (the digits, the name without ``@``, the visitor id), so it
    is built directly; ``check_identifiers=True`` builds it through ``Identifier.handle``.
    """
    value = raw[1:] if raw.startswith("@") else raw
    return Identifier.model_construct(
        kind=IdentifierKind.HANDLE,
        namespace=platform,
        value=value,
        key=value,
        original=None if raw == value else raw,
    )


class _People(Sequence[Person]):
    """The ground-truth people, each built when read: memory stays with the compact records."""

    def __init__(self, actors: list[_Actor], start: datetime) -> None:
        self._actors = actors
        self._start = start

    def __len__(self) -> int:
        return len(self._actors)

    @overload
    def __getitem__(self, index: int) -> Person: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Person]: ...

    def __getitem__(self, index: int | slice) -> Person | Sequence[Person]:
        if isinstance(index, slice):
            return [_person(actor, self._start) for actor in self._actors[index]]
        return _person(self._actors[index], self._start)


@lru_cache(maxsize=64)
def _channel_weights(persona: int, country: str) -> tuple[float, ...]:
    """Cumulative channel weights (in ``_CHANNELS`` order) of a persona in a country."""
    factors = _COUNTRY_CHANNEL_FACTORS.get(country, {})
    pairs = zip(_PERSONAS[persona], _CHANNELS, strict=True)
    return tuple(accumulate(weight * factors.get(channel, 1.0) for weight, channel in pairs))


def _person_id(idx: int) -> str:
    return f"P{idx + 1:07d}"


def _store_id(country: str, city: str, number: int) -> str:
    return f"{country}-{_ascii_token(city)[:3].upper()}-{number:02d}"


# --- writing things down, with noise --------------------------------------------------


def _is_cyrillic(text: str) -> bool:
    return "\u0400" <= text[:1] <= "\u04ff"


class _Scribe:
    """Writes names, phones and email addresses the way people and systems do."""

    def __init__(
        self, rng: random.Random, noise: NoiseSettings, *, check: bool, annotate: bool
    ) -> None:
        self.rng = rng
        self.noise = noise
        self.check = check
        self.tags: list[str] | None = [] if annotate else None

    def tag(self, name: str) -> None:
        if self.tags is not None:
            self.tags.append(name)

    def name(self, name: _Name, *, informal: bool = False, cyrillic: bool = False) -> str:
        rng, noise = self.rng, self.noise
        text = name.canonical
        if informal and name.nicknames and rng.random() < noise.nickname:
            text = rng.choice(name.nicknames)
            self.tag("nickname")
        elif (name.variants or (cyrillic and name.cyrillic)) and (
            rng.random() < noise.transliteration
        ):
            options = name.variants
            if cyrillic and name.cyrillic:
                options = (*options, name.cyrillic)
            text = rng.choice(options)
            self.tag("transliteration")
        if (not _is_cyrillic(text) and _fold(text) != text) and (
            rng.random() < noise.diacritics_dropped
        ):
            german = any(ch in text for ch in "äöüÄÖÜ") and rng.random() < 0.5
            text = _fold_german(text) if german else _fold(text)
            self.tag("diacritics_dropped")
        if rng.random() < noise.name_typo:
            text = _typo(text, rng)
            self.tag("name_typo")
        return text

    def phone_text(self, phone: _Phone, ctx: str | None) -> str:
        rng = self.rng
        if rng.random() < self.noise.phone_format:
            styles = phone.styles(ctx)
            if styles:
                self.tag("phone_format")
                return styles[int(rng.random() * len(styles))] % tuple(phone.nsn)
        return phone.e164

    def phone(self, phone: _Phone, ctx: str | None, *, exact: bool = False) -> Identifier:
        raw = phone.e164 if exact else self.phone_text(phone, ctx)
        if phone.shared:
            self.tag("household_phone")
        if self.check:
            return Identifier.phone(raw, ctx)
        # The same number phonenumbers formatted: its normal form is known.
        return Identifier.model_construct(
            kind=IdentifierKind.PHONE,
            namespace="",
            value=phone.e164,
            key=phone.e164,
            original=None if raw == phone.e164 else raw,
        )

    def handle(self, platform: str, raw: str) -> Identifier:
        return Identifier.handle(platform, raw) if self.check else _handle(platform, raw)

    def external(self, system: str, raw: str) -> Identifier:
        if self.check:
            return Identifier.external(system, raw)
        return Identifier.model_construct(
            kind=IdentifierKind.EXTERNAL, namespace=system, value=raw, key=raw, original=None
        )

    def email_text(self, mailbox: _Mailbox) -> str:
        rng = self.rng
        if rng.random() >= self.noise.email_variant:
            return mailbox.address
        self.tag("email_variant")
        local, domain = mailbox.local, mailbox.domain
        how = rng.randrange(4 if mailbox.is_dot_insensitive else 1)
        if how == 1:  # gmail ignores dots
            if "." in local:
                local = local.replace(".", "", 1)
            else:
                pos = rng.randrange(1, len(local))
                local = local[:pos] + "." + local[pos:]
        elif how == 2:  # and +tags
            local = f"{local}+{rng.choice(_PLUS_TAGS)}"
        elif how == 3:
            domain = "googlemail.com" if domain == "gmail.com" else "gmail.com"
        else:
            style = rng.randrange(3)
            if style == 0:
                local = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
            elif style == 1:
                domain = domain[:1].upper() + domain[1:]
            if style == 2 or f"{local}@{domain}" == mailbox.address:
                local, domain = local.upper(), domain.upper()
        return f"{local}@{domain}"

    def email(self, mailbox: _Mailbox, *, exact: bool = False) -> Identifier:
        raw = mailbox.address if exact else self.email_text(mailbox)
        if self.check:
            return Identifier.email(raw)
        # A spelling of a mailbox whose match key is known.
        value = raw.lower()
        return Identifier.model_construct(
            kind=IdentifierKind.EMAIL,
            namespace="",
            value=value,
            key=mailbox.key,
            original=None if raw == value else raw,
        )


# --- the stream --------------------------------------------------------------------------

_ID_BITS = 40
_MASK_62 = (1 << 62) - 1
_MESSAGE_ID_DOMAIN = "mail.synthetic.example"
_SOURCE_PATTERNS = {
    _WHATSAPP: re.compile(r"wamid\.HBgL([0-9A-F]{10})[0-9A-F]{16}"),
    _SMS: re.compile(r"SM([0-9a-f]{10})[0-9a-f]{22}"),
    _VOICE: re.compile(r"CA([0-9a-f]{10})[0-9a-f]{22}"),
    _EMAIL: re.compile(r"([0-9a-f]{10})\.[0-9a-f]{16}@" + re.escape(_MESSAGE_ID_DOMAIN)),
    _TELEGRAM: re.compile(r"[0-9]+:([0-9]+)"),
    _WEBCHAT: re.compile(r"wc_([0-9a-f]{10})[0-9a-f]{6}"),
    _STORE: re.compile(r"POS-([0-9]{13})"),
    _WEB: re.compile(r"WEB-([0-9]{13})"),
}
_HEX_SOURCES = frozenset({_WHATSAPP, _SMS, _VOICE, _EMAIL, _WEBCHAT})


def _source_id(channel: str, cipher: int, telegram_id: str | None) -> str:
    """The channel's own id for an interaction, in the shape that channel uses."""
    fill = _mix64(cipher)
    if channel == _WHATSAPP:
        return f"wamid.HBgL{cipher:010X}{fill:016X}"
    if channel == _SMS:
        return f"SM{cipher:010x}{fill:016x}{fill >> 40:06x}"
    if channel == _VOICE:
        return f"CA{cipher:010x}{fill:016x}{fill >> 40:06x}"
    if channel == _EMAIL:
        return f"{cipher:010x}.{fill:016x}@{_MESSAGE_ID_DOMAIN}"
    if channel == _TELEGRAM:
        return f"{telegram_id}:{cipher}"
    if channel == _WEBCHAT:
        return f"wc_{cipher:010x}{fill >> 40:06x}"
    if channel == _STORE:
        return f"POS-{cipher:013d}"
    return f"WEB-{cipher:013d}"


_Via: TypeAlias = "_Phone | _Mailbox | str | None"


class _Follow(NamedTuple):
    """Something an interaction makes happen soon after: a reply, a pick-up ..."""

    at: int
    action: int
    channel: str
    ref: str  # the order id, or the source id replied to
    via: _Via = None  # the phone, mailbox or visitor id to use again


class _Event:
    """One interaction in the making: who, when, why, and what the channel shows."""

    __slots__ = (
        "action",
        "actor",
        "agent",
        "cipher",
        "content",
        "direction",
        "follow",
        "identifiers",
        "kind",
        "metadata",
        "moment",
        "ref",
        "reply_to",
        "source_id",
        "traits",
        "via",
    )

    def __init__(
        self,
        actor: _Actor,
        moment: int,
        follow: _Follow | None,
        source_id: str,
        cipher: int,
    ) -> None:
        self.actor = actor
        self.moment = moment  # milliseconds after the start, before the move into daytime
        self.action = follow.action if follow else 0  # 0, or what follow-up this is
        self.ref = follow.ref if follow else ""
        self.via = follow.via if follow else None
        self.source_id = source_id
        self.cipher = cipher
        self.kind = _MESSAGE
        self.direction = _INBOUND
        self.identifiers: list[Identifier] = []
        self.traits: dict[str, JsonValue] = {}
        self.content: list[ContentPart] = []
        self.metadata: dict[str, JsonValue] = {}
        self.reply_to: str | None = None
        self.agent: str | None = None
        self.follow: _Follow | None = None


_DAY = 86_400_000  # all moments are milliseconds after the start
_Entry = tuple[int, int, int, "_Follow | None"]  # (moment, person, ordinal, follow-up)


class _Stream:
    """Speaks for every person in turn, in time order, from one seeded random stream."""

    def __init__(self, dataset: SyntheticDataset) -> None:
        self.data = dataset
        self.rng = random.Random(_derive_seed(dataset.seed, "stream"))
        self.encrypt = dataset._ids.encrypt
        self.scribe = _Scribe(
            self.rng,
            dataset.noise,
            check=dataset.check_identifiers,
            annotate=dataset.annotate_noise,
        )
        self.handlers = {
            _WHATSAPP: self._whatsapp,
            _SMS: self._sms,
            _VOICE: self._voice,
            _EMAIL: self._email,
            _TELEGRAM: self._telegram,
            _WEBCHAT: self._webchat,
            _STORE: self._store,
            _WEB: self._web,
        }

    def run(self) -> Iterator[Interaction]:
        """Each person's next interaction waits in the bucket of its day; a day's bucket
        becomes a heap when the day comes. One entry per person: memory does not grow
        with the stream."""
        actors = self.data._actors
        span = self.data._span_ms
        days: list[list[_Entry]] = [[] for _ in range(span // _DAY + 1)]
        for actor in actors:
            moment = self._next(actor.window_start, actor.count, span)
            days[moment // _DAY].append((moment, actor.idx, 0, None))
        for today in range(len(days)):
            heap = days[today]
            days[today] = []
            heapq.heapify(heap)
            while heap:
                moment, idx, ordinal, follow = heap[0]
                actor = actors[idx]
                interaction, follow = self._emit(actor, ordinal, moment, follow)
                yield interaction
                ordinal += 1
                left = actor.count - ordinal
                if left <= 0:
                    heapq.heappop(heap)
                    continue
                if follow is not None and follow.at < span:
                    entry: _Entry = (follow.at, idx, ordinal, follow)
                else:
                    entry = (self._next(moment, left, span), idx, ordinal, None)
                if entry[0] // _DAY == today:
                    heapq.heapreplace(heap, entry)
                else:
                    heapq.heappop(heap)
                    days[entry[0] // _DAY].append(entry)

    def _next(self, after: int, left: int, span: int) -> int:
        """The earliest of ``left`` uniform moments in [after, span): an order statistic."""
        return after + int((span - after) * (1.0 - self.rng.random() ** (1.0 / left)))

    # -- one interaction

    def _channel(self, actor: _Actor, moment: int) -> str:
        weights = actor.channel_weights
        channel = _CHANNELS[bisect_right(weights, self.rng.random() * weights[-1])]
        if channel == _TELEGRAM and actor.telegram_id is None:
            channel = _WHATSAPP
        if channel in (_WHATSAPP, _SMS) and not any(
            p.is_mobile and p.since <= moment < p.until for p in actor.phones
        ):
            channel = _VOICE  # pragma: no cover - everyone keeps a mobile while active
        return channel

    def _emit(
        self, actor: _Actor, ordinal: int, moment: int, follow: _Follow | None
    ) -> tuple[Interaction, _Follow | None]:
        scribe = self.scribe
        if scribe.tags is not None:
            scribe.tags = []
        channel = self._channel(actor, moment) if follow is None else follow.channel
        plain = (actor.idx << 16) | (ordinal << 4) | _CHANNEL_CODES[channel]
        cipher = self.encrypt(plain)
        source_id = _source_id(channel, cipher, actor.telegram_id)
        ev = _Event(actor, moment, follow, source_id, cipher)
        self.handlers[channel](ev)
        if scribe.tags:
            ev.metadata["noise"] = list(scribe.tags)
        # moved into daytime (07:00-22:00 UTC); the order is kept
        day, into = divmod(moment, _DAY)
        millis = day * _DAY + 25_200_000 + into * 15 // 24
        interaction = Interaction(
            id=_interaction_id(self.data._start_ms + millis, cipher),
            channel=channel,
            kind=ev.kind,
            direction=ev.direction,
            occurred_at=self.data.start + timedelta(milliseconds=millis),
            source_id=ev.source_id,
            identifiers=tuple(ev.identifiers),
            traits=ev.traits,
            content=tuple(ev.content),
            reply_to=ev.reply_to,
            agent=ev.agent,
            metadata=ev.metadata,
        )
        return interaction, ev.follow

    # -- shared by the channels

    def _text(self, actor: _Actor, *, outbound: int = -1, order: str = "") -> TextPart:
        """A message in the person's language: an inbound one, or outbound template n."""
        rng = self.rng
        inbound_texts, outbound_texts = _TEXTS[actor.language]
        if outbound < 0:
            template = inbound_texts[int(rng.random() * len(inbound_texts))]
        else:
            template = outbound_texts[outbound]
        text = template.format(
            order=order or f"#{100_000 + int(rng.random() * 900_000)}",
            size=_SIZES[int(rng.random() * len(_SIZES))],
            city=actor.city,
        )
        return TextPart(text=text, language=actor.language)

    def _later(self, moment: int, low: int, high: int) -> int:
        """A moment ``low`` to ``high`` seconds after ``moment``."""
        return moment + 1000 * self.rng.randint(low, high)

    def _message(self, ev: _Event, channel: str, reply_chance: float, via: _Via) -> None:
        """Text in the person's language. An inbound one may bring a reply (to ``via``,
        the contact it came from) or a call; an outbound one is a reply or a notice."""
        ev.kind = _MESSAGE
        action = ev.action
        if action == _REPLY:
            ev.direction = _OUTBOUND
            ev.reply_to = ev.ref
            ev.content.append(self._text(ev.actor, outbound=1))
        elif action == _READY:  # click & collect: the order waits in the store
            ev.direction = _OUTBOUND
            ev.content.append(self._text(ev.actor, outbound=0, order=ev.ref))
            later = self._later(ev.moment, 3_600, 3 * 86_400)
            ev.follow = _Follow(later, _PICKUP, _STORE, ev.ref)
        elif action == _RETURNED:
            ev.direction = _OUTBOUND
            ev.content.append(self._text(ev.actor, outbound=2, order=ev.ref))
        else:
            ev.content.append(self._text(ev.actor))
            r = self.rng.random()
            if r < reply_chance:
                later = self._later(ev.moment, 120, 14_400)
                ev.follow = _Follow(later, _REPLY, channel, ev.source_id, via)
            elif r < reply_chance + 0.05:
                later = self._later(ev.moment, 600, 10_800)
                ev.follow = _Follow(later, _CALLBACK, _VOICE, "")

    def _full_name(self, actor: _Actor, *, informal: bool = False) -> tuple[str, str]:
        return self.scribe.name(actor.first, informal=informal), self.scribe.name(actor.last)

    def _order(self, actor: _Actor, order_id: str, status: str, store: str | None) -> OrderRefPart:
        spec = _COUNTRIES[actor.country]
        return OrderRefPart(
            order_id=order_id,
            amount=_prices(spec.price_median)[int(self.rng.random() * 256)],
            currency=spec.currency,
            status=status,
            store_id=store,
        )

    def _add_phone(self, ev: _Event, phone: _Phone, ctx: str, *, exact: bool = False) -> None:
        """Add the phone as this channel writes it; a national spelling needs the region,
        so that goes in ``metadata["region"]`` (the identifier was read with it)."""
        identifier = self.scribe.phone(phone, ctx, exact=exact)
        ev.identifiers.append(identifier)
        if identifier.original is not None and not identifier.original.startswith("+"):
            ev.metadata["region"] = ctx

    def _phone(self, ev: _Event, *, mobile: bool) -> _Phone:
        """The phone the person uses now, or the one a follow-up goes back to."""
        if isinstance(ev.via, _Phone):
            return ev.via
        phone = ev.actor.phone_at(ev.moment, mobile=mobile, rng=self.rng)
        assert phone is not None  # everyone has a phone while active
        return phone

    def _mailbox(self, ev: _Event, *, business: bool = False) -> _Mailbox:
        """The personal mailbox, sometimes the business's; or the one a follow-up uses."""
        if isinstance(ev.via, _Mailbox):
            return ev.via
        actor = ev.actor
        if business and actor.role_mailbox is not None and self.rng.random() < 0.5:
            self.scribe.tag("role_mailbox")
            return actor.role_mailbox
        return actor.mailbox

    # -- the channels: each shows what that channel shows

    def _whatsapp(self, ev: _Event) -> None:
        rng, scribe, actor = self.rng, self.scribe, ev.actor
        phone = self._phone(ev, mobile=True)
        ev.identifiers.append(scribe.phone(phone, None, exact=True))  # a wa_id is E.164
        self._message(ev, _WHATSAPP, 0.2, phone)
        if ev.direction is _INBOUND:
            r = rng.random()
            if r < 0.4:
                name = scribe.name(actor.first, informal=True)
            elif r < 0.75:
                name = " ".join(self._full_name(actor, informal=True))
            else:
                name = f"{scribe.name(actor.first, informal=True)} {actor.last.canonical[0]}."
            ev.traits["display_name"] = name

    def _sms(self, ev: _Event) -> None:
        phone = self._phone(ev, mobile=True)
        # the gateway's region reads national numbers; what the shop sends is E.164
        self._add_phone(ev, phone, ev.actor.country, exact=ev.action != 0)
        self._message(ev, _SMS, 0.1, phone)

    def _voice(self, ev: _Event) -> None:
        rng = self.rng
        ev.kind = _CALL
        self._add_phone(ev, self._phone(ev, mobile=False), ev.actor.country)
        if ev.action != _CALLBACK and rng.random() < 0.12:
            ev.direction = _OUTBOUND
        answered = rng.random() < 0.85
        ev.metadata["status"] = "completed" if answered else "no-answer"
        ev.metadata["duration_seconds"] = rng.randint(20, 900) if answered else 0
        if answered:
            ev.agent = f"agent-{rng.randint(1, 40):02d}"

    def _email(self, ev: _Event) -> None:
        rng, scribe, actor = self.rng, self.scribe, ev.actor
        mailbox = self._mailbox(ev, business=True)
        ev.identifiers.append(scribe.email(mailbox, exact=ev.action != 0))
        self._message(ev, _EMAIL, 0.25, mailbox)
        if ev.direction is _INBOUND:
            first, last = self._full_name(actor)
            r = rng.random()
            if mailbox is actor.role_mailbox and r < 0.3 and actor.business:
                name = actor.business
            elif r < 0.9:
                name = f"{first} {last}"
            else:
                name = f"{last}, {first}"
            ev.traits["display_name"] = name

    def _telegram(self, ev: _Event) -> None:
        rng, scribe, actor = self.rng, self.scribe, ev.actor
        assert actor.telegram_id is not None
        ev.identifiers.append(scribe.handle(_TELEGRAM, actor.telegram_id))
        if actor.telegram_name is not None:
            ev.identifiers.append(scribe.handle(_TELEGRAM, "@" + actor.telegram_name))
        if ev.action == _REPLY:
            self._message(ev, _TELEGRAM, 0.0, None)
            return
        cyrillic = actor.language == "uk"
        first = scribe.name(actor.first, informal=True, cyrillic=cyrillic)
        last = scribe.name(actor.last, cyrillic=cyrillic) if rng.random() < 0.7 else ""
        display = f"{first} {last}".strip()
        ev.traits.update({"first_name": first, "display_name": display})
        if last:
            ev.traits["last_name"] = last
        ev.traits["language"] = actor.language
        if rng.random() < 0.12:  # the customer shares their own contact
            shared = scribe.phone(self._phone(ev, mobile=True), None)
            ev.identifiers.append(shared)
            ev.content.append(ContactCardPart(name=display, identifiers=(shared,), is_sender=True))
        else:
            self._message(ev, _TELEGRAM, 0.2, None)

    def _webchat(self, ev: _Event) -> None:
        rng, scribe, actor = self.rng, self.scribe, ev.actor
        via = ev.via
        if via is None:  # the pre-chat form asks for an email; else a visitor cookie
            via = actor.mailbox if rng.random() < 0.4 else rng.choice(actor.visitors)
        if isinstance(via, _Mailbox):
            ev.identifiers.append(scribe.email(via, exact=ev.action != 0))
        else:
            ev.identifiers.append(scribe.handle(_WEBCHAT, str(via)))
        self._message(ev, _WEBCHAT, 0.5, via)
        if ev.direction is _OUTBOUND:
            ev.agent = f"agent-{rng.randint(1, 40):02d}"
        elif rng.random() < 0.5:
            ev.traits["display_name"] = scribe.name(actor.first, informal=True)

    def _store(self, ev: _Event) -> None:
        rng, scribe, actor = self.rng, self.scribe, ev.actor
        if rng.random() < 0.85 or ev.action == _PICKUP:  # click & collect: the home store
            store = actor.store
        else:
            city, _ = rng.choice(_COUNTRIES[actor.country].cities)
            store = _store_id(actor.country, city, 1 + rng.randrange(2))
        ev.metadata["store_id"] = store
        if ev.action == _PICKUP:
            ev.kind = _PICKUP_KIND
            ev.content.append(OrderRefPart(order_id=ev.ref, status="picked_up", store_id=store))
        elif ev.action == _RETURN:
            ev.kind = _RETURN_KIND
            ev.content.append(OrderRefPart(order_id=ev.ref, status="returned", store_id=store))
            if rng.random() < 0.5:
                later = self._later(ev.moment, 3_600, 2 * 86_400)
                ev.follow = _Follow(later, _RETURNED, _EMAIL, ev.ref, actor.mailbox)
        elif rng.random() < 0.6:
            ev.kind = _ORDER
            order_id = f"R{ev.cipher:013d}"
            ev.content.append(self._order(actor, order_id, "paid", store))
            if rng.random() < 0.06:
                later = self._later(ev.moment, 3 * 86_400, 20 * 86_400)
                ev.follow = _Follow(later, _RETURN, _STORE, order_id)
        else:
            ev.kind = _VISIT
        card = actor.loyalty if rng.random() < 0.85 else None
        if rng.random() < self.data.noise.placeholder:  # a till's "nobody"
            scribe.tag("placeholder")
            if rng.random() < 0.5:
                card = rng.choice(_PLACEHOLDER_CARDS)
            else:
                placeholder = rng.choice(_PLACEHOLDER_MAILBOXES)
                ev.identifiers.append(scribe.email(placeholder, exact=True))
        if card is not None:
            ev.identifiers.insert(0, scribe.external("loyalty", card))
            if card == actor.loyalty and rng.random() < 0.5:  # the loyalty account's name
                ev.traits["first_name"] = scribe.name(actor.first)
                ev.traits["last_name"] = scribe.name(actor.last)
                if rng.random() < 0.2:
                    ev.traits["birth_date"] = actor.birth_date
        named = card == actor.loyalty and card is not None
        if rng.random() < 0.15 or ev.action == _PICKUP:  # an e-receipt, the order's email
            ev.identifiers.append(scribe.email(actor.mailbox))
            named = True
        if rng.random() < 0.25 or not named:  # a record naming nobody gets the phone
            self._add_phone(ev, self._phone(ev, mobile=False), actor.country)

    def _web(self, ev: _Event) -> None:
        rng, scribe, actor = self.rng, self.scribe, ev.actor
        ev.kind = _ORDER
        ev.identifiers.append(scribe.email(self._mailbox(ev, business=True)))
        phone = None
        if rng.random() < 0.6:
            phone = self._phone(ev, mobile=False)
            self._add_phone(ev, phone, actor.country)
        first, last = self._full_name(actor)
        ev.traits.update(
            {
                "first_name": first,
                "last_name": last,
                "address": actor.address,
                "postcode": actor.postcode,
                "city": actor.city,
                "country": actor.country,
            }
        )
        if rng.random() < 0.3:  # click & collect: a notice when ready, then the pick-up
            ev.content.append(self._order(actor, ev.source_id, "awaiting_pickup", actor.store))
            later = self._later(ev.moment, 7_200, 2 * 86_400)
            if phone is not None and phone.is_mobile:
                ev.follow = _Follow(later, _READY, _SMS, ev.source_id, phone)
            else:
                ev.follow = _Follow(later, _READY, _EMAIL, ev.source_id, actor.mailbox)
        else:
            ev.content.append(self._order(actor, ev.source_id, "paid", None))
            if rng.random() < 0.06:
                later = self._later(ev.moment, 3 * 86_400, 20 * 86_400)
                ev.follow = _Follow(later, _RETURN, _STORE, ev.source_id)


def _interaction_id(millis: int, cipher: int) -> str:
    """A UUIDv7-shaped id, time-ordered like :func:`~omnichannel.new_id`, deterministic."""
    fill = (cipher * _GOLDEN) >> 24
    value = (millis & 0xFFFFFFFFFFFF) << 80
    value |= 0x7 << 76
    value |= (fill >> 52) << 64
    value |= 0b10 << 62
    value |= ((cipher << 22) | (fill & 0x3FFFFF)) & _MASK_62
    return f"{value:032x}"


# --- the dataset -------------------------------------------------------------------------


class GroundTruth(Mapping[tuple[str, str], str]):
    """Who is behind each interaction: ``truth[(channel, source_id)]`` is a person id.

    Nothing is stored: a source id is a keyed permutation of the person, the ordinal of
    the interaction and its channel, and a lookup inverts it, so the truth of a million
    interactions costs no memory. Lookups are O(1); ``len`` is the number of interactions;
    iterating regenerates the interactions (use it on small datasets).
    """

    def __init__(self, dataset: SyntheticDataset) -> None:
        self._dataset = dataset

    def __getitem__(self, key: tuple[str, str]) -> str:
        idx = self._dataset._person_index(key)
        if idx is None:
            raise KeyError(key)
        return _person_id(idx)

    def __len__(self) -> int:
        return self._dataset.interaction_count

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for interaction in self._dataset.interactions:
            assert interaction.source_id is not None
            yield (interaction.channel, interaction.source_id)

    def person_of(self, interaction: Interaction) -> Person:
        """The person behind ``interaction``.

        Raises:
            KeyError: the interaction is not one of this dataset's.
        """
        return self._dataset.person(self[(interaction.channel, interaction.source_id or "")])


class SyntheticDataset:
    """Synthetic people and the interactions they leave, with the ground truth.

    Made by :func:`generate`. Attributes:

    * ``people``: the ground truth, one :class:`Person` each, in person id order.
    * ``interactions``: a new iterator over every interaction, in time order, each time it
      is read; the same seed gives the same interactions.
    * ``truth``: a :class:`GroundTruth`, ``(channel, source_id) -> person_id``.
    * ``interaction_count``: how many interactions ``interactions`` yields.
    * ``seed``, ``start``, ``end``, ``noise``, ``countries``, ``check_identifiers``,
      ``annotate_noise``: what it was made with.
    """

    def __init__(
        self,
        *,
        seed: int,
        start: datetime,
        days: int,
        countries: tuple[str, ...],
        noise: NoiseSettings,
        actors: list[_Actor],
        check_identifiers: bool,
        annotate_noise: bool,
    ) -> None:
        self.seed = seed
        self.start = start
        self.end = start + timedelta(days=days)
        self._span_ms = days * _DAY
        self._start_ms = (start - _EPOCH) // timedelta(milliseconds=1)
        self.countries = countries
        self.noise = noise
        self.check_identifiers = check_identifiers
        self.annotate_noise = annotate_noise
        self._actors = actors
        self._ids = _Feistel(_ID_BITS, seed, "interactions")
        self.people: Sequence[Person] = _People(actors, start)
        self.interaction_count = sum(actor.count for actor in actors)
        self.truth = GroundTruth(self)

    @property
    def interactions(self) -> Iterator[Interaction]:
        """Every interaction in time order, generated as it is read (a new iterator)."""
        return _Stream(self).run()

    def person(self, person_id: str) -> Person:
        """The person with id ``person_id``.

        Raises:
            KeyError: no such person.
        """
        if not re.fullmatch(r"P[0-9]{7,}", person_id):
            raise KeyError(person_id)
        idx = int(person_id[1:]) - 1
        if not 0 <= idx < len(self.people):
            raise KeyError(person_id)
        return self.people[idx]

    def _person_index(self, key: tuple[str, str]) -> int | None:
        if not isinstance(key, tuple) or len(key) != 2:
            return None
        channel, source_id = key
        pattern = _SOURCE_PATTERNS.get(channel)
        if pattern is None or not isinstance(source_id, str):
            return None
        match = pattern.fullmatch(source_id)
        if match is None:
            return None
        cipher = int(match.group(1), 16 if channel in _HEX_SOURCES else 10)
        if cipher >> _ID_BITS:
            return None
        plain = self._ids.decrypt(cipher)
        idx, ordinal, code = plain >> 16, (plain >> 4) & 0xFFF, plain & 0xF
        if code != _CHANNEL_CODES[channel] or idx >= len(self._actors):
            return None
        actor = self._actors[idx]
        if ordinal >= actor.count or _source_id(channel, cipher, actor.telegram_id) != source_id:
            return None
        return idx

    def __repr__(self) -> str:
        return (
            f"SyntheticDataset(people={len(self.people)}, "
            f"interactions={self.interaction_count}, seed={self.seed})"
        )


def generate(
    customers: int,
    *,
    seed: int = 0,
    interactions_per_customer: tuple[int, int] = (2, 12),
    start: datetime | None = None,
    days: int = 180,
    countries: Sequence[str] = ("PL", "DE", "GB", "UA", "US", "FR"),
    noise: NoiseSettings | None = None,
    check_identifiers: bool = False,
    annotate_noise: bool = False,
) -> SyntheticDataset:
    """Invent ``customers`` people and what they do on every channel, with ground truth.

    People are drawn at once (they are small); interactions are generated as
    ``dataset.interactions`` is read, in time order, so a million of them stream in
    bounded memory. The same arguments give the same dataset, byte for byte (with the same
    versions of omnichannel and phonenumbers, whose example numbers seed the phone blocks).

    Args:
        customers: how many people.
        seed: the random seed.
        interactions_per_customer: inclusive bounds of each person's interaction count.
        start: the first moment (timezone-aware); 2026-01-01 UTC by default.
        days: how long the period is.
        countries: where the people live (ISO codes among PL, DE, GB, UA, US, FR), drawn
            uniformly.
        noise: how messy the data is; :class:`NoiseSettings` defaults when None,
            ``NoiseSettings.none()`` for clean data.
        check_identifiers: build every phone and email identifier through
            ``Identifier.phone(raw, region)`` and ``Identifier.email(raw)`` instead of from
            the normal form the generator already knows. The output is identical; this
            only makes generation several times slower. For auditing the generator.
        annotate_noise: add ``metadata["noise"]``, the list of noise kinds applied, to
            each interaction that has any. Everything else stays identical.

    Raises:
        InvalidValueError: an argument is out of range, or ``start`` is naive.
    """
    if customers < 1 or customers >= _MAX_PEOPLE:
        raise InvalidValueError(
            "customers", customers, f"must be between 1 and {_MAX_PEOPLE - 1}", mask=False
        )
    low, high = interactions_per_customer
    if not 1 <= low <= high < _MAX_ORDINAL:
        raise InvalidValueError(
            "interactions_per_customer",
            interactions_per_customer,
            f"must be (low, high) with 1 <= low <= high < {_MAX_ORDINAL}",
            mask=False,
        )
    if days < 1:
        raise InvalidValueError("days", days, "must be at least 1", mask=False)
    chosen = tuple(dict.fromkeys(countries))
    unknown = [c for c in chosen if c not in _COUNTRIES]
    if not chosen or unknown:
        raise InvalidValueError(
            "countries", tuple(countries), f"must be among {', '.join(_COUNTRIES)}", mask=False
        )
    begin = _DEFAULT_START if start is None else utc(start, field="start")
    settings = noise if noise is not None else NoiseSettings()
    builder = _PeopleBuilder(
        seed=seed,
        customers=customers,
        countries=chosen,
        noise=settings,
        span_ms=days * _DAY,
        per_customer=(low, high),
        start=begin,
    )
    return SyntheticDataset(
        seed=seed,
        start=begin,
        days=days,
        countries=chosen,
        noise=settings,
        actors=builder.build(),
        check_identifiers=check_identifiers,
        annotate_noise=annotate_noise,
    )


# --- a CRM export ------------------------------------------------------------------------

_SOURCES = ("crm", "shop", "loyalty", "newsletter", "helpdesk")
_RECORD_FIELDS = (
    "record_id",
    "source",
    "first_name",
    "surname",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
    "country",
    "truth",
)


def records(
    dataset: SyntheticDataset, *, per_person: tuple[int, int] = (1, 3)
) -> list[dict[str, str | None]]:
    """A CRM export of the dataset's people: one row per person and source system.

    Each person appears in ``per_person`` (inclusive bounds) of the sources ``crm``,
    ``shop``, ``loyalty``, ``newsletter`` and ``helpdesk``, written with the dataset's
    noise: name typos, dropped diacritics, transliterations, phone formats (national ones
    read with the row's ``country``), email variants, role mailboxes, placeholders,
    address abbreviations and exonyms, empty fields. Rows are shuffled; ``record_id`` is
    unique; ``truth`` is the person id. Deterministic for a dataset.

    Columns: record_id, source, first_name, surname, date_of_birth (ISO), email, phone,
    address, postcode, city, country, truth.

    Raises:
        InvalidValueError: ``per_person`` is out of range.
    """
    low, high = per_person
    if not 1 <= low <= high <= len(_SOURCES):
        raise InvalidValueError(
            "per_person",
            per_person,
            f"must be (low, high) with 1 <= low <= high <= {len(_SOURCES)}",
            mask=False,
        )
    rng = random.Random(_derive_seed(dataset.seed, "records"))
    noise = dataset.noise
    scribe = _Scribe(rng, noise, check=False, annotate=False)
    rows: list[dict[str, str | None]] = []

    def maybe(value: str) -> str | None:
        return None if rng.random() < noise.missing_value else value

    for actor in dataset._actors:
        for source in rng.sample(_SOURCES, rng.randint(low, high)):
            email: str | None
            if rng.random() < noise.placeholder:
                email = rng.choice(_PLACEHOLDER_MAILBOXES).address
            elif actor.role_mailbox is not None and rng.random() < 0.4:
                email = scribe.email_text(actor.role_mailbox)
            else:
                email = scribe.email_text(actor.mailbox)
            phones = [p for p in actor.phones if p.until == _FOREVER] or actor.phones
            phone = rng.choice(phones)
            address, postcode, city = actor.address, actor.postcode, actor.city
            if rng.random() < noise.address_variant:
                address, postcode, city = _address_variant(rng, address, postcode, city)
            rows.append(
                {
                    "source": source,
                    "first_name": scribe.name(actor.first),
                    "surname": scribe.name(actor.last),
                    "date_of_birth": maybe(actor.birth_date),
                    "email": maybe(email),
                    "phone": maybe(scribe.phone_text(phone, actor.country)),
                    "address": maybe(address),
                    "postcode": postcode,
                    "city": city,
                    "country": actor.country,
                    "truth": _person_id(actor.idx),
                }
            )
    rng.shuffle(rows)
    return [
        {"record_id": f"R{n:08d}", **{k: row[k] for k in _RECORD_FIELDS[1:]}}
        for n, row in enumerate(rows, start=1)
    ]


def _address_variant(
    rng: random.Random, address: str, postcode: str, city: str
) -> tuple[str, str, str]:
    """The address as another system keeps it: one abbreviation, exonym or spelling."""
    how = rng.randrange(4)
    if how == 0:
        for long, short in _ABBREVIATIONS:
            if long in address:
                return address.replace(long, short, 1), postcode, city
        if address.startswith("ul. "):
            return address[4:], postcode, city
    if how == 1 and city in _EXONYMS:
        return address, postcode, _EXONYMS[city]
    if how == 2 and ("-" in postcode or " " in postcode):
        return address, postcode.replace("-", "").replace(" ", ""), city
    return _fold(address), postcode, _fold(city)
