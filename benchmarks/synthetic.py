"""Resolution quality on the synthetic omnichannel data set, against its ground truth.

Usage::

    python benchmarks/synthetic.py --customers 10000 --seed 0

Streams the generated interactions through a Hub on a fresh SQLite file, then reads each
interaction's final profile and compares the assignment with the generator's ground
truth: over-merge rate (pairs of interactions put in one profile that belong to
different people), under-merge rate (pairs of one person left in different profiles),
precision, recall and F1. The baseline in the same run is the trivial "one profile per
exact identifier set".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from omnichannel import Hub, Interaction, InvalidValueError
from omnichannel.resolution import infer_settings, train
from omnichannel.storage import SQLStore
from omnichannel.testing import generate, pair_metrics, records


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
        assignment: dict[tuple[str, str], str] = {}
        baseline: dict[tuple[str, str], str] = {}
        for profile in hub.profiles():
            for item in hub.history(profile.id):
                key = (item.channel, item.source_id or "")
                assignment[key] = profile.id
                baseline[key] = "|".join(sorted(str(i) for i in item.identifiers))
        truth = {key: dataset.truth[key] for key in assignment}
        ours = pair_metrics(assignment, truth)
        trivial = pair_metrics(baseline, truth)
        print(f"omnichannel: {ours}")
        print(f"baseline (one profile per identifier set): {trivial}")
        print("targets (issue): over-merge <= 0.001, under-merge <= 0.02")
        store.close()


def _has_usable_identifier(hub: Hub, item: Interaction) -> bool:
    """Store records whose only identifiers are placeholders are refused by design."""
    try:
        hub.validate(item)
    except InvalidValueError:
        return False
    return True


if __name__ == "__main__":
    main()
