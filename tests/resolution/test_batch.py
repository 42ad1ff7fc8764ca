"""dedupe and link end to end: inferred settings, EM on the data itself, clusters, review."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest

from omnichannel import InvalidValueError
from omnichannel.resolution import (
    AddressComparison,
    DateComparison,
    EmailComparison,
    ExactMatch,
    LevenshteinComparison,
    NameComparison,
    Or,
    PhoneComparison,
    PostcodeComparison,
    Settings,
    block_on,
    dedupe,
    infer_settings,
    link,
)

Record = dict[str, object]

FIRST = [
    "Anna",
    "Piotr",
    "Krzysztof",
    "Agnieszka",
    "Tomasz",
    "Magdalena",
    "Paweł",
    "Joanna",
    "Michał",
    "Ewa",
    "Marcin",
    "Monika",
    "Jakub",
    "Aleksandra",
    "Adam",
    "Natalia",
    "Emma",
    "Oliver",
    "Sophie",
    "George",
    "Isla",
    "Harry",
    "Grace",
    "Jack",
    "Amelia",
    "Noah",
]
LAST = [
    "Nowak",
    "Wójcik",
    "Kowalczyk",
    "Kamińska",
    "Lewandowski",
    "Zielińska",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowska",
    "Jankowski",
    "Mazur",
    "Kwiatkowski",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
]
CITIES = [("Kraków", "31"), ("Warszawa", "00"), ("Gdańsk", "80"), ("Poznań", "60"), ("Łódź", "90")]


def background(count: int, seed: int = 5) -> list[Record]:
    """Distinct made-up people: random names, birth dates, contacts and addresses."""
    rng = random.Random(seed)
    people: list[Record] = []
    for n in range(count):
        city, prefix = rng.choice(CITIES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append(
            {
                "id": f"b{n}",
                "first_name": first,
                "surname": last,
                "date_of_birth": f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "email": f"{first[:1].lower()}{n}.{rng.randint(100, 999)}@example.com",
                "phone": f"+48 5{rng.randint(10, 99)} {rng.randint(100, 999)} {n:03d}",
                "city": city,
                "postcode": f"{prefix}-{rng.randint(100, 999)}",
            }
        )
    return people


# Hand-made duplicates with the typos people make; each group is one person.
GROUPS: list[list[Record]] = [
    [
        {
            "id": "d1a",
            "first_name": "Łukasz",
            "surname": "Kowalski",
            "date_of_birth": "1985-03-11",
            "email": "lukasz.kowalski@example.com",
            "phone": "+48 601 234 567",
            "city": "Kraków",
            "postcode": "31-042",
        },
        {
            "id": "d1b",
            "first_name": "Lukasz",
            "surname": "Kowalsky",
            "date_of_birth": "1985-11-03",
            "email": "Lukasz.Kowalski@example.com",
            "phone": "601 234 567",
            "city": "Krakow",
            "postcode": "31-042",
        },
    ],
    [
        {
            "id": "d2a",
            "first_name": "Anna",
            "surname": "Szczepaniak",
            "date_of_birth": "1990-07-21",
            "email": "anna.szczepaniak@example.com",
            "phone": None,
            "city": "Gdańsk",
            "postcode": "80-180",
        },
        {
            "id": "d2b",
            "first_name": "Ana",
            "surname": "Szczepaniak",
            "date_of_birth": "1990-07-21",
            "email": "anna.szczepaniak@example.org",
            "phone": "+48 602 111 222",
            "city": "Gdansk",
            "postcode": "80-180",
        },
    ],
    [
        {
            "id": "d3a",
            "first_name": "Katarzyna",
            "surname": "Wiśniewska",
            "date_of_birth": "1978-02-14",
            "email": None,
            "phone": "+48 603 555 777",
            "city": "Poznań",
            "postcode": "60-101",
        },
        {
            "id": "d3b",
            "first_name": "Katarzina",
            "surname": "Wisniewska",
            "date_of_birth": "1978-02-15",
            "email": "kasia.w@example.net",
            "phone": "+48603555777",
            "city": "Poznan",
            "postcode": "60-101",
        },
    ],
    [
        {
            "id": "d4a",
            "first_name": "Jonathan",
            "surname": "Fairweather",
            "date_of_birth": "1969-12-01",
            "email": "jon.fairweather@example.co.uk",
            "phone": "+44 7700 900123",
            "city": "Łódź",
            "postcode": "90-001",
        },
        {
            "id": "d4b",
            "first_name": "Jonathon",
            "surname": "Fairweather",
            "date_of_birth": "1969-12-01",
            "email": "jon.fairweather@example.co.uk",
            "phone": None,
            "city": "Lodz",
            "postcode": "90-001",
        },
        {
            "id": "d4c",
            "first_name": "Jonathan",
            "surname": "Fairwether",
            "date_of_birth": "19691201",
            "email": None,
            "phone": "+44 7700 900123",
            "city": "Łódź",
            "postcode": "90-002",
        },
    ],
]
# Namesakes: same common name and city, different people.
NAMESAKES: list[Record] = [
    {
        "id": "n1",
        "first_name": "Piotr",
        "surname": "Nowak",
        "date_of_birth": "1960-01-05",
        "email": "pn1@example.com",
        "phone": "+48 700 100 001",
        "city": "Warszawa",
        "postcode": "00-100",
    },
    {
        "id": "n2",
        "first_name": "Piotr",
        "surname": "Nowak",
        "date_of_birth": "1991-09-30",
        "email": "pn2@example.com",
        "phone": "+48 700 100 002",
        "city": "Warszawa",
        "postcode": "00-950",
    },
]


def crm_export() -> list[Record]:
    records = background(300) + NAMESAKES + [r for group in GROUPS for r in group]
    random.Random(1).shuffle(records)
    return records


def test_dedupe_finds_the_duplicates_and_nothing_else() -> None:
    result = dedupe(crm_export(), id_field="id")
    found = {frozenset(cluster.ids) for cluster in result.clusters}
    assert found == {frozenset(str(r["id"]) for r in group) for group in GROUPS}
    assert result.candidate_pairs > 0
    assert result.settings.prior < 0.01
    for cluster in result.clusters:
        assert len(cluster.pairs) >= len(cluster.ids) - 1  # the links connect the cluster
        for pair in cluster.pairs:
            assert {pair.first_id, pair.second_id} <= set(cluster.ids)
            assert pair.score.probability >= result.settings.link_threshold
            assert pair.score.decision == "link"
            assert pair.score.explain().startswith("linked with probability")


def test_dedupe_explains_a_swapped_birth_date() -> None:
    result = dedupe(crm_export(), id_field="id")
    (cluster,) = [c for c in result.clusters if "d1a" in c.ids]
    (pair,) = cluster.pairs
    levels = {c.field: c.level for c in pair.score.contributions}
    assert levels["date_of_birth"] == "day/month swapped"
    assert levels["first_name"].startswith("exact")  # Łukasz = Lukasz
    assert levels["phone"] == "last 7 digits equal"
    assert "date_of_birth day/month swapped" in pair.score.explain()


def test_same_person_pairs() -> None:
    result = dedupe(crm_export(), id_field="id")
    pairs = result.same_person_pairs()
    assert len(pairs) == 1 + 1 + 1 + 3
    assert ("d4a", "d4b") in pairs or ("d4b", "d4a") in pairs


def test_dedupe_is_deterministic() -> None:
    first = dedupe(crm_export(), id_field="id", seed=1)
    second = dedupe(crm_export(), id_field="id", seed=1)
    assert first == second


def test_link_one_to_one() -> None:
    people = background(240)
    left = people[:120] + [group[0] for group in GROUPS]
    right = people[120:] + [group[1] for group in GROUPS] + [GROUPS[3][2]]
    result = link(left, right, id_field="id", one_to_one=True)
    assert {(p.first_id, p.second_id) for p in result.links} == {
        (str(g[0]["id"]), str(g[1]["id"])) for g in GROUPS
    }
    assert all(len(c.left_ids) == 1 and len(c.right_ids) == 1 for c in result.clusters)
    weights = [p.score.match_weight for p in result.links]
    assert weights == sorted(weights, reverse=True)

    many = link(left, right, id_field="id", settings=result.settings)
    (fairweather,) = [c for c in many.clusters if "d4a" in c.left_ids]
    assert fairweather.right_ids == ("d4b", "d4c")
    assert len(fairweather.pairs) == 2


def test_link_by_position_without_ids() -> None:
    people = [{k: v for k, v in r.items() if k != "id"} for r in background(200)]
    left = [*people[:100], GROUPS[1][0]]
    right = [GROUPS[1][1], *people[100:]]
    result = link(left, right)
    assert [(p.first_id, p.second_id) for p in result.links] == [("100", "0")]


def hand_settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "comparisons": (ExactMatch("surname"), ExactMatch("city")),
        "blocking": block_on("surname"),
        "m_probabilities": ((0.9, 0.1), (0.9, 0.1)),
        "u_probabilities": ((0.01, 0.99), (0.2, 0.8)),
        # prior -4.25 bits; surname exact +6.49; city exact +2.17, else -3
        "prior": 0.05,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def test_given_settings_are_used_as_they_are() -> None:
    records: list[Mapping[str, object]] = [
        {"surname": "Nowak", "city": "Kraków"},
        {"surname": "Nowak", "city": "Kraków"},
        {"surname": "Nowak", "city": "Gdańsk"},
        {"surname": "Lis", "city": "Gdańsk"},
    ]
    settings = hand_settings()
    result = dedupe(records, settings)
    assert result.settings is settings
    # 0 and 1: -4.25 + 6.49 + 2.17 = +4.41 bits (0.955): linked;
    # 2 with either: -4.25 + 6.49 - 3 = -0.76 bits (0.37): apart
    assert [c.ids for c in result.clusters] == [("0", "1")]
    assert result.review == ()
    lenient = dedupe(records, hand_settings(link_threshold=0.99, review_threshold=0.1))
    assert lenient.clusters == ()
    assert {(p.first_id, p.second_id) for p in lenient.review} == {
        ("0", "1"),
        ("0", "2"),
        ("1", "2"),
    }
    assert all(p.score.decision == "review" for p in lenient.review)
    assert lenient.review[0].score.explain().startswith("for review with probability")


def test_review_leaves_out_pairs_already_in_one_cluster() -> None:
    records: list[Mapping[str, object]] = [
        {"surname": "Nowak", "city": "Kraków"},
        {"surname": "Nowak", "city": "Kraków"},
        {"surname": "Nowak", "city": "Gdańsk"},
        {"surname": "Nowak", "city": "Gdańsk"},
    ]
    settings = hand_settings(review_threshold=0.05)
    result = dedupe(records, settings)
    assert [c.ids for c in result.clusters] == [("0", "1"), ("2", "3")]
    assert {(p.first_id, p.second_id) for p in result.review} == {
        ("0", "2"),
        ("0", "3"),
        ("1", "2"),
        ("1", "3"),
    }


def test_one_to_one_keeps_review_for_unlinked_records_only() -> None:
    left: list[Mapping[str, object]] = [{"surname": "Nowak", "city": "Kraków"}]
    right: list[Mapping[str, object]] = [
        {"surname": "Nowak", "city": "Kraków"},
        {"surname": "Nowak", "city": "Kraków"},
        {"surname": "Nowak", "city": "Gdańsk"},
    ]
    settings = hand_settings(review_threshold=0.05)
    result = link(left, right, settings, one_to_one=True)
    assert [(p.first_id, p.second_id) for p in result.links] == [("0", "0")]
    assert result.review == ()
    loose = link(left, right, settings)
    assert [(p.first_id, p.second_id) for p in loose.links] == [("0", "0"), ("0", "1")]
    assert [(p.first_id, p.second_id) for p in loose.review] == [("0", "2")]


def test_empty_inputs() -> None:
    settings = hand_settings()
    assert dedupe([], settings).clusters == ()
    assert link([], [{"surname": "a"}], settings).links == ()
    assert dedupe([{"surname": "Nowak"}]).clusters == ()


def test_infer_settings_from_field_names() -> None:
    records: list[Mapping[str, object]] = [
        {
            "Given Name": "Anna",
            "last-name": "Nowak",
            "DOB": "1990-01-01",
            "Email": "a@example.com",
            "mobile": "+48601234567",
            "street": "Długa 1",
            "address_2": "flat 2",
            "Town": "Kraków",
            "ZIP": "31-000",
            "region": "małopolskie",
            "ssn": "123",
            "house_number": "1",
            "sex": "f",
            "notes": "vip",
            "id": "1",
        }
    ]
    settings = infer_settings(records, id_field="id")
    by_name = {c.name: type(c) for c in settings.comparisons}
    assert by_name == {
        "Given Name": NameComparison,
        "last-name": NameComparison,
        "DOB": DateComparison,
        "Email": EmailComparison,
        "mobile": PhoneComparison,
        "house_number": LevenshteinComparison,
        "street": AddressComparison,
        "address_2": AddressComparison,
        "Town": NameComparison,
        "ZIP": PostcodeComparison,
        "region": ExactMatch,
        "ssn": LevenshteinComparison,
        "sex": ExactMatch,
    }
    assert isinstance(settings.blocking, Or)
    parts = settings.blocking.parts()
    assert block_on("ssn") in parts
    assert block_on("Given Name", "last-name") in parts
    assert block_on("last-name", "ZIP") in parts
    assert block_on("Town", "ZIP") not in parts  # two places say little


def test_link_infers_from_common_fields_only() -> None:
    left: list[Mapping[str, object]] = [{"email": "a@example.com", "surname": "Nowak"}]
    right: list[Mapping[str, object]] = [{"email": "a@example.com", "phone": "+48601234567"}]
    settings = infer_settings(left, right)
    assert [c.name for c in settings.comparisons] == ["email"]
    assert settings.blocking == block_on("email")


def test_full_name_alone_blocks_on_itself() -> None:
    settings = infer_settings([{"name": "Anna Nowak"}])
    assert settings.blocking == block_on("name")


INVALID: list[tuple[str, object, str, str]] = [
    ("not a list", "abc", "records", "sequence of mappings"),
    ("not mappings", [1, 2], "records[0]", "not a mapping"),
    ("no known field", [{"id": 1, "colour": "red"}], "records", "no field omnichannel knows"),
    (
        "repeated id",
        [{"id": "1", "email": "a@b.pl"}, {"id": "1", "email": "c@d.pl"}],
        "records.id",
        "not unique",
    ),
    ("missing id", [{"email": "a@b.pl"}], "records[0].id", "every record needs an id"),
]


@pytest.mark.parametrize(
    ("records", "field", "message"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID]
)
def test_invalid_input(records: object, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message) as caught:
        dedupe(records, id_field="id")  # type: ignore[arg-type]
    assert caught.value.field == field


def test_invalid_settings_object() -> None:
    with pytest.raises(InvalidValueError, match="must be a Settings") as caught:
        link([{"email": "a@b.pl"}], [{"email": "a@b.pl"}], settings={"x": 1})  # type: ignore[arg-type]
    assert caught.value.field == "settings"


def test_fields_without_blocking_power_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="no field to block on") as caught:
        infer_settings([{"state": "nsw", "gender": "f"}])
    assert caught.value.field == "records"
