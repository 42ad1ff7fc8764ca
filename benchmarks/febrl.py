"""FEBRL record linkage benchmark: omnichannel against recordlinkage and Splink.

Usage::

    pip install -e '.[benchmarks]'
    python benchmarks/febrl.py                 # FEBRL4 (link) and FEBRL3 (dedupe), best of 3
    python benchmarks/febrl.py --repeat 1      # one run per tool

The datasets ship with the ``recordlinkage`` package. FEBRL4 is two lists of 5,000
records (each ``rec-N-org`` in A has one ``rec-N-dup-0`` in B: 5,000 true pairs); FEBRL3 is
one list of 5,000 records holding 2,000 originals and their duplicates (6,538 true pairs).

Every tool learns without labels: omnichannel with its defaults (settings inferred from
the field names, m/u/λ by EM on the data, link at posterior probability >= 0.9; for
FEBRL4 ``one_to_one=True``, since neither file has internal duplicates, which is what the
dataset is, not something read from its labels); recordlinkage with the unsupervised ECM
classifier over blocks on given_name OR surname OR date_of_birth OR soc_sec_id; Splink
(DuckDB) with the same blocking rules, λ from two deterministic rules at an assumed recall
of 0.9, u from random sampling, m by EM on two blocking rules, and a 0.9 probability
threshold. The labels are read only to score the output:
precision, recall and F1 over pairs (for deduplication, every pair within a cluster).
Each tool is timed from the DataFrames in memory to its set of pairs, in this one process
(for omnichannel that includes turning the rows into dicts, and its caches are cleared
before every run).
"""

from __future__ import annotations

import argparse
import gc
import logging
import platform
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
import recordlinkage  # type: ignore[import-untyped, import-not-found, unused-ignore]
from recordlinkage.datasets import load_febrl3, load_febrl4  # type: ignore[import-untyped, import-not-found, unused-ignore]

import omnichannel
from omnichannel.resolution._batch import dedupe, link

Pair = tuple[str, str]
FIELDS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]
BLOCK_FIELDS = ["given_name", "surname", "date_of_birth", "soc_sec_id"]


def metrics(found: set[Pair], truth: set[Pair]) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``found`` pairs against ``truth``."""
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows as mappings, with the index as ``rec_id``."""
    rows: list[dict[str, object]] = frame.reset_index().to_dict("records")
    return rows


# --- omnichannel ---------------------------------------------------------------------


def _cold() -> None:
    """Forget the normalized values cached by earlier runs, so that every run is a first."""
    from omnichannel.resolution._comparisons import _fold

    _fold.cache_clear()


def ours_link(a: pd.DataFrame, b: pd.DataFrame) -> set[Pair]:
    _cold()
    left, right = records(a), records(b)
    result = link(left, right, id_field="rec_id", one_to_one=True)
    return {(p.first_id, p.second_id) for p in result.links}


def ours_dedupe(df: pd.DataFrame) -> set[Pair]:
    _cold()
    result = dedupe(records(df), id_field="rec_id")
    return {_ordered(a, b) for a, b in result.same_person_pairs()}


# --- recordlinkage -------------------------------------------------------------------


def _rl_index() -> Any:
    indexer = recordlinkage.Index()
    for field in BLOCK_FIELDS:
        indexer.add(recordlinkage.index.Block(field))
    return indexer


def _rl_compare() -> Any:
    compare = recordlinkage.Compare()
    for field in ["given_name", "surname", "address_1", "address_2", "suburb"]:
        compare.string(field, field, method="jarowinkler", threshold=0.85, label=field)
    for field in ["street_number", "postcode", "state", "date_of_birth", "soc_sec_id"]:
        compare.exact(field, field, label=field)
    return compare


def rl_link(a: pd.DataFrame, b: pd.DataFrame) -> set[Pair]:
    pairs = _rl_index().index(a, b)
    features = _rl_compare().compute(pairs, a, b)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    return {(str(x), str(y)) for x, y in matches}


def rl_dedupe(df: pd.DataFrame) -> set[Pair]:
    pairs = _rl_index().index(df)
    features = _rl_compare().compute(pairs, df)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    return {_ordered(str(x), str(y)) for x, y in matches}


# --- Splink --------------------------------------------------------------------------


LinkType = Literal["link_only", "dedupe_only"]


