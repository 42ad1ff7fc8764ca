"""Blocking: which pairs of records are worth scoring at all.

Scoring every pair of n records costs n² comparisons; blocking keeps only the pairs that
share something. Rules are small composable objects:

* ``block_on("surname", "postcode")``: records whose normalized surname *and* postcode are
  equal (a record missing either is in no block of this rule);
* ``Or(a, b, ...)``: every pair any rule yields, each pair once;
* ``And(a, b, ...)``: pairs every rule yields;
* ``Not(a)``: inside an ``And`` only, drops the pairs ``a`` yields:
  ``And(block_on("surname"), Not(block_on("date_of_birth")))``.

Pairs come from hash buckets: records are grouped by their key, and only records sharing a
bucket are paired, so the cost is the number of pairs produced, never n². A rule that would
produce more than ``max_pairs`` pairs (a block on a field where most records share one
value) raises :class:`TooManyPairsError` before any pair is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations, compress
from operator import eq

from omnichannel._errors import InvalidValueError
from omnichannel.resolution._comparisons import fold_text

__all__ = [
    "DEFAULT_MAX_PAIRS",
    "And",
    "BlockOn",
    "BlockingRule",
    "Not",
    "Or",
    "TooManyPairsError",
    "block_on",
    "dedupe_pairs",
    "link_pairs",
]

DEFAULT_MAX_PAIRS = 5_000_000
"""The most candidate pairs a blocking rule may yield before :class:`TooManyPairsError`."""

Records = Sequence[Mapping[str, object]]


class TooManyPairsError(InvalidValueError):
    """A blocking rule would yield more candidate pairs than allowed.

    Attributes:
        rule: the offending rule.
        pair_count: how many pairs it would yield.
        limit: the allowed number (``max_pairs``).
    """

    def __init__(self, rule: BlockingRule, pair_count: int, limit: int, detail: str = "") -> None:
        self.rule = rule
        self.pair_count = pair_count
        self.limit = limit
        reason = (
            f"yields {pair_count:,} candidate pairs, more than max_pairs={limit:,}{detail}; "
            "block on more fields or raise max_pairs"
        )
        super().__init__("blocking", rule, reason, mask=False)


class _Context:
    """The records being blocked, each key computed once as a small integer.

    Every field's normalized values are numbered (one numbering for both lists), and a key
    on several fields is one integer made of their numbers; ``-1`` means missing.
    """

    def __init__(self, left: Records, right: Records | None, limit: int) -> None:
        self.left = left
        self.right = right
        self.limit = limit
        self.width = len(right) if right is not None else len(left)
        self._columns: dict[str, tuple[list[int], list[int] | None, int]] = {}
        self._keys: dict[tuple[str, ...], tuple[list[int], list[int] | None]] = {}

    def _column(self, field: str) -> tuple[list[int], list[int] | None, int]:
        found = self._columns.get(field)
        if found is None:
            numbers: dict[str, int] = {}
            left = _number_column(self.left, field, numbers)
            right = None if self.right is None else _number_column(self.right, field, numbers)
            found = self._columns[field] = (left, right, len(numbers))
        return found

    def keys(self, fields: tuple[str, ...]) -> tuple[list[int], list[int] | None]:
        found = self._keys.get(fields)
        if found is None:
            left, right, _ = self._column(fields[0])
            for field in fields[1:]:
                more_left, more_right, size = self._column(field)
                left = _combine(left, more_left, size)
                if right is not None and more_right is not None:
                    right = _combine(right, more_right, size)
            found = self._keys[fields] = (left, right)
        return found


def _number_column(records: Records, field: str, numbers: dict[str, int]) -> list[int]:
    raws = [record.get(field) for record in records]

    def number(raw: object) -> int:
        value = fold_text(raw)
        return -1 if value is None else numbers.setdefault(value, len(numbers))

    try:
        distinct = dict.fromkeys(raws)  # first-seen order: numbering is deterministic
    except TypeError:  # an unhashable value
        return [number(raw) for raw in raws]
    numbered = {raw: number(raw) for raw in distinct}
    return list(map(numbered.__getitem__, raws))


def _combine(first: list[int], second: list[int], size: int) -> list[int]:
    return [-1 if a < 0 or b < 0 else a * size + b for a, b in zip(first, second, strict=True)]


class BlockingRule:
    """A rule saying which record pairs are candidates.

    Subclasses implement :meth:`holds` (does the rule yield this pair?) and, when they can
    produce pairs on their own, :meth:`_codes` (every pair, from hash buckets).
    """

    generates = True
    """Whether the rule can produce pairs by itself (``Not`` cannot)."""

    @property
    def fields(self) -> frozenset[str]:
        """The record keys the rule reads."""
        raise NotImplementedError

    def parts(self) -> tuple[BlockingRule, ...]:
        """The rules this one is the union of (itself unless it is an :class:`Or`)."""
        return (self,)

    def holds(self, ctx: _Context, i: int, j: int) -> bool:
        """True when the pair (left ``i``, right ``j``) is one this rule yields."""
        raise NotImplementedError

    def _codes(self, ctx: _Context) -> set[int]:
        raise NotImplementedError

    def record_keys(self, record: Mapping[str, object]) -> frozenset[str]:
        """The keys one record is filed under, so that candidates for a new record can be
        found in a store (online matching): two records are candidates when they share a
        key. Records missing a rule's field get no key from it.

        Raises:
            InvalidValueError: the rule cannot select candidates on its own (``Not``).
        """
        raise InvalidValueError(
            "blocking", repr(self), "cannot select candidates online", mask=False
        )


class BlockOn(BlockingRule):
    """Pairs of records whose normalized values are equal on every one of ``keys``."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise InvalidValueError("block_on", keys, "needs one or more record keys", mask=False)
        self.keys = keys

    @property
    def fields(self) -> frozenset[str]:
        """The record keys the rule reads."""
        return frozenset(self.keys)

    def __repr__(self) -> str:
        return f"block_on({', '.join(map(repr, self.keys))})"

    def record_keys(self, record: Mapping[str, object]) -> frozenset[str]:
        """``fields=values`` of the record, folded; none when a field is missing."""
        values = [fold_text(record.get(key)) for key in self.keys]
        if any(value is None for value in values):
            return frozenset()
        return frozenset({"+".join(self.keys) + "=" + "|".join(v or "" for v in values)})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockOn) and other.keys == self.keys

    def __hash__(self) -> int:
        return hash(("block_on", self.keys))

    def holds(self, ctx: _Context, i: int, j: int) -> bool:
        """True when both records have the same key on this rule's fields."""
        left, right = ctx.keys(self.keys)
        a = left[i]
        return a >= 0 and a == (left[j] if right is None else right[j])

    def _blocks(self, ctx: _Context) -> list[tuple[list[int], list[int] | None]]:
        """The blocks that yield pairs: records sharing a key, ascending by index.

        When deduplicating, blocks of two or more records (right side ``None``); when
        linking, the left and right records of each key both lists hold. Records whose key
        is unique are skipped by C-level sorting and set operations, so the Python-level
        work is proportional to the records that do pair.
        """
        left, right = ctx.keys(self.keys)
        if right is None:
            order = sorted(range(len(left)), key=left.__getitem__)  # stable: ascending ids
            ordered = list(map(left.__getitem__, order))
            blocks: list[tuple[list[int], list[int] | None]] = []
            last = -2
            bucket: list[int] = []
            for p in compress(range(len(ordered) - 1), map(eq, ordered, ordered[1:])):
                if ordered[p] < 0:
                    continue  # missing values never block
                if p == last + 1 and bucket:
                    bucket.append(order[p + 1])
                else:
                    bucket = [order[p], order[p + 1]]
                    blocks.append((bucket, None))
                last = p
            return blocks
        common = set(left) & set(right)
        common.discard(-1)
        by_key: dict[int, tuple[list[int], list[int]]] = {key: ([], []) for key in common}
        for i in compress(range(len(left)), map(common.__contains__, left)):
            by_key[left[i]][0].append(i)
        for j in compress(range(len(right)), map(common.__contains__, right)):
            by_key[right[j]][1].append(j)
        return [(lefts, rights) for lefts, rights in by_key.values()]

    def count(self, ctx: _Context) -> int:
        """How many pairs the rule yields, without building them."""
        return _count(self._blocks(ctx))

    def _codes(self, ctx: _Context) -> set[int]:
        blocks = self._blocks(ctx)
        count = _count(blocks)
        if count > ctx.limit:
            largest = max(len(lefts) for lefts, _ in blocks)
            detail = f" (the largest block holds {largest:,} records of one list)"
            raise TooManyPairsError(self, count, ctx.limit, detail)
        width = ctx.width
        codes: set[int] = set()
        add = codes.add
        for lefts, rights in blocks:
            if rights is None:
                if len(lefts) == 2:
                    add(lefts[0] * width + lefts[1])
                else:
                    codes.update(i * width + j for i, j in combinations(lefts, 2))
            elif len(lefts) == 1 and len(rights) == 1:
                add(lefts[0] * width + rights[0])
            else:
                codes.update(i * width + j for i in lefts for j in rights)
        return codes


