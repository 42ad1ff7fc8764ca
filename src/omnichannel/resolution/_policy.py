"""Merge policy: which identifiers may decide that two contacts are one person.

Defaults are safe: placeholders (``test@test.com``, ``noreply@...``, ``anonymous``) and
role mailboxes (``info@``, ``support@``, ``kontakt@`` ...) never drive a merge; a profile
holds at most one external id per system; an identifier seen with clearly different
names is treated as shared (a family phone) and links people as *related*, not *same*.
"""

# ruff: noqa: RUF001 - the transliteration table holds Cyrillic letters

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from enum import Enum

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from rapidfuzz.distance import JaroWinkler

from omnichannel._model import Identifier, IdentifierKind
from omnichannel.resolution._comparisons import _fold as fold

__all__ = [
    "DEFAULT_PLACEHOLDER_EMAILS",
    "DEFAULT_PLACEHOLDER_EMAIL_DOMAINS",
    "DEFAULT_PLACEHOLDER_EMAIL_LOCALS",
    "DEFAULT_PLACEHOLDER_VALUES",
    "DEFAULT_ROLE_LOCALS",
    "KindPolicy",
    "MergePolicy",
    "Strength",
    "names_conflict",
    "observed_name",
]

DEFAULT_PLACEHOLDER_EMAILS = frozenset(
    {
        "test@test.com",
        "a@a.com",
        "a@b.com",
        "abc@abc.com",
        "asdf@asdf.com",
        "email@email.com",
        "mail@mail.com",
        "none@none.com",
        "null@null.com",
        "no@email.com",
        "noemail@noemail.com",
        "test@example.com",
        "user@example.com",
        "x@x.com",
    }
)
"""Whole addresses that stand for "no address"."""

DEFAULT_PLACEHOLDER_EMAIL_LOCALS = frozenset(
    {
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "mailer-daemon",
        "postmaster",
        "bounce",
        "bounces",
        "null",
        "none",
        "anonymous",
        "unknown",
        "nomail",
        "noemail",
    }
)
"""Local parts that never name a person, at any domain."""

DEFAULT_PLACEHOLDER_EMAIL_DOMAINS = frozenset(
    {"test.com", "invalid", "localhost", "none.com", "noemail.com", "nomail.com"}
)
"""Domains used for made-up addresses. (example.com is left out: documentation and test
suites use it for realistic addresses.)"""

DEFAULT_ROLE_LOCALS = frozenset(
    {
        "info",
        "support",
        "sales",
        "office",
        "kontakt",
        "contact",
        "admin",
        "hello",
        "help",
        "service",
        "biuro",
        "sekretariat",
        "team",
        "billing",
        "orders",
        "order",
        "shop",
        "sklep",
        "enquiries",
        "inquiries",
        "reception",
        "hr",
        "jobs",
        "marketing",
        "webmaster",
        "accounts",
        "finance",
        "invoices",
        "faktury",
        "zamowienia",
        "bestellung",
        "kundenservice",
    }
)
"""Local parts of role mailboxes, read by several people."""

DEFAULT_PLACEHOLDER_VALUES = frozenset(
    {"null", "none", "nil", "anonymous", "unknown", "n/a", "na", "test", "guest", "-", "0", "x"}
)
"""Handle and external id values that stand for "nobody"."""


class Strength(str, Enum):
    """What an identifier may decide."""

    STRONG = "strong"
    """May link and merge profiles."""
    ROLE = "role"
    """Kept on the profile, never indexed: several people read it."""
    PLACEHOLDER = "placeholder"
    """Ignored for resolution: it names nobody."""


