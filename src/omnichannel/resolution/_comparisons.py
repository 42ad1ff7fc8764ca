"""Field comparisons for probabilistic matching: each sorts a pair of values into a level.

A :class:`Comparison` reads one record key (or several, joined) from both records,
normalizes each value once (:meth:`Comparison.prepare`) and says how well the two agree as
the index of an ordered *level*: level 0 is the strongest agreement (``"exact"``), the last
level is ``"else"``. When either value is missing the level is :data:`NULL_LEVEL` and the
field contributes a weight of 0: absence is no evidence either way.

Every level gets its own m probability (how often true matches land there) and u
probability (how often random pairs do); see :mod:`omnichannel.resolution._scoring`.

With ``term_frequency=True`` the exact level is adjusted by how common the agreed value is:
two records that are both "Smith" say less than two that are both "Szczepaniak".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from omnichannel._errors import InvalidValueError
from omnichannel._normalize import normalize_email, normalize_phone, normalize_region

__all__ = [
    "NULL_LEVEL",
    "AddressComparison",
    "Comparison",
    "DateComparison",
    "EmailComparison",
    "ExactMatch",
    "LevenshteinComparison",
    "NameComparison",
    "PhoneComparison",
    "PostcodeComparison",
    "fold_text",
    "is_missing",
]

NULL_LEVEL = -1
"""The level of a pair where either value is missing: it contributes weight 0."""

_CACHE_SIZE = 1 << 17
_WHITESPACE = re.compile(r"\s+")
# Letters that Unicode does not decompose into a base letter and a combining mark.
_NO_DECOMPOSITION = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ħ": "h",
        "Ħ": "H",
        "ı": "i",  # noqa: RUF001 - the dotless i is the point
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
    }
)


def is_missing(value: object) -> bool:
    """True for ``None``, NaN (as pandas writes missing cells) and blank strings."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    if isinstance(value, str):
        return not value.strip()
    return False


@lru_cache(maxsize=_CACHE_SIZE)
def _fold(text: str) -> str:
    if text.isascii():
        return _WHITESPACE.sub(" ", text).strip().casefold()
    decomposed = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", stripped).strip().casefold()


def fold_text(value: object) -> str | None:
    """Normalize a value for comparison: text, casefolded, without diacritics.

    Unicode compatibility decomposition (NFKD) drops combining marks (``"Zoë"`` becomes
    ``"zoe"``); letters that do not decompose are mapped too (``"Łukasz"`` becomes
    ``"lukasz"``, ``"Søren"`` ``"soren"``). Runs of whitespace become one space. Whole
    floats lose their ``.0`` (spreadsheets read numbers as floats). Missing values
    (:func:`is_missing`) give ``None``.
    """
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else str(value)
    folded = _fold(text)
    return folded or None