def _splink_settings(link_type: LinkType) -> Any:
    import splink.comparison_library as cl  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from splink import SettingsCreator, block_on  # type: ignore[import-untyped, import-not-found, unused-ignore]

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[block_on(f) for f in BLOCK_FIELDS],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _splink_predict(frames: list[pd.DataFrame], link_type: LinkType) -> pd.DataFrame:
    from splink import DuckDBAPI, Linker, block_on  # type: ignore[import-untyped, import-not-found, unused-ignore]

    db_api = DuckDBAPI()
    registered = [
        db_api.register(frame, dataset_display_name=f"t{n}") for n, frame in enumerate(frames)
    ]
    linker = Linker(
        registered if len(registered) > 1 else registered[0],
        _splink_settings(link_type),
        log_level=logging.WARNING,
    )
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=0)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    result: pd.DataFrame = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call, unused-ignore]
    return result


def splink_link(a: pd.DataFrame, b: pd.DataFrame) -> set[Pair]:
    frame = _splink_predict([a.reset_index(), b.reset_index()], "link_only")
    return {(str(x), str(y)) for x, y in zip(frame["rec_id_l"], frame["rec_id_r"], strict=True)}


def splink_dedupe(df: pd.DataFrame) -> set[Pair]:
    frame = _splink_predict([df.reset_index()], "dedupe_only")
    return {
        _ordered(str(x), str(y)) for x, y in zip(frame["rec_id_l"], frame["rec_id_r"], strict=True)
    }


# --- harness -------------------------------------------------------------------------


def _ordered(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


def bench(
    name: str, truth: set[Pair], runs: dict[str, Callable[[], set[Pair]]], repeat: int
) -> dict[str, float]:
    """Run every tool ``repeat`` times, interleaved, and print its best time and scores.

    Interleaving gives every tool the same chance of a quiet moment on a shared machine.
    """
    print(f"\n{name}: {len(truth)} true pairs")
    seconds = dict.fromkeys(runs, float("inf"))
    found: dict[str, set[Pair]] = {}
    for _ in range(repeat):
        for tool, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            found[tool] = run()
            seconds[tool] = min(seconds[tool], time.perf_counter() - start)
    print(f"  {'tool':<14}{'precision':>10}{'recall':>10}{'F1':>10}{'pairs':>8}{'seconds':>10}")
    for tool in runs:
        precision, recall, f1 = metrics(found[tool], truth)
        print(
            f"  {tool:<14}{precision:>10.4f}{recall:>10.4f}{f1:>10.4f}"
            f"{len(found[tool]):>8}{seconds[tool]:>10.3f}"
        )
    ours = seconds["omnichannel"]
    print(
        f"  time ratio ours/recordlinkage = {ours / seconds['recordlinkage']:.3f}, "
        f"ours/splink = {ours / seconds['splink']:.3f}"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per tool, interleaved; the best counts"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.getLogger("splink").setLevel(logging.WARNING)

    import duckdb  # type: ignore[import-untyped, import-not-found, unused-ignore]
    import splink  # type: ignore[import-untyped, import-not-found, unused-ignore]

    print("command:", shlex.join([sys.executable, *sys.argv]))
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"omnichannel {omnichannel.__version__}, recordlinkage {recordlinkage.__version__}, "
        f"splink {splink.__version__}, duckdb {duckdb.__version__}, pandas {pd.__version__}"
    )

    a, b, links4 = load_febrl4(return_links=True)
    truth4 = {(str(x), str(y)) for x, y in links4}
    bench(
        "FEBRL4 (link 5000 x 5000)",
        truth4,
        {
            "omnichannel": lambda: ours_link(a, b),
            "recordlinkage": lambda: rl_link(a, b),
            "splink": lambda: splink_link(a, b),
        },
        args.repeat,
    )

    df, links3 = load_febrl3(return_links=True)
    truth3 = {_ordered(str(x), str(y)) for x, y in links3}
    bench(
        "FEBRL3 (dedupe 5000)",
        truth3,
        {
            "omnichannel": lambda: ours_dedupe(df),
            "recordlinkage": lambda: rl_dedupe(df),
            "splink": lambda: splink_dedupe(df),
        },
        args.repeat,
    )


if __name__ == "__main__":
    main()