class KindPolicy(BaseModel):
    """Rules for one kind of identifier (optionally one namespace of it).

    Attributes:
        max_per_profile: how many values a profile may hold; another value is a conflict
            (queued for review, never merged). None: unlimited.
        priority: which owner an interaction joins when its identifiers disagree
            (higher wins).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_per_profile: int | None = Field(default=None, ge=1)
    priority: int = 0


class MergePolicy(BaseModel):
    """The rules deterministic resolution follows. All fields have safe defaults.

    ``kinds`` is keyed by kind (``"phone"``) or ``"kind:namespace"``
    (``"external:shopify"``); the more specific key wins.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    kinds: dict[str, KindPolicy] = Field(
        default_factory=lambda: {
            "external": KindPolicy(max_per_profile=1, priority=40),
            "email": KindPolicy(priority=30),
            "phone": KindPolicy(priority=20),
            "handle": KindPolicy(priority=10),
        }
    )
    placeholder_emails: frozenset[str] = DEFAULT_PLACEHOLDER_EMAILS
    placeholder_email_locals: frozenset[str] = DEFAULT_PLACEHOLDER_EMAIL_LOCALS
    placeholder_email_domains: frozenset[str] = DEFAULT_PLACEHOLDER_EMAIL_DOMAINS
    role_email_locals: frozenset[str] = DEFAULT_ROLE_LOCALS
    placeholder_values: frozenset[str] = DEFAULT_PLACEHOLDER_VALUES
    placeholder_phones: frozenset[str] = frozenset()
    detect_shared: bool = True
    shared_name_similarity: float = Field(default=0.8, ge=0, le=1)
    """Names whose given names are less similar than this (Jaro-Winkler) are different
    people; an identifier seen with both is shared."""

    def kind_policy(self, identifier: Identifier) -> KindPolicy:
        """The policy for ``identifier``'s kind and namespace."""
        specific = self.kinds.get(f"{identifier.kind.value}:{identifier.namespace}")
        return specific or self.kinds.get(identifier.kind.value) or KindPolicy()

    def strength(self, identifier: Identifier) -> Strength:
        """Whether ``identifier`` may drive resolution."""
        if identifier.kind is IdentifierKind.EMAIL:
            local, _, domain = identifier.key.rpartition("@")
            base_local = local.split("+", 1)[0]
            if (
                identifier.key in self.placeholder_emails
                or identifier.value in self.placeholder_emails
                or base_local in self.placeholder_email_locals
                or domain in self.placeholder_email_domains
            ):
                return Strength.PLACEHOLDER
            if base_local in self.role_email_locals:
                return Strength.ROLE
            return Strength.STRONG
        if identifier.kind is IdentifierKind.PHONE:
            national = _national_number(identifier.key)
            if (
                identifier.key in self.placeholder_phones
                or len(set(national)) <= 1
                or national in _PLACEHOLDER_NATIONAL
            ):
                return Strength.PLACEHOLDER
            return Strength.STRONG
        value = identifier.key.casefold()
        if value in self.placeholder_values or set(value) == {"0"}:
            return Strength.PLACEHOLDER
        return Strength.STRONG


_PLACEHOLDER_NATIONAL = frozenset({"123456789", "1234567890", "987654321", "0123456789"})