class Comparison:
    """How one field (or several, joined) of two records agrees, as an ordered level.

    Subclasses set :attr:`levels` and implement :meth:`compare` (and, when they normalize
    differently, :meth:`prepare`). The contract:

    * ``prepare(value)`` turns a raw record value into a normalized string, or ``None`` when
      the value is missing. It is called once per record, never per pair.
    * ``compare(a, b)`` takes two prepared, present, *different* values and returns a level
      index in ``1 .. len(levels) - 1``. Equal prepared values are level 0, ``"exact"``,
      without calling it.
    * The last level is ``"else"``: nothing better applied.

    Attributes:
        field: the record key, or keys whose values are joined with a space.
        levels: the level labels, strongest first.
        term_frequency: adjust the exact level's weight by how common the value is.
    """

    levels: tuple[str, ...] = ("exact", "else")

    def __init__(self, field: str | Sequence[str], *, term_frequency: bool = False) -> None:
        fields = (field,) if isinstance(field, str) else tuple(field)
        if not fields or not all(isinstance(f, str) and f for f in fields):
            raise InvalidValueError("field", field, "must be a record key or keys", mask=False)
        self.field: str | tuple[str, ...] = field if isinstance(field, str) else fields
        self.fields: tuple[str, ...] = fields
        self.term_frequency = term_frequency

    @property
    def name(self) -> str:
        """The name shown in explanations: the key, or the keys joined with ``+``."""
        return "+".join(self.fields)

    def extract(self, record: Mapping[str, object]) -> object:
        """The raw value of this comparison's field(s) in ``record`` (``None`` if absent)."""
        if len(self.fields) == 1:
            return record.get(self.fields[0])
        parts = [record.get(f) for f in self.fields]
        present = [
            str(int(p)) if isinstance(p, float) and p.is_integer() else str(p)
            for p in parts
            if not is_missing(p)
        ]
        return " ".join(present) if present else None

    def prepare(self, value: object) -> str | None:
        """Normalize a raw value once; ``None`` when it is missing."""
        return fold_text(value)

    def compare(self, a: str, b: str) -> int:
        """The level of two prepared, present and different values (1 or more)."""
        return len(self.levels) - 1

    def level(self, a_value: object, b_value: object) -> int:
        """The level of two raw values: :data:`NULL_LEVEL` if either is missing."""
        a = self.prepare(a_value)
        b = self.prepare(b_value)
        if a is None or b is None:
            return NULL_LEVEL
        if a == b:
            return 0
        return self.compare(a, b)

    def _params(self) -> tuple[object, ...]:
        return ()

    def __repr__(self) -> str:
        params = "".join(f", {p!r}" for p in self._params())
        tf = ", term_frequency=True" if self.term_frequency else ""
        return f"{type(self).__name__}({self.field!r}{params}{tf})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Comparison):
            return NotImplemented
        return (type(self), self.fields, self._params(), self.term_frequency) == (
            type(other),
            other.fields,
            other._params(),
            other.term_frequency,
        )

    def __hash__(self) -> int:
        return hash((type(self), self.fields, self._params(), self.term_frequency))


class ExactMatch(Comparison):
    """Agrees only when the normalized values are equal: ``exact``, ``else``."""


def _check_similarities(thresholds: Sequence[float], field: str) -> tuple[float, ...]:
    values = tuple(float(t) for t in thresholds)
    if (
        not values
        or any(not 0.0 < t <= 1.0 for t in values)
        or list(values) != sorted(values, reverse=True)
    ):
        raise InvalidValueError(
            field, thresholds, "must be similarities in (0, 1], strongest first", mask=False
        )
    return values


class NameComparison(Comparison):
    """Names: exact, then Jaro-Winkler similarity at each threshold, else.

    Values are casefolded without diacritics, so ``"Łukasz"`` equals ``"lukasz"``. The
    exact level is term-frequency adjusted unless ``term_frequency=False``: a shared
    common name is weaker evidence than a shared rare one.
    """

    def __init__(
        self,
        field: str | Sequence[str],
        thresholds: Sequence[float] = (0.92, 0.85),
        *,
        term_frequency: bool = True,
    ) -> None:
        super().__init__(field, term_frequency=term_frequency)
        self.thresholds = _check_similarities(thresholds, "thresholds")
        self.levels = (
            "exact",
            *(f"jaro-winkler >= {t:g}" for t in self.thresholds),
            "else",
        )
        self._cutoff = self.thresholds[-1]

    def compare(self, a: str, b: str) -> int:
        """Jaro-Winkler similarity of the folded names, placed against the thresholds."""
        similarity = JaroWinkler.similarity(a, b, score_cutoff=self._cutoff)
        for index, threshold in enumerate(self.thresholds, start=1):
            if similarity >= threshold:
                return index
        return len(self.thresholds) + 1

    def _params(self) -> tuple[object, ...]:
        return (self.thresholds,)


_DIGITS8 = re.compile(r"\d{8}")
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[t ].*)?")


