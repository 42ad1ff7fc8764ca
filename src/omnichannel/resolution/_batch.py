"""Batch matching: find the duplicates in one list (``dedupe``) or the pairs across two (``link``).

Both run the same pipeline: infer settings from the field names (unless given), block,
compare, learn m/u/λ by EM on the data itself (only when the settings were inferred),
score, then decide with the thresholds:

* a pair whose posterior probability is at least ``link_threshold`` (default 0.9: each
  such link is at least nine times likelier right than wrong) is linked;
* a pair between ``review_threshold`` (default 0.5: more likely one person than not) and
  ``link_threshold`` goes to review;
* linked pairs form clusters: the connected components of the link graph (union-find).

No threshold is fitted: they are posterior probabilities, meaningful as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import combinations

from pydantic import BaseModel, ConfigDict

from omnichannel._errors import InvalidValueError
from omnichannel.resolution._blocking import BlockingRule, Or, block_on, rule_codes
from omnichannel.resolution._comparisons import (
    AddressComparison,
    Comparison,
    DateComparison,
    EmailComparison,
    ExactMatch,
    LevenshteinComparison,
    NameComparison,
    PhoneComparison,
    PostcodeComparison,
)
from omnichannel.resolution._em import train_frame
from omnichannel.resolution._scoring import (
    Frame,
    Model,
    PairScore,
    Settings,
    paused_gc,
    score_pairs,
)

__all__ = [
    "Cluster",
    "DedupeResult",
    "LinkCluster",
    "LinkResult",
    "ScoredPair",
    "dedupe",
    "infer_settings",
    "link",
]

Records = Sequence[Mapping[str, object]]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

# Roles, the field names that play them (first found wins) and how they are compared.
_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("first_name", ("first_name", "given_name", "firstname", "givenname", "forename", "fname")),
    ("surname", ("surname", "last_name", "lastname", "family_name", "familyname", "lname")),
    ("full_name", ("full_name", "fullname", "name")),
    ("date_of_birth", ("date_of_birth", "dob", "birth_date", "birthdate", "birthday")),
    ("email", ("email", "email_address", "e_mail", "mail")),
    ("phone", ("phone", "phone_number", "mobile", "mobile_phone", "telephone", "tel", "cell")),
    ("street_number", ("street_number", "house_number", "building_number")),
    (
        "address_1",
        ("address_1", "address", "address1", "street", "street_address", "address_line_1"),
    ),
    ("address_2", ("address_2", "address2", "address_line_2")),
    ("city", ("suburb", "city", "town", "locality")),
    ("postcode", ("postcode", "post_code", "postal_code", "zip", "zip_code", "zipcode")),
    ("state", ("state", "region", "province", "county")),
    ("national_id", ("soc_sec_id", "ssn", "national_id", "social_security_number", "pesel", "nin")),
    ("gender", ("gender", "sex")),
)
_SEPARATORS = re.compile(r"[\s\-]+")


def _comparison_for(role: str, field: str) -> Comparison:
    if role in ("first_name", "surname", "full_name", "city"):
        return NameComparison(field)
    if role == "date_of_birth":
        return DateComparison(field)
    if role == "email":
        return EmailComparison(field)
    if role == "phone":
        return PhoneComparison(field)
    if role == "street_number":
        return LevenshteinComparison(field, (1,))
    if role in ("address_1", "address_2"):
        return AddressComparison(field)
    if role == "postcode":
        return PostcodeComparison(field)
    if role == "national_id":
        return LevenshteinComparison(field, (1, 2))
    return ExactMatch(field)


def _roles(keys: set[str]) -> dict[str, str]:
    by_normal: dict[str, str] = {}
    for key in sorted(keys):
        by_normal.setdefault(_SEPARATORS.sub("_", key.strip().casefold()), key)
    found: dict[str, str] = {}
    for role, names in _ROLES:
        for name in names:
            if name in by_normal:
                found[role] = by_normal[name]
                break
    if "first_name" in found or "surname" in found:
        found.pop("full_name", None)
    return found


_STRONG = ("national_id", "email", "phone", "date_of_birth")
_DESCRIPTIVE = (
    "first_name",
    "surname",
    "full_name",
    "street_number",
    "address_1",
    "address_2",
    "city",
    "postcode",
)
_LOCATIONS = frozenset({"city", "postcode"})


def _default_blocking(roles: Mapping[str, str]) -> BlockingRule:
    rules = [block_on(roles[role]) for role in _STRONG if role in roles]
    descriptive = [role for role in _DESCRIPTIVE if role in roles]
    rules.extend(
        block_on(roles[first], roles[second])
        for first, second in combinations(descriptive, 2)
        if not (first in _LOCATIONS and second in _LOCATIONS)
    )
    if not rules:  # a single descriptive field: block on it alone
        rules = [block_on(roles[role]) for role in descriptive]
    if not rules:
        raise InvalidValueError(
            "records",
            sorted(roles.values()),
            "have no field to block on by default; pass settings with a blocking rule",
            mask=False,
        )
    return rules[0] if len(rules) == 1 else Or(*rules)


def _keys(records: Records, exclude: str | None) -> set[str]:
    keys: set[str] = set()
    for record in records:
        keys.update(k for k in record if isinstance(k, str))
    keys.discard(exclude or "")
    return keys


def infer_settings(
    records: Records, right: Records | None = None, *, id_field: str | None = None
) -> Settings:
    """Guess comparisons and blocking from well-known field names (untrained).

    Recognised names (case and ``-``/space insensitive) include ``first_name`` /
    ``given_name``, ``surname`` / ``last_name``, ``date_of_birth`` / ``dob``, ``email``,
    ``phone`` / ``mobile``, ``street_number``, ``address_1`` / ``address`` / ``street``,
    ``address_2``, ``suburb`` / ``city`` / ``town``, ``postcode`` / ``zip`` /
    ``postal_code``, ``state`` / ``region``, ``soc_sec_id`` / ``ssn`` / ``national_id``
    and ``gender``. When linking, only fields both lists have are compared.

    Blocking is the union of: each strong identifier alone (national id, email, phone,
    date of birth), and every two descriptive fields together (first name, surname, full
    name, street number, address lines, city, postcode), except city with postcode, which
    together still name only a place. A true pair is thus missed only when every strong
    identifier differs and no two descriptive fields (other than city and postcode) agree
    exactly.

    Raises:
        InvalidValueError: no recognised field to compare or to block on.
    """
    keys = _keys(records, id_field)
    if right is not None:
        keys &= _keys(right, id_field)
    roles = _roles(keys)
    if not roles:
        raise InvalidValueError(
            "records",
            sorted(keys),
            "have no field omnichannel knows how to compare; pass settings",
            mask=False,
        )
    comparisons = tuple(_comparison_for(role, field) for role, field in roles.items())
    return Settings(comparisons=comparisons, blocking=_default_blocking(roles))


class ScoredPair(BaseModel):
    """Two records and their score. In a link, ``first_id`` is left and ``second_id`` right."""

    model_config = _FROZEN
    first_id: str
    second_id: str
    score: PairScore


class Cluster(BaseModel):
    """Records of one list found to be one person, and the links that joined them."""

    model_config = _FROZEN
    ids: tuple[str, ...]
    """The records' ids, in input order."""
    pairs: tuple[ScoredPair, ...]
    """The links (pairs at or above the link threshold) within the cluster."""