def _count(blocks: list[tuple[list[int], list[int] | None]]) -> int:
    total = 0
    for lefts, rights in blocks:
        total += len(lefts) * (len(lefts) - 1) // 2 if rights is None else len(lefts) * len(rights)
    return total


def block_on(*keys: str) -> BlockOn:
    """Pairs of records sharing the same normalized value on every one of ``keys``.

    Values are compared as :func:`fold_text` gives them (casefolded, without diacritics);
    a record missing any of the keys is in no block of the rule.
    """
    return BlockOn(tuple(keys))


def _check_rules(rules: tuple[BlockingRule, ...], name: str) -> None:
    if not rules or not all(isinstance(r, BlockingRule) for r in rules):
        raise InvalidValueError(name, rules, "needs one or more blocking rules", mask=False)


class Or(BlockingRule):
    """Every pair any of ``rules`` yields, each pair once."""

    def __init__(self, *rules: BlockingRule) -> None:
        _check_rules(rules, "Or")
        flat: list[BlockingRule] = []
        for rule in rules:
            flat.extend(rule.parts())
        for rule in flat:
            if not rule.generates:
                raise InvalidValueError(
                    "Or", rule, "cannot yield pairs by itself; use Not inside And", mask=False
                )
        self.rules = tuple(flat)

    @property
    def fields(self) -> frozenset[str]:
        """The record keys the rule reads."""
        return frozenset().union(*(r.fields for r in self.rules))

    def parts(self) -> tuple[BlockingRule, ...]:
        """The rules this one is the union of."""
        return self.rules

    def record_keys(self, record: Mapping[str, object]) -> frozenset[str]:
        """The union of the rules' keys."""
        return frozenset().union(*(rule.record_keys(record) for rule in self.rules))

    def __repr__(self) -> str:
        return f"Or({', '.join(map(repr, self.rules))})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Or) and other.rules == self.rules

    def __hash__(self) -> int:
        return hash(("or", self.rules))

    def holds(self, ctx: _Context, i: int, j: int) -> bool:
        """True when any rule yields the pair."""
        return any(rule.holds(ctx, i, j) for rule in self.rules)

    def _codes(self, ctx: _Context) -> set[int]:
        codes: set[int] = set()
        for rule in self.rules:
            codes |= rule._codes(ctx)
            if len(codes) > ctx.limit:
                raise TooManyPairsError(self, len(codes), ctx.limit)
        return codes