def _national_number(e164: str) -> str:
    """The digits after the country code (country codes are prefix-free: the first
    known one of 1 to 3 digits is it). No parsing: this runs for every new number."""
    digits = e164.lstrip("+")
    for size in (1, 2, 3):
        if int(digits[:size] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[size:]
    return digits  # pragma: no cover - keys are valid E.164


# Given names that are one name: diminutives and spellings across the languages our users
# serve most. Each group maps to its first member.
_NAME_GROUPS = (
    "katarzyna kasia kaska kasienka",
    "zofia zosia zocha",
    "jakub kuba kubus",
    "bartlomiej bartek",
    "malgorzata gosia malgosia",
    "aleksandra ola ala olenka",
    "aleksander olek alek",
    "agnieszka aga agusia",
    "elzbieta ela elka",
    "krzysztof krzys krzysiek",
    "wojciech wojtek",
    "tomasz tomek",
    "michal michalek",
    "lukasz lukaszek",
    "pawel pawelek",
    "grzegorz grzesiek",
    "joanna asia joasia",
    "magdalena magda madzia",
    "anna ania anka anusia hanna ganna",
    "maria marysia mariia mariya",
    "barbara basia barb",
    "dorota dorotka",
    "stanislaw stas stasiek staszek",
    "jozef jozek",
    "jan janek jasiek",
    "william will bill billy liam",
    "robert rob bob bobby",
    "richard rick dick rich ricky",
    "elizabeth liz lizzy beth betty eliza",
    "katherine catherine kate katie kathy cathy",
    "margaret maggie meg peggy",
    "james jim jimmy jamie",
    "michael mike mikey mick micha",
    "thomas tom tommy",
    "christopher chris kit",
    "alexander alex sasha sascha sashko aleksandr oleksandr olexandr alexandr",
    "alexandra alex sasha sascha",
    "jennifer jenny jen",
    "johann johannes hans hannes",
    "jurgen juergen",
    "wolfgang wolf wolfi",
    "sergey sergei serhii serhiy sergiy",
    "yulia julia iuliia yuliya",
    "dmitry dmitri dmitriy dmytro dmitro dima",
    "vladimir volodymyr vova volodya",
    "ekaterina yekaterina katya katia kateryna katerina",
    "natalia natalya natasha nataliia nataliya",
    "mikhail mykhailo misha",
    "andrey andrei andrii andriy",
    "olga olha",
    "elena olena lena yelena helena",
    "ivan ivanko vanya vania iwan",
    "mykola nikolai nikolay mikola kolya kolia",
    "yevhen evgeny evgeniy yevgeniy evgen ievgen yevgeny zhenya zhenia",
    "pavlo pavel pasha",
    "yurii yuriy yuri iurii yura",
    "bohdan bogdan",
    "oleh oleg",
    "maksym maxim maksim max",
    "vitalii vitaliy vitaly",
    "halyna galina halina halia galya",
    "tetiana tatiana tetyana tatyana tanya tania",
    "iryna irina ira",
    "svitlana svetlana sveta",
    "viktoriia viktoria victoria viktoriya vika",
    "anastasiia anastasia anastasiya nastya nastia",
    "liudmyla lyudmila ludmila liuda lyuda",
    "daryna darina dasha",
    "piotr piotrek",
    "andrzej jedrek",
    "zbigniew zbyszek",
    "jerzy jurek",
    "dariusz darek",
    "krystyna krysia",
    "jolanta jola",
    "weronika wera",
    "mateusz mati",
    "andreas andi",
    "daniel dani dan danny",
    "matthias matze",
    "sebastian basti seb",
    "susanne susi",
    "stefanie steffi",
    "katharina kathi",
    "julia jule",
    "jessica jessi jess",
    "ursula uschi",
    "brigitte gitte",
    "john johnny",
    "david dave",
    "matthew matt",
    "andrew andy",
    "steven stephen steve",
    "oliver ollie",
    "samuel sam",
    "olivia liv",
    "charlotte lottie",
    "rebecca becky",
    "victoria vicky",
    "joseph joe",
    "charles charlie chuck",
    "anthony tony",
    "joshua josh",
    "patricia pat patty",
    "susan sue",
    "sandra sandy",
    "kimberly kim",
    "pierre pierrot",
    "nicolas nico",
    "frederic fred",
    "raphael raph",
)
_CANONICAL = {name: group.split()[0] for group in _NAME_GROUPS for name in group.split()}


# Cyrillic to Latin as Ukrainian passports and common Russian usage spell names; names
# arrive in either script (a Telegram profile in Cyrillic, a web order in Latin).
_CYRILLIC = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ye",
        "ё": "yo", "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "yi", "й": "i", "к": "k",
        "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
        "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip


@functools.lru_cache(maxsize=65_536)
def _fold(text: str) -> str:
    """A name as matching compares it (:func:`fold_text`'s folding), in Latin letters."""
    return fold(text.casefold().translate(_CYRILLIC))


def _given(name: str) -> str:
    """A given name reduced to how it sounds across spellings: the name group's first
    member when it is a known diminutive or transliteration, else the name with ``y``
    read as ``i``, ``w`` as ``v`` and doubled letters single (Iurii, Yurii, Yuri)."""
    name = name.rstrip(".")
    if name in _CANONICAL:
        return _CANONICAL[name]
    skeleton = name.replace("y", "i").replace("w", "v")
    skeleton = re.sub(r"(.)\1+", r"\1", skeleton)
    return _CANONICAL.get(skeleton, skeleton)


def observed_name(traits: Mapping[str, JsonValue]) -> tuple[str, str] | None:
    """``(given name, family name)`` from traits, folded; None when no name is known."""
    first = traits.get("first_name")
    last = traits.get("last_name")
    if isinstance(first, str) and first.strip():
        return _fold(first), _fold(last) if isinstance(last, str) else ""
    for key in ("display_name", "name"):
        value = traits.get(key)
        if not isinstance(value, str):
            continue
        family, comma, given = value.partition(",")
        if comma and given.split() and family.split():  # "Nowak, Anna"
            return _fold(given.split()[0]), _fold(family.split()[-1])
        parts = value.split()
        if parts:
            return _fold(parts[0]), _fold(parts[-1]) if len(parts) > 1 else ""
    return None


def names_conflict(
    left: Mapping[str, JsonValue], right: Mapping[str, JsonValue], threshold: float
) -> bool:
    """True when both sides carry a name and the given names clearly differ.

    A missing name never conflicts; initials are compatible with names they start, and
    common diminutives and spellings are one name (Kasia and Katarzyna, Sergei and Serhii).
    """
    a, b = observed_name(left), observed_name(right)
    if a is None or b is None:
        return False
    given_a, given_b = a[0].rstrip("."), b[0].rstrip(".")
    if len(given_a) == 1 or len(given_b) == 1:
        return given_a[:1] != given_b[:1]
    sound_a, sound_b = _given(given_a), _given(given_b)
    if sound_a == sound_b:
        return False  # Kasia is Katarzyna, Юлія is Yuliia
    return (
        max(JaroWinkler.similarity(given_a, given_b), JaroWinkler.similarity(sound_a, sound_b))
        < threshold
    )
