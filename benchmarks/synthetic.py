"""Resolution quality on the synthetic omnichannel data set, against its ground truth.

Usage::

    python benchmarks/synthetic.py --customers 10000 --seed 0

Streams the generated interactions through a Hub on a fresh SQLite file, then reads each
interaction's final profile and compares the assignment with the generator's ground
truth: over-merge rate (pairs of interactions put in one profile that belong to
different people), under-merge rate (pairs of one person left in different profiles),
precision, recall and F1. The baseline in the same run is the trivial "one profile per
exact identifier set".

No resolver can join what the stream never ties together, so the script also prints two
ceilings computed from the ground truth: *identifier evidence* joins every two
interactions of one person that share an identifier (what exact-identifier resolution
could reach with perfect shared-phone and recycling detection), and *any name* also joins
every group of a person that carries any name at all (what a perfect name matcher could
add on top). Under-merge below the second is impossible from this data.

It then checks the hard rule: no profile holds the personal identifiers (own email,
own mobile, loyalty card, Telegram, web-chat visitor id) of two members of one household
or of two namesakes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from pydantic import JsonValue

from omnichannel import Hub, Identifier, Interaction, InvalidValueError
from omnichannel.resolution import MergePolicy, Strength, infer_settings, names_conflict, train
from omnichannel.storage import MatchKey, SQLStore
from omnichannel.testing import Metrics, SyntheticDataset, generate, pair_metrics, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--matching",
        action="store_true",
        help="train probabilistic matching (EM, no labels) on the set's CRM export view "
        "and let the Hub use it online",
    )
    args = parser.parse_args()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    dataset = generate(args.customers, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLStore(f"sqlite:///{Path(tmp) / 'synthetic.db'}")
        matching = None
        if args.matching:
            rows = [{k: v for k, v in r.items() if k != "truth"} for r in records(dataset)]
            matching = train(rows, infer_settings(rows), seed=args.seed)
        hub = Hub(store, matching=matching)
        started = time.perf_counter()
        summary = hub.ingest_many(
            (item for item in dataset.interactions if _has_usable_identifier(hub, item)),
            batch_size=1000,
        )
        seconds = time.perf_counter() - started
        print(f"ingested {summary.total} interactions in {seconds:.1f} s: {summary}")
        assignment: dict[Key, str] = {}
        baseline: dict[Key, str] = {}
        held: dict[str, set[str]] = {}  # profile id -> people whose own identifiers it holds
        names: dict[str, dict[str, list[Traits]]] = {}  # ... -> person -> names shown there
        owner_of = _personal_identifiers(dataset)
        for profile in hub.profiles():
            held[profile.id] = {
                owner_of[entry.identifier.match]
                for entry in profile.identifiers
                if entry.identifier.match in owner_of
            }
            shared = len(held[profile.id]) > 1
            for item in hub.history(profile.id):
                key = (item.channel, item.source_id or "")
                assignment[key] = profile.id
                baseline[key] = "|".join(sorted(str(i) for i in item.identifiers))
                if shared and any(item.traits.get(n) for n in _NAME_TRAITS):
                    person = dataset.truth[key]
                    names.setdefault(profile.id, {}).setdefault(person, []).append(item.traits)
        store.close()
    truth = {key: dataset.truth[key] for key in assignment}
    evidence, any_name = _ceilings(hub, dataset, set(assignment))
    _row("omnichannel", pair_metrics(assignment, truth))
    _row("baseline: one profile per identifier set", pair_metrics(baseline, truth))
    _row("ceiling: identifier evidence", pair_metrics(evidence, truth))
    _row("ceiling: identifier evidence + any name", pair_metrics(any_name, truth))
    print("targets (issue): over-merge <= 0.1 %, under-merge <= 2 %")
    together, told = _kept_together(dataset, held, names)
    print(
        "profiles holding the own identifiers of two people: "
        + (", ".join(f"{why} {n}" for why, n in sorted(together.items())) or "none")
    )
    print(
        "households merged: {} ({} where names shown in the profile tell them apart), "
        "namesakes merged: {} (target: none)".format(
            together.get("household", 0), told.get("household", 0), together.get("namesakes", 0)
        )
    )


Key = tuple[str, str]
Traits = Mapping[str, JsonValue]
SIMILARITY = MergePolicy().shared_name_similarity
_NAME_TRAITS = ("first_name", "display_name", "name")


def _row(label: str, metrics: Metrics) -> None:
    print(
        f"{label:<42} over-merge {100 * metrics.over_merge_rate:.4f} %  "
        f"under-merge {100 * metrics.under_merge_rate:5.2f} %  precision "
        f"{metrics.precision:.4f}  recall {metrics.recall:.4f}  F1 {metrics.f1:.4f}"
    )


def _has_usable_identifier(hub: Hub, item: Interaction) -> bool:
    """Store records whose only identifiers are placeholders are refused by design."""
    try:
        hub.validate(item)
    except InvalidValueError:
        return False
    return True


class _Groups:
    """Union-find over interaction keys."""

    def __init__(self) -> None:
        self.parent: dict[Key, Key] = {}

    def find(self, key: Key) -> Key:
        parent = self.parent.setdefault(key, key)
        while parent != key:
            grand = self.parent[parent]
            self.parent[key] = grand
            key, parent = parent, grand
        return key

    def union(self, a: Key, b: Key) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_a] = root_b


def _ceilings(
    hub: Hub, dataset: SyntheticDataset, kept: set[Key]
) -> tuple[dict[Key, Key], dict[Key, object]]:
    """The best any resolver could do with identifiers alone, and with any name too."""
    groups = _Groups()
    first_seen: dict[tuple[str, object], Key] = {}
    named: set[Key] = set()
    for item in dataset.interactions:
        key = (item.channel, item.source_id or "")
        if key not in kept:
            continue
        person = dataset.truth[key]
        groups.find(key)
        for identifier in item.identifiers:
            if hub.resolver.policy.strength(identifier) is not Strength.STRONG:
                continue
            seen = first_seen.setdefault((person, identifier.match), key)
            groups.union(key, seen)
        if any(item.traits.get(name) for name in ("first_name", "display_name", "last_name")):
            named.add(key)
    evidence = {key: groups.find(key) for key in kept}
    with_names = {groups.find(key) for key in named}
    any_name: dict[Key, object] = {
        key: (dataset.truth[key], "named") if root in with_names else root
        for key, root in evidence.items()
    }
    return evidence, any_name


def _personal_identifiers(dataset: SyntheticDataset) -> dict[MatchKey, str]:
    """Each identifier that belongs to one person only -> that person."""
    owners: dict[MatchKey, set[str]] = {}
    for person in dataset.people:
        mine: list[Identifier] = [Identifier.email(person.emails[0])] if person.emails else []
        mine.extend(Identifier.phone(p.number) for p in person.phones if not p.is_shared)
        mine.extend(person.handles)
        if person.loyalty_card is not None:
            mine.append(Identifier.external("loyalty", person.loyalty_card))
        for identifier in mine:
            owners.setdefault(identifier.match, set()).add(person.person_id)
    return {match: next(iter(people)) for match, people in owners.items() if len(people) == 1}


def _kept_together(
    dataset: SyntheticDataset,
    held: dict[str, set[str]],
    names: dict[str, dict[str, list[Traits]]],
) -> tuple[Counter[str], Counter[str]]:
    """Pairs of people whose own identifiers share a profile, by how they are related;
    and of those, the pairs whose names shown in that profile clearly differ (what the
    resolver could have told apart)."""
    found: Counter[str] = Counter()
    told: Counter[str] = Counter()
    for profile_id, people in held.items():
        shown = names.get(profile_id, {})
        ordered = sorted(people)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                a, b = dataset.person(first), dataset.person(second)
                if a.household_id is not None and a.household_id == b.household_id:
                    why = "household"
                elif a.namesake_group is not None and a.namesake_group == b.namesake_group:
                    why = "namesakes"
                elif a.business_id is not None and a.business_id == b.business_id:
                    why = "business"
                else:
                    why = "unrelated"
                found[why] += 1
                if any(
                    names_conflict(x, y, SIMILARITY)
                    for x in shown.get(first, [])
                    for y in shown.get(second, [])
                ):
                    told[why] += 1
    return found, told


if __name__ == "__main__":
    main()
