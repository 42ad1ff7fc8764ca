# ruff: noqa: RUF001 - Cyrillic names are data
"""Merge policy: what may decide, and when names say two people differ."""

from __future__ import annotations

import pytest

from omnichannel import Hub, Identifier
from omnichannel.resolution import KindPolicy, MergePolicy, Strength, names_conflict
from omnichannel.storage import MemoryStore
from omnichannel.testing import make_interaction


@pytest.mark.parametrize(
    ("identifier", "strength"),
    [
        (Identifier.email("jan.kowalski@gmail.com"), Strength.STRONG),
        (Identifier.email("Test@Test.com"), Strength.PLACEHOLDER),
        (Identifier.email("noreply@shop.pl"), Strength.PLACEHOLDER),
        (Identifier.email("no-reply+x@shop.pl"), Strength.PLACEHOLDER),
        (Identifier.email("someone@nomail.com"), Strength.PLACEHOLDER),
        (Identifier.email("info@firma.pl"), Strength.ROLE),
        (Identifier.email("kontakt@firma.pl"), Strength.ROLE),
        (Identifier.email("support+ticket@firma.pl"), Strength.ROLE),
        (Identifier.phone("+48601234567"), Strength.STRONG),
        (Identifier.phone("+48123456789"), Strength.PLACEHOLDER),
        (Identifier.external("shop", "anonymous"), Strength.PLACEHOLDER),
        (Identifier.external("loyalty", "000000"), Strength.PLACEHOLDER),
        (Identifier.external("loyalty", "L-77"), Strength.STRONG),
        (Identifier.handle("webchat", "guest"), Strength.PLACEHOLDER),
    ],
)
def test_strength(identifier: Identifier, strength: Strength) -> None:
    assert MergePolicy().strength(identifier) is strength


def test_policies_are_configurable() -> None:
    policy = MergePolicy(
        role_email_locals=frozenset(),
        placeholder_phones=frozenset({"+48601234567"}),
        kinds={"external:shop": KindPolicy(max_per_profile=2, priority=50)},
    )
    assert policy.strength(Identifier.email("info@firma.pl")) is Strength.STRONG
    assert policy.strength(Identifier.phone("+48601234567")) is Strength.PLACEHOLDER
    assert policy.kind_policy(Identifier.external("shop", "1")).max_per_profile == 2
    assert policy.kind_policy(Identifier.phone("+48601234567")).max_per_profile is None


def test_a_custom_policy_reaches_resolution() -> None:
    hub = Hub(MemoryStore(), policy=MergePolicy(role_email_locals=frozenset()))
    a = hub.ingest(make_interaction("1", Identifier.email("info@firma.pl")))
    b = hub.ingest(make_interaction("2", Identifier.email("info@firma.pl"), minutes=1))
    assert a.profile_id == b.profile_id


@pytest.mark.parametrize(
    ("left", "right", "conflict"),
    [
        ({"first_name": "Jan"}, {"first_name": "Anna"}, True),
        ({"first_name": "Łukasz"}, {"first_name": "Lukasz"}, False),
        ({"display_name": "Anna Nowak"}, {"first_name": "Ania", "last_name": "Nowak"}, False),
        ({"display_name": "Jan Kowalski"}, {"display_name": "J. Kowalski"}, False),
        ({"display_name": "Jan Kowalski"}, {"display_name": "M. Kowalska"}, True),
        ({"first_name": "Jan"}, {}, False),
        ({}, {}, False),
        ({"display_name": "   "}, {"first_name": "Jan"}, False),
        ({"display_name": "Nowak, Anna"}, {"first_name": "Anna"}, False),
        ({"display_name": "Nowak, Anna"}, {"first_name": "Piotr"}, True),
        ({"first_name": "Юлія"}, {"first_name": "Yuliia"}, False),
        ({"first_name": "Олена"}, {"first_name": "Helena"}, False),
        ({"first_name": "Тарас"}, {"first_name": "Taras"}, False),
        ({"first_name": "Тарас"}, {"first_name": "Olena"}, True),
        ({"first_name": "Mykola"}, {"first_name": "Nikolay"}, False),
        ({"first_name": "Iurii"}, {"first_name": "Yuri"}, False),
        ({"first_name": "Jędrek"}, {"first_name": "Andrzej"}, False),
        ({"first_name": "John"}, {"first_name": "Jack"}, True),  # father and son
        ({"first_name": "Julia"}, {"first_name": "Petra"}, True),
    ],
)
def test_names_conflict(left: dict[str, str], right: dict[str, str], conflict: bool) -> None:
    assert names_conflict(left, right, 0.8) is conflict