class DedupeResult(BaseModel):
    """What :func:`dedupe` found.

    Attributes:
        clusters: groups of two or more records found to be one person, each with the
            links that formed it; records in no cluster stand alone.
        review: pairs between the review and link thresholds whose records did not end up
            in one cluster.
        settings: the settings used (learned from the data when none were given).
        candidate_pairs: how many pairs blocking let through to scoring.
    """

    model_config = _FROZEN
    clusters: tuple[Cluster, ...]
    review: tuple[ScoredPair, ...]
    settings: Settings
    candidate_pairs: int

    def same_person_pairs(self) -> set[tuple[str, str]]:
        """Every pair of ids within a cluster (in input order within each pair)."""
        pairs: set[tuple[str, str]] = set()
        for cluster in self.clusters:
            ids = cluster.ids
            pairs.update((a, b) for n, a in enumerate(ids) for b in ids[n + 1 :])
        return pairs


class LinkCluster(BaseModel):
    """Records of the left and right lists found to be one person."""

    model_config = _FROZEN
    left_ids: tuple[str, ...]
    right_ids: tuple[str, ...]
    pairs: tuple[ScoredPair, ...]
    """The links that formed the cluster (``first_id`` left, ``second_id`` right)."""


class LinkResult(BaseModel):
    """What :func:`link` found.

    Attributes:
        links: the accepted links, strongest first (``first_id`` left, ``second_id`` right).
        clusters: connected groups of linked records (one link each with ``one_to_one``).
        review: pairs between the thresholds; with ``one_to_one`` only those whose records
            were both left unlinked.
        settings: the settings used (learned from the data when none were given).
        candidate_pairs: how many pairs blocking let through to scoring.
    """

    model_config = _FROZEN
    links: tuple[ScoredPair, ...]
    clusters: tuple[LinkCluster, ...]
    review: tuple[ScoredPair, ...]
    settings: Settings
    candidate_pairs: int