class DateComparison(Comparison):
    """Dates (of birth): exact, day and month swapped, one digit off, same month, else.

    Accepts ``date`` and ``datetime`` objects, ISO strings (``"1956-04-09"``, with or
    without a time) and the compact ``"19560409"`` (FEBRL's form, also as an integer).
    Values are compared as their eight digits ``YYYYMMDD``: ``"one digit off"`` is a
    Levenshtein distance of 1 on them (a typo in the day, month or year). Other text is
    kept and can only match exactly.
    """

    levels = ("exact", "day/month swapped", "one digit off", "same year and month", "else")

    def prepare(self, value: object) -> str | None:
        """The date as ``YYYYMMDD`` digits (other text folded); ``None`` when missing."""
        if isinstance(value, datetime):
            return value.strftime("%Y%m%d")
        if isinstance(value, date):
            return value.strftime("%Y%m%d")
        text = fold_text(value)
        if text is None or _DIGITS8.fullmatch(text):
            return text
        match = _YEAR_FIRST.fullmatch(text)
        if match:
            year, month, day = match.groups()
            return f"{year}{int(month):02d}{int(day):02d}"
        return text

    def compare(self, a: str, b: str) -> int:
        """The date level of two different prepared values."""
        if len(a) != 8 or len(b) != 8 or not (a.isdigit() and b.isdigit()):
            return 4
        if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
            return 1
        if Levenshtein.distance(a, b, score_cutoff=1) <= 1:
            return 2
        if a[:6] == b[:6]:
            return 3
        return 4


def _canonical_postcode(text: str) -> str:
    compact = text.upper().replace(" ", "")
    if len(compact) >= 5 and compact[-3].isdigit() and compact[-2:].isalpha():
        return f"{compact[:-3]} {compact[-3:]}"  # British: outward code, space, inward code
    return compact


def _district(code: str) -> str | None:
    if " " in code:
        return code.split(" ", 1)[0]
    if "-" in code:
        return code.split("-", 1)[0]
    if code.isdigit() and len(code) >= 4:
        return code[:-1]
    return None


class PostcodeComparison(Comparison):
    """Postcodes: exact, same district, one character off, else.

    Codes are upper-cased without spaces, except that a British postcode keeps one space
    before its inward code (``"sw1a1aa"`` becomes ``"SW1A 1AA"``). The district is the
    outward code of a British postcode (``"SW1A"``), the part before a hyphen (``"00"`` of
    Polish ``"00-950"``) or, for all-digit codes (Australian, US ZIP, German), every digit
    but the last. ``"one character off"`` catches typos outside the last position.
    """

    levels = ("exact", "same district", "one character off", "else")

    def prepare(self, value: object) -> str | None:
        """The postcode in its canonical form; ``None`` when missing."""
        text = fold_text(value)
        return None if text is None else _canonical_postcode(text) or None

    def compare(self, a: str, b: str) -> int:
        """The postcode level of two different prepared values."""
        district = _district(a)
        if district is not None and district == _district(b):
            return 1
        if Levenshtein.distance(a, b, score_cutoff=1) <= 1:
            return 2
        return 3


class AddressComparison(Comparison):
    """Street addresses: exact, then token-set similarity at each threshold, else.

    Token-set similarity (rapidfuzz ``fuzz.token_set_ratio`` / 100) ignores word order and
    repeated words, so ``"12 High St Flat 2"`` and ``"Flat 2, 12 High St"`` agree.
    """

    def __init__(
        self,
        field: str | Sequence[str],
        thresholds: Sequence[float] = (0.9, 0.7),
        *,
        term_frequency: bool = False,
    ) -> None:
        super().__init__(field, term_frequency=term_frequency)
        self.thresholds = _check_similarities(thresholds, "thresholds")
        self.levels = ("exact", *(f"token-set >= {t:g}" for t in self.thresholds), "else")
        self._cutoffs = tuple(t * 100.0 for t in self.thresholds)

    def compare(self, a: str, b: str) -> int:
        """Token-set similarity of the folded addresses, placed against the thresholds."""
        similarity = fuzz.token_set_ratio(a, b, score_cutoff=self._cutoffs[-1])
        for index, threshold in enumerate(self._cutoffs, start=1):
            if similarity >= threshold:
                return index
        return len(self._cutoffs) + 1

    def _params(self) -> tuple[object, ...]:
        return (self.thresholds,)