class And(BlockingRule):
    """Pairs every one of ``rules`` yields.

    At least one rule must yield pairs by itself; ``block_on`` rules are merged into one
    block on all their keys, the others filter its pairs.
    """

    def __init__(self, *rules: BlockingRule) -> None:
        _check_rules(rules, "And")
        if not any(rule.generates for rule in rules):
            raise InvalidValueError(
                "And", rules, "needs a rule that yields pairs, not only Not(...)", mask=False
            )
        self.rules = rules

    @property
    def fields(self) -> frozenset[str]:
        """The record keys the rule reads."""
        return frozenset().union(*(r.fields for r in self.rules))

    def record_keys(self, record: Mapping[str, object]) -> frozenset[str]:
        """Every combination of one key per generating rule (``Not`` parts filter only
        in batch: online they are left to scoring)."""
        combined: set[str] = {""}
        for rule in self.rules:
            if not rule.generates:
                continue
            keys = rule.record_keys(record)
            if not keys:
                return frozenset()
            combined = {f"{a}&{b}" if a else b for a in combined for b in keys}
        return frozenset(combined)

    def __repr__(self) -> str:
        return f"And({', '.join(map(repr, self.rules))})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, And) and other.rules == self.rules

    def __hash__(self) -> int:
        return hash(("and", self.rules))

    def holds(self, ctx: _Context, i: int, j: int) -> bool:
        """True when every rule yields the pair."""
        return all(rule.holds(ctx, i, j) for rule in self.rules)

    def _codes(self, ctx: _Context) -> set[int]:
        keys = tuple(k for r in self.rules if isinstance(r, BlockOn) for k in r.keys)
        filters = [r for r in self.rules if not isinstance(r, BlockOn)]
        if keys:
            source: BlockingRule = BlockOn(tuple(dict.fromkeys(keys)))
        else:
            source = next(r for r in filters if r.generates)
            filters.remove(source)
        codes = source._codes(ctx)
        if not filters:
            return codes
        width = ctx.width
        return {
            code
            for code in codes
            if all(f.holds(ctx, code // width, code % width) for f in filters)
        }


class Not(BlockingRule):
    """The pairs ``rule`` does not yield; only meaningful inside :class:`And`."""

    generates = False

    def __init__(self, rule: BlockingRule) -> None:
        _check_rules((rule,), "Not")
        self.rule = rule

    @property
    def fields(self) -> frozenset[str]:
        """The record keys the rule reads."""
        return self.rule.fields

    def __repr__(self) -> str:
        return f"Not({self.rule!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Not) and other.rule == self.rule

    def __hash__(self) -> int:
        return hash(("not", self.rule))

    def holds(self, ctx: _Context, i: int, j: int) -> bool:
        """True when the wrapped rule does not yield the pair."""
        return not self.rule.holds(ctx, i, j)


def _check_generates(rule: BlockingRule) -> None:
    if not isinstance(rule, BlockingRule):
        raise InvalidValueError("blocking", rule, "is not a blocking rule", mask=False)
    if not rule.generates:
        raise InvalidValueError(
            "blocking", rule, "cannot yield pairs by itself; use Not inside And", mask=False
        )


def rule_codes(
    rule: BlockingRule, left: Records, right: Records | None, max_pairs: int
) -> tuple[list[set[int]], list[int]]:
    """Internal: each part's pair codes and their sorted union (code = i * width + j)."""
    _check_generates(rule)
    ctx = _Context(left, right, max_pairs)
    per_part = [part._codes(ctx) for part in rule.parts()]
    union: set[int] = set().union(*per_part)
    if len(union) > max_pairs:
        raise TooManyPairsError(rule, len(union), max_pairs)
    return per_part, sorted(union)


def dedupe_pairs(
    records: Records, rule: BlockingRule, *, max_pairs: int = DEFAULT_MAX_PAIRS
) -> list[tuple[int, int]]:
    """The candidate pairs ``(i, j)``, ``i < j``, among ``records`` under ``rule``, sorted.

    Raises:
        TooManyPairsError: the rule yields more than ``max_pairs`` pairs.
    """
    _, union = rule_codes(rule, records, None, max_pairs)
    width = len(records)
    return [divmod(code, width) for code in union]


def link_pairs(
    left: Records, right: Records, rule: BlockingRule, *, max_pairs: int = DEFAULT_MAX_PAIRS
) -> list[tuple[int, int]]:
    """The candidate pairs ``(i, j)`` of ``left[i]`` and ``right[j]`` under ``rule``, sorted.

    Raises:
        TooManyPairsError: the rule yields more than ``max_pairs`` pairs.
    """
    _, union = rule_codes(rule, left, right, max_pairs)
    width = len(right)
    if width == 0:
        return []
    return [divmod(code, width) for code in union]