def _ids(records: Records, id_field: str | None, side: str) -> list[str]:
    if id_field is None:
        return [str(index) for index in range(len(records))]
    ids = []
    for index, record in enumerate(records):
        value = record.get(id_field)
        if value is None:
            raise InvalidValueError(
                f"{side}[{index}].{id_field}",
                value,
                "is missing: every record needs an id",
                mask=False,
            )
        ids.append(str(value))
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for record_id in ids:
            if record_id in seen:
                raise InvalidValueError(
                    f"{side}.{id_field}", record_id, "is not unique", mask=False
                )
            seen.add(record_id)
    return ids


def _check_records(records: object, name: str) -> Records:
    if isinstance(records, (str, bytes)) or not isinstance(records, Sequence):
        raise InvalidValueError(name, records, "must be a sequence of mappings", mask=False)
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidValueError(f"{name}[{index}]", record, "is not a mapping", mask=False)
    return records


def _prepare(
    left: Records,
    right: Records | None,
    settings: Settings | None,
    id_field: str | None,
    seed: int,
) -> tuple[Settings, Frame, list[int], list[tuple[int, PairScore]]]:
    learn = settings is None
    if settings is None:
        settings = infer_settings(left, right, id_field=id_field)
    elif not isinstance(settings, Settings):
        raise InvalidValueError("settings", settings, "must be a Settings or None", mask=False)
    frame = Frame(settings.comparisons, left, right)
    per_part, union = rule_codes(settings.blocking, left, right, settings.max_pairs)
    patterns = frame.levels(union)
    if learn:
        settings = train_frame(frame, settings, per_part, union, patterns, seed=seed)
    model = Model(settings, frame.tf_tables(settings))
    return settings, frame, union, score_pairs(model, frame, union, patterns)


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def dedupe(
    records: Records,
    settings: Settings | None = None,
    *,
    id_field: str | None = None,
    seed: int = 0,
) -> DedupeResult:
    """Find the records of one list that are the same person, and explain each cluster.

    Args:
        records: mappings of field name to value (missing, ``None``, NaN and blank values
            are all "missing").
        settings: comparisons, blocking, probabilities and thresholds, used as given. Left
            out, they are inferred from the field names (:func:`infer_settings`) and
            trained on ``records`` themselves (:func:`train`): no labels are needed.
        id_field: the field holding each record's unique id; by default the position
            (``"0"``, ``"1"``, ...).
        seed: seeds training when the settings are inferred.

    Raises:
        InvalidValueError: records are not mappings, ids are missing or repeated, or no
            field can be compared.
        TooManyPairsError: blocking yields more than ``settings.max_pairs`` pairs.
    """
    with paused_gc():
        return _dedupe(_check_records(records, "records"), settings, id_field, seed)


def _dedupe(
    records: Records, settings: Settings | None, id_field: str | None, seed: int
) -> DedupeResult:
    ids = _ids(records, id_field, "records")
    settings, frame, union, scored = _prepare(records, None, settings, id_field, seed)
    width = frame.width
    forest = _UnionFind(len(records))
    linked: list[tuple[int, int, PairScore]] = []
    maybe: list[tuple[int, int, PairScore]] = []
    for code, pair_score in scored:
        i, j = divmod(code, width)
        if pair_score.decision == "link":
            forest.union(i, j)
            linked.append((i, j, pair_score))
        else:
            maybe.append((i, j, pair_score))
    members: dict[int, list[int]] = {}
    for i, j, _ in linked:
        for item in (i, j):
            members.setdefault(forest.find(item), [])
    for item in range(len(records)):
        root = forest.find(item)
        if root in members:
            members[root].append(item)
    pairs_of: dict[int, list[ScoredPair]] = {root: [] for root in members}
    for i, j, pair_score in linked:
        pairs_of[forest.find(i)].append(
            ScoredPair(first_id=ids[i], second_id=ids[j], score=pair_score)
        )
    clusters = tuple(
        Cluster(ids=tuple(ids[i] for i in members[root]), pairs=tuple(pairs_of[root]))
        for root in sorted(members)
    )
    review = tuple(
        ScoredPair(first_id=ids[i], second_id=ids[j], score=s)
        for i, j, s in maybe
        if forest.find(i) != forest.find(j)
    )
    return DedupeResult(
        clusters=clusters, review=review, settings=settings, candidate_pairs=len(union)
    )