class LevenshteinComparison(Comparison):
    """Identifiers typed by hand (a national id, a street number): exact, edits, else.

    ``thresholds`` are edit distances, smallest first: ``(1, 2)`` gives the levels exact,
    ``levenshtein <= 1``, ``levenshtein <= 2``, else. Spaces are removed before comparing.
    """

    def __init__(
        self,
        field: str | Sequence[str],
        thresholds: Sequence[int] = (1, 2),
        *,
        term_frequency: bool = False,
    ) -> None:
        super().__init__(field, term_frequency=term_frequency)
        distances = tuple(int(t) for t in thresholds)
        if not distances or distances[0] < 1 or list(distances) != sorted(set(distances)):
            raise InvalidValueError(
                "thresholds", thresholds, "must be increasing edit distances >= 1", mask=False
            )
        self.thresholds = distances
        self.levels = ("exact", *(f"levenshtein <= {t}" for t in distances), "else")
        self._cutoff = distances[-1]

    def prepare(self, value: object) -> str | None:
        """The folded value without spaces; ``None`` when missing."""
        text = fold_text(value)
        return None if text is None else text.replace(" ", "") or None

    def compare(self, a: str, b: str) -> int:
        """Levenshtein distance of the prepared values, placed against the thresholds."""
        distance = Levenshtein.distance(a, b, score_cutoff=self._cutoff)
        for index, threshold in enumerate(self.thresholds, start=1):
            if distance <= threshold:
                return index
        return len(self.thresholds) + 1

    def _params(self) -> tuple[object, ...]:
        return (self.thresholds,)


class EmailComparison(Comparison):
    """Email addresses: exact, same local part, similar local part, else.

    Addresses are compared by their match key (:func:`omnichannel.normalize_email`:
    lowercased, gmail dots and ``+tags`` folded); text that is not an address is folded and
    compared as it is. ``"same local part"`` is the same mailbox name at another domain;
    ``"local part jaro-winkler >= 0.9"`` a near one.
    """

    levels = ("exact", "same local part", "local part jaro-winkler >= 0.9", "else")

    def prepare(self, value: object) -> str | None:
        """The address's match key; ``None`` when missing."""
        text = fold_text(value)
        if text is None:
            return None
        try:
            return normalize_email(text).match_key
        except InvalidValueError:
            return text

    def compare(self, a: str, b: str) -> int:
        """The email level of two different prepared values."""
        local_a = a.rpartition("@")[0] or a
        local_b = b.rpartition("@")[0] or b
        if local_a == local_b:
            return 1
        if JaroWinkler.similarity(local_a, local_b, score_cutoff=0.9) >= 0.9:
            return 2
        return 3


class PhoneComparison(Comparison):
    """Phone numbers: exact, same last seven digits, else.

    Numbers are normalized to E.164 digits when :func:`omnichannel.normalize_phone` can
    parse them (international form, or national form with ``region``); otherwise their
    digits are compared as they are, so ``"601 234 567"`` and ``"+48 601 234 567"`` still
    share their last seven digits.
    """

    levels = ("exact", "last 7 digits equal", "else")

    def __init__(
        self, field: str | Sequence[str], region: str | None = None, *, term_frequency: bool = False
    ) -> None:
        super().__init__(field, term_frequency=term_frequency)
        self.region = normalize_region(region)

    def prepare(self, value: object) -> str | None:
        """The number's digits (E.164 when it parses); ``None`` when missing."""
        text = fold_text(value)
        if text is None:
            return None
        with suppress(InvalidValueError):  # not a valid number: compare its digits
            text = normalize_phone(text, self.region)
        digits = "".join(ch for ch in text if ch.isdigit())
        return digits or None

    def compare(self, a: str, b: str) -> int:
        """The phone level of two different prepared values."""
        if len(a) >= 7 and len(b) >= 7 and a[-7:] == b[-7:]:
            return 1
        return 2

    def _params(self) -> tuple[object, ...]:
        return (self.region,)