def link(
    left: Records,
    right: Records,
    settings: Settings | None = None,
    *,
    id_field: str | None = None,
    one_to_one: bool = False,
    seed: int = 0,
) -> LinkResult:
    """Find the records of ``left`` and ``right`` that are the same person.

    Args:
        left: one list of mappings.
        right: the other list.
        settings: as for :func:`dedupe`; inferred from the fields both lists have and
            trained on both lists when left out.
        id_field: the field holding each record's id (unique within its list); by default
            the position in its list.
        one_to_one: each list has no internal duplicates, so a record links to at most one
            record of the other list. Links are then taken greedily by descending match
            weight: a pair is accepted when neither record is linked yet. Otherwise every
            pair above the link threshold is a link and clusters may hold several records
            of each side.
        seed: seeds training when the settings are inferred.

    Raises:
        InvalidValueError: records are not mappings, ids are missing or repeated, or no
            field can be compared.
        TooManyPairsError: blocking yields more than ``settings.max_pairs`` pairs.
    """
    with paused_gc():
        return _link(
            _check_records(left, "left"),
            _check_records(right, "right"),
            settings,
            id_field,
            one_to_one,
            seed,
        )


def _link(
    left: Records,
    right: Records,
    settings: Settings | None,
    id_field: str | None,
    one_to_one: bool,
    seed: int,
) -> LinkResult:
    left_ids = _ids(left, id_field, "left")
    right_ids = _ids(right, id_field, "right")
    settings, frame, union, scored = _prepare(left, right, settings, id_field, seed)
    width = frame.width
    above = [(code, s) for code, s in scored if s.decision == "link"]
    maybe = [(code, s) for code, s in scored if s.decision != "link"]
    accepted: list[tuple[int, int, PairScore]] = []
    if one_to_one:
        above.sort(key=lambda item: (-item[1].match_weight, item[0]))
        used_left: set[int] = set()
        used_right: set[int] = set()
        for code, pair_score in above:
            i, j = divmod(code, width)
            if i in used_left or j in used_right:
                continue
            used_left.add(i)
            used_right.add(j)
            accepted.append((i, j, pair_score))
        review_codes = [
            (code, s)
            for code, s in maybe
            if code // width not in used_left and code % width not in used_right
        ]
    else:
        above.sort(key=lambda item: (-item[1].match_weight, item[0]))
        accepted = [(*divmod(code, width), s) for code, s in above]
        review_codes = maybe
    # Left records are nodes 0..n-1, right records n..n+m-1.
    offset = len(left)
    forest = _UnionFind(len(left) + len(right))
    for i, j, _ in accepted:
        forest.union(i, offset + j)
    links = tuple(
        ScoredPair(first_id=left_ids[i], second_id=right_ids[j], score=s) for i, j, s in accepted
    )
    groups: dict[int, tuple[list[int], list[int], list[ScoredPair]]] = {}
    for (i, _, _), pair in zip(accepted, links, strict=True):
        group = groups.setdefault(forest.find(i), ([], [], []))
        group[2].append(pair)
    for i in range(len(left)):
        root = forest.find(i)
        if root in groups:
            groups[root][0].append(i)
    for j in range(len(right)):
        root = forest.find(offset + j)
        if root in groups:
            groups[root][1].append(j)
    clusters = tuple(
        LinkCluster(
            left_ids=tuple(left_ids[i] for i in lefts),
            right_ids=tuple(right_ids[j] for j in rights),
            pairs=tuple(pairs),
        )
        for _, (lefts, rights, pairs) in sorted(groups.items())
    )
    review = []
    for code, s in review_codes:
        i, j = divmod(code, width)
        if forest.find(i) != forest.find(offset + j):
            review.append(ScoredPair(first_id=left_ids[i], second_id=right_ids[j], score=s))
    return LinkResult(
        links=links,
        clusters=clusters,
        review=tuple(review),
        settings=settings,
        candidate_pairs=len(union),
    )
