"""Tests of the synthetic data generator in ``omnichannel.testing._generator``."""

from __future__ import annotations

import hashlib
import itertools
import tracemalloc
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import phonenumbers
import pytest
from pydantic import ValidationError
from rapidfuzz.distance import OSA

from omnichannel import (
    Channel,
    Direction,
    Hub,
    Identifier,
    IdentifierKind,
    Interaction,
    InteractionKind,
    InvalidValueError,
    OrderRefPart,
    TextPart,
)
from omnichannel.resolution._policy import MergePolicy, Strength
from omnichannel.storage import MemoryStore
from omnichannel.testing import _generator
from omnichannel.testing._generator import (
    GroundTruth,
    Metrics,
    NoiseSettings,
    Person,
    SyntheticDataset,
    generate,
    pair_metrics,
    records,
)

SAMPLE_PEOPLE = 2_000
Key = tuple[str, str]


def _key(interaction: Interaction) -> Key:
    assert interaction.source_id is not None
    return (interaction.channel, interaction.source_id)


def _digest(interactions: Iterator[Interaction], count: int) -> str:
    digest = hashlib.sha256()
    for interaction in itertools.islice(interactions, count):
        digest.update(interaction.model_dump_json().encode())
    return digest.hexdigest()


def _fold(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Sample:
    """A 2,000-person dataset with its interactions read once, annotated with noise."""

    def __init__(self) -> None:
        self.dataset = generate(SAMPLE_PEOPLE, seed=11, annotate_noise=True)
        self.interactions = list(self.dataset.interactions)
        self.people = list(self.dataset.people)
        self.by_id = {person.person_id: person for person in self.people}
        self.owner = {_key(i): self.dataset.truth[_key(i)] for i in self.interactions}

    def person_of(self, interaction: Interaction) -> Person:
        return self.by_id[self.owner[_key(interaction)]]


@pytest.fixture(scope="module")
def sample() -> Sample:
    return Sample()


# --- the public surface ------------------------------------------------------------------


def test_all_is_pinned_and_documented() -> None:
    assert _generator.__all__ == [
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
    for name in _generator.__all__:
        obj = getattr(_generator, name)
        assert obj.__doc__, name
        for member_name, member in vars(obj).items() if isinstance(obj, type) else ():
            if not member_name.startswith("_") and callable(member):
                assert member.__doc__, f"{name}.{member_name}"


# --- determinism -------------------------------------------------------------------------


def test_same_seed_same_output() -> None:
    first = generate(300, seed=5)
    second = generate(300, seed=5)
    assert _digest(first.interactions, 1_000) == _digest(second.interactions, 1_000)
    assert _digest(first.interactions, 1_000) == _digest(first.interactions, 1_000)
    assert list(first.people) == list(second.people)
    assert records(first) == records(second)


def test_another_seed_other_output() -> None:
    first, second = generate(300, seed=5), generate(300, seed=6)
    assert _digest(first.interactions, 200) != _digest(second.interactions, 200)
    assert list(first.people) != list(second.people)


def test_known_normal_forms_match_the_library() -> None:
    """The fast path builds identifiers from known normal forms; the check path through
    ``Identifier.phone/email/handle/external``: the output is byte for byte the same."""
    fast = generate(300, seed=2)
    checked = generate(300, seed=2, check_identifiers=True)
    count = 0
    for one, other in zip(fast.interactions, checked.interactions, strict=True):
        assert one.model_dump_json() == other.model_dump_json()
        count += 1
    assert count == fast.interaction_count


def test_annotations_change_nothing_else() -> None:
    plain = generate(300, seed=4)
    annotated = generate(300, seed=4, annotate_noise=True)
    noted = 0
    for one, other in zip(plain.interactions, annotated.interactions, strict=True):
        dumped = other.model_dump()
        noted += "noise" in dumped["metadata"]
        dumped["metadata"].pop("noise", None)
        assert one.model_dump() == dumped
    assert noted > 0


# --- the interactions --------------------------------------------------------------------


def test_every_interaction_validates(sample: Sample) -> None:
    for interaction in sample.interactions:
        again = Interaction.model_validate_json(interaction.model_dump_json())
        assert again.model_dump() == interaction.model_dump()
        assert interaction.identifiers


def test_every_interaction_can_be_ingested(sample: Sample) -> None:
    """Each names its customer with something other than a placeholder."""
    hub = Hub(store=MemoryStore())
    for interaction in sample.interactions:
        assert hub.validate(interaction) is interaction


def test_a_hub_resolves_a_small_dataset() -> None:
    dataset = generate(120, seed=31)
    hub = Hub(store=MemoryStore())
    stored = {_key(i): hub.ingest(i).profile_id for i in dataset.interactions}
    live = {profile_id: hub.profile(profile_id).id for profile_id in set(stored.values())}
    metrics = pair_metrics({key: live[pid] for key, pid in stored.items()}, dataset.truth)
    assert metrics.interactions == dataset.interaction_count
    assert 0 < metrics.same_profile_pairs <= metrics.pairs
    assert 0 <= metrics.over_merge_rate <= 1
    assert 0 <= metrics.under_merge_rate <= 1


def test_phone_numbers_are_valid_and_distinct(sample: Sample) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for person in sample.people:
        for tenure in person.phones:
            parsed = phonenumbers.parse(tenure.number)
            assert phonenumbers.is_valid_number(parsed)
            assert phonenumbers.region_code_for_number(parsed) == tenure.region
            owners[tenure.number].add(person.person_id)
    for number, person_ids in owners.items():
        if len(person_ids) == 1:
            continue
        tenures = [t for pid in person_ids for t in sample.by_id[pid].phones if t.number == number]
        if not all(t.is_shared for t in tenures):  # not a household's: handed over once
            assert len(tenures) == 2
            assert {t.until is None for t in tenures} == {True, False}


def test_interactions_are_in_time_order_and_uniquely_named(sample: Sample) -> None:
    moments = [i.occurred_at for i in sample.interactions]
    assert moments == sorted(moments)
    dataset = sample.dataset
    assert all(dataset.start <= moment < dataset.end for moment in moments)
    assert all(moment.tzinfo is not None for moment in moments)
    assert len({_key(i) for i in sample.interactions}) == len(sample.interactions)
    assert len({i.id for i in sample.interactions}) == len(sample.interactions)


def test_channels_kinds_and_directions_are_realistic(sample: Sample) -> None:
    channels = Counter(i.channel for i in sample.interactions)
    assert set(channels) <= {c.value for c in Channel}
    assert len(channels) == 8
    kinds = Counter(i.kind for i in sample.interactions)
    assert set(kinds) == {
        k.value for k in InteractionKind if k.value in {"message", "call", "order", "pickup"}
    } | {"return", "visit"}
    directions = Counter(i.direction for i in sample.interactions)
    assert directions[Direction.INBOUND] / len(sample.interactions) > 0.8
    assert directions[Direction.OUTBOUND] > 0


def test_content_fits_the_channel(sample: Sample) -> None:
    for interaction in sample.interactions:
        identifier_kinds = {identifier.kind for identifier in interaction.identifiers}
        if interaction.kind == InteractionKind.MESSAGE.value and not any(
            part.type == "contact" for part in interaction.content
        ):
            (text,) = (p for p in interaction.content if isinstance(p, TextPart))
            assert text.text
            assert text.language == sample.person_of(interaction).language
        if interaction.kind in ("order", "pickup", "return"):
            (order,) = (p for p in interaction.content if isinstance(p, OrderRefPart))
            if interaction.kind == "order":
                assert order.amount is not None
                assert order.amount > 0
                assert order.currency is not None
        if interaction.channel in ("whatsapp", "sms", "voice"):
            assert identifier_kinds == {IdentifierKind.PHONE}
        if interaction.channel == "email":
            assert identifier_kinds == {IdentifierKind.EMAIL}
            if interaction.direction is Direction.INBOUND:
                assert interaction.traits["display_name"]
        if interaction.channel == "web":
            assert IdentifierKind.EMAIL in identifier_kinds
            assert {"first_name", "last_name", "address", "postcode", "city"} <= set(
                interaction.traits
            )
        if interaction.channel == "telegram":
            assert IdentifierKind.HANDLE in identifier_kinds


def test_follow_ups_refer_back(sample: Sample) -> None:
    by_source = {i.source_id: i for i in sample.interactions}
    replies = [i for i in sample.interactions if i.reply_to is not None]
    assert replies
    for reply in replies:
        original = by_source[reply.reply_to]
        assert original.channel == reply.channel
        assert original.occurred_at <= reply.occurred_at
        assert reply.direction is Direction.OUTBOUND
        assert {x.key for x in reply.identifiers} <= {x.key for x in original.identifiers}
    orders = {
        part.order_id: i
        for i in sample.interactions
        for part in i.content
        if isinstance(part, OrderRefPart) and i.kind == "order"
    }
    pickups = [i for i in sample.interactions if i.kind == "pickup"]
    assert pickups
    for pickup in pickups:
        (part,) = pickup.content
        assert isinstance(part, OrderRefPart)
        order = orders[part.order_id]
        assert sample.owner[_key(order)] == sample.owner[_key(pickup)]
        assert order.occurred_at < pickup.occurred_at


# --- the ground truth --------------------------------------------------------------------


def test_truth_covers_every_interaction(sample: Sample) -> None:
    truth = sample.dataset.truth
    assert isinstance(truth, GroundTruth)
    assert len(truth) == len(sample.interactions) == sample.dataset.interaction_count
    assert set(sample.owner.values()) <= set(sample.by_id)
    assert (
        truth.person_of(sample.interactions[0]).person_id
        == sample.owner[_key(sample.interactions[0])]
    )


def test_truth_is_consistent_with_what_people_own(sample: Sample) -> None:
    """Every identifier an interaction shows is the true person's (or a placeholder)."""
    policy = MergePolicy()
    for interaction in sample.interactions:
        person = sample.person_of(interaction)
        phones = {tenure.number for tenure in person.phones}
        mailboxes = {Identifier.email(address).key for address in person.emails}
        handles = {handle.match for handle in person.handles}
        for identifier in interaction.identifiers:
            if policy.strength(identifier) is Strength.PLACEHOLDER:
                continue
            if identifier.kind is IdentifierKind.PHONE:
                assert identifier.value in phones
            elif identifier.kind is IdentifierKind.EMAIL:
                assert identifier.key in mailboxes
            elif identifier.kind is IdentifierKind.HANDLE:
                assert identifier.match in handles
            else:
                assert identifier.value == person.loyalty_card


def test_truth_rejects_what_is_not_the_datasets() -> None:
    dataset = generate(50, seed=1)
    interaction = next(dataset.interactions)
    channel, source_id = _key(interaction)
    assert (channel, source_id) in dataset.truth
    wrong_channel = "sms" if channel != "sms" else "voice"
    for key in (
        (wrong_channel, source_id),
        (channel, source_id + "0"),
        (channel, "nonsense"),
        ("fax", source_id),
        ("sms", "SM" + "0" * 32),
    ):
        assert key not in dataset.truth
    with pytest.raises(KeyError):
        dataset.truth[(channel, "nonsense")]
    other = generate(50, seed=2)
    assert sum(_key(i) in other.truth for i in itertools.islice(dataset.interactions, 100)) < 5


def test_truth_iterates_the_interactions() -> None:
    dataset = generate(40, seed=3)
    assert list(dataset.truth) == [_key(i) for i in dataset.interactions]


def test_people_are_a_lazy_sequence() -> None:
    dataset = generate(30, seed=3)
    people = dataset.people
    assert len(people) == 30
    assert people[0].person_id == "P0000001"
    assert [p.person_id for p in people[1:3]] == ["P0000002", "P0000003"]
    assert dataset.person("P0000030") == people[29]
    for bad in ("P0000031", "P0000000", "X1", "P12"):
        with pytest.raises(KeyError):
            dataset.person(bad)
    assert "people=30" in repr(dataset)


def test_the_stream_holds_no_interactions() -> None:
    dataset = generate(500, seed=8, interactions_per_customer=(10, 12))
    stream = dataset.interactions
    assert isinstance(stream, Iterator)
    for _ in itertools.islice(stream, 500):  # warm the caches
        pass
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in itertools.islice(stream, 3_000):
            pass
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 300_000  # keeping 3,000 interactions would take megabytes


# --- noise, kind by kind -----------------------------------------------------------------


def _between(observed: float, expected: float, tolerance: float) -> bool:
    return abs(observed - expected) <= tolerance


def test_group_noise_touches_its_share_of_people(sample: Sample) -> None:
    noise, people = sample.dataset.noise, sample.people
    n = len(people)
    assert _between(sum(p.household_id is not None for p in people) / n, noise.household, 0.01)
    assert _between(sum(p.namesake_group is not None for p in people) / n, noise.namesake, 0.01)
    assert _between(sum(p.business_id is not None for p in people) / n, noise.role_mailbox, 0.01)
    recycled = sum(any(t.until is not None for t in p.phones) for p in people)
    assert _between(recycled / n, noise.recycled_number, 0.003)
    abroad = sum(p.phones[0].region != p.country for p in people if not p.household_id)
    assert _between(abroad / n, noise.foreign_phone, 0.02)


def test_phone_formats_occur_at_their_rate_and_read_back(sample: Sample) -> None:
    written = national = 0
    for interaction in sample.interactions:
        if interaction.direction is not Direction.INBOUND or interaction.channel == "whatsapp":
            continue
        region = interaction.metadata.get("region")
        for identifier in interaction.identifiers:
            if identifier.kind is not IdentifierKind.PHONE:
                continue
            written += 1
            raw = identifier.original
            if raw is None:
                continue
            national += not raw.startswith("+")
            if raw.startswith("+"):
                assert Identifier.phone(raw) == identifier
            else:  # a national or 00 spelling: only where the channel knows the region
                assert interaction.channel in ("sms", "voice", "store", "web")
                assert isinstance(region, str)
                assert Identifier.phone(raw, region) == identifier
    share = sum(
        x.original is not None
        for i in sample.interactions
        if i.direction is Direction.INBOUND and i.channel != "whatsapp"
        for x in i.identifiers
        if x.kind is IdentifierKind.PHONE
    )
    assert _between(share / written, sample.dataset.noise.phone_format, 0.04)
    assert national > 100
    whatsapp = [x for i in sample.interactions if i.channel == "whatsapp" for x in i.identifiers]
    assert all(x.original is None for x in whatsapp)  # a wa_id is E.164


def test_phone_spellings_cover_the_usual_formats(sample: Sample) -> None:
    spellings = [
        x.original
        for i in sample.interactions
        for x in i.identifiers
        if x.kind is IdentifierKind.PHONE and x.original
    ]
    assert any(s.startswith("00") for s in spellings)  # 0048 ...
    assert any(s.startswith("011 ") for s in spellings)  # from the US
    assert any("(" in s for s in spellings)
    assert any("-" in s and not s.startswith("+") for s in spellings)
    assert any(s.startswith("+") and " " in s for s in spellings)
    assert any(s.startswith("0") and s[1] != "0" for s in spellings)  # trunk 0
    assert any(s[0] in "5678" and s.replace(" ", "").isdigit() for s in spellings)  # no 0


def test_email_variants_occur_at_their_rate_and_share_the_mailbox(sample: Sample) -> None:
    registered: dict[str, str] = {}  # match key -> address as registered
    for person in sample.people:
        for address in person.emails:
            registered[Identifier.email(address).key] = address
    written = varied = 0
    gmail_spellings: dict[str, set[str]] = defaultdict(set)
    for interaction in sample.interactions:
        if interaction.direction is not Direction.INBOUND:
            continue
        for identifier in interaction.identifiers:
            if identifier.kind is not IdentifierKind.EMAIL or identifier.key not in registered:
                continue
            spelled = identifier.original or identifier.value
            written += 1
            varied += spelled != registered[identifier.key]
            if identifier.key.endswith("@gmail.com"):
                gmail_spellings[identifier.key].add(spelled)
                assert Identifier.email(spelled).key == identifier.key
    assert _between(varied / written, sample.dataset.noise.email_variant, 0.03)
    spellings = {s for group in gmail_spellings.values() for s in group}
    assert any("+" in s for s in spellings)
    assert any(s.lower().endswith("@googlemail.com") for s in spellings)
    assert any(s != s.lower() for s in spellings)
    several = [group for group in gmail_spellings.values() if len(group) > 1]
    assert len(several) > 20
    for group in several:
        assert len({Identifier.email(s).key for s in group}) == 1


def _observed_names(dataset: SyntheticDataset) -> Iterator[tuple[Person, str, str]]:
    """(person, observed first name, observed last name) from formal name traits."""
    for interaction in dataset.interactions:
        if interaction.channel in ("web", "store") and "first_name" in interaction.traits:
            person = dataset.truth.person_of(interaction)
            first, last = interaction.traits["first_name"], interaction.traits["last_name"]
            assert isinstance(first, str)
            assert isinstance(last, str)
            yield person, first, last


def test_name_typos_are_single_slips_at_their_rate() -> None:
    noise = NoiseSettings.none().model_copy(update={"name_typo": 0.2})
    dataset = generate(600, seed=21, noise=noise)
    names = changed = 0
    for person, first, last in _observed_names(dataset):
        for seen, real in ((first, person.first_name), (last, person.surname)):
            names += 1
            if seen != real:
                changed += 1
                assert OSA.distance(seen, real) == 1
    assert _between(changed / names, 0.2, 0.03)


def test_diacritics_are_dropped_at_their_rate() -> None:
    noise = NoiseSettings.none().model_copy(update={"diacritics_dropped": 0.4})
    dataset = generate(800, seed=22, noise=noise, countries=("PL", "DE", "FR"))
    marked = dropped = 0
    spellings: dict[str, set[str]] = defaultdict(set)
    for person, first, last in _observed_names(dataset):
        for seen, real in ((first, person.first_name), (last, person.surname)):
            spellings[real].add(seen)
            if _fold(real) == real:
                assert seen == real
                continue
            marked += 1
            if seen != real:
                dropped += 1
                assert seen.isascii()
    assert _between(dropped / marked, 0.4, 0.05)
    assert {"Muller", "Mueller"} & spellings.get("Müller", set())
    polish = {s for real, group in spellings.items() if "ł" in real.lower() for s in group}
    assert any("l" in s.lower() and s.isascii() for s in polish)


def test_transliterations_vary_ukrainian_names() -> None:
    noise = NoiseSettings.none().model_copy(update={"transliteration": 0.5})
    dataset = generate(500, seed=23, noise=noise, countries=("UA",))
    observed = [(person.first_name, first) for person, first, _ in _observed_names(dataset)]
    spellings: dict[str, set[str]] = defaultdict(set)
    for real, first in observed:
        spellings[real].add(first)
    assert spellings["Oleksandr"] <= {
        "Oleksandr",
        "Aleksandr",
        "Alexander",
        "Alexandr",
        "Olexandr",
    }
    assert len(spellings["Oleksandr"]) >= 3
    assert {"Yulia", "Iuliia", "Julia", "Yuliya"} & spellings["Yuliia"]
    assert {"Sergey", "Sergei", "Serhiy", "Sergiy"} & spellings["Serhii"]
    varied = [
        first != real
        for real, first in observed
        if real in ("Oleksandr", "Serhii", "Yuliia", "Olena", "Dmytro", "Iryna")
    ]
    assert _between(sum(varied) / len(varied), 0.5, 0.08)
    cyrillic = [
        i.traits.get("first_name", "")
        for i in dataset.interactions
        if i.channel == "telegram" and "first_name" in i.traits
    ]
    assert any("\u0400" <= str(name)[:1] <= "\u04ff" for name in cyrillic)


def test_nicknames_appear_in_informal_channels() -> None:
    noise = NoiseSettings.none().model_copy(update={"nickname": 0.6})
    dataset = generate(600, seed=24, noise=noise, countries=("PL",))
    shown = {
        str(i.traits["display_name"]).split()[0]
        for i in dataset.interactions
        if i.channel in ("whatsapp", "webchat") and "display_name" in i.traits
    }
    assert shown & {"Gosia", "Kasia", "Ania", "Tomek", "Kuba", "Wojtek", "Piotrek", "Asia"}


def test_households_share_a_phone_across_first_names(sample: Sample) -> None:
    users: dict[str, set[str]] = defaultdict(set)  # number -> person ids
    for interaction in sample.interactions:
        for identifier in interaction.identifiers:
            if identifier.kind is IdentifierKind.PHONE:
                users[identifier.value].add(sample.owner[_key(interaction)])
    shared = 0
    for number, person_ids in users.items():
        people = [sample.by_id[pid] for pid in person_ids]
        households = {p.household_id for p in people}
        if len(people) < 2 or households == {None}:
            continue
        assert len(households) == 1
        assert len({p.first_name for p in people}) == len(people)
        assert len({p.address for p in people}) == 1
        assert len({p.surname[:4] for p in people}) == 1  # Kowalski, Kowalska
        assert all(any(t.number == number and t.is_shared for t in p.phones) for p in people)
        shared += 1
    assert shared >= 20


def test_namesakes_share_a_full_name_and_nothing_else(sample: Sample) -> None:
    groups: dict[str, list[Person]] = defaultdict(list)
    for person in sample.people:
        if person.namesake_group:
            groups[person.namesake_group].append(person)
    assert len(groups) >= 10
    same_city = 0
    for members in groups.values():
        assert len(members) >= 2
        assert len({(p.first_name, p.surname) for p in members}) == 1
        assert len({p.birth_date for p in members}) == len(members)
        assert len({p.emails[0] for p in members}) == len(members)
        assert len({p.phones[0].number for p in members}) == len(members)
        same_city += len({p.city for p in members}) == 1
    assert same_city >= 1


def test_role_mailboxes_are_shared_by_a_business(sample: Sample) -> None:
    policy = MergePolicy()
    users: dict[str, set[str]] = defaultdict(set)
    for interaction in sample.interactions:
        for identifier in interaction.identifiers:
            if identifier.kind is IdentifierKind.EMAIL:
                users[identifier.key].add(sample.owner[_key(interaction)])
    shared = [
        (key, ids)
        for key, ids in users.items()
        if len(ids) > 1 and policy.strength(Identifier.email(key)) is not Strength.PLACEHOLDER
    ]
    assert len(shared) >= 5
    for key, ids in shared:
        assert policy.strength(Identifier.email(key)) is Strength.ROLE
        assert len({sample.by_id[pid].business_id for pid in ids}) == 1


def test_recycled_numbers_pass_from_one_person_to_another(sample: Sample) -> None:
    seen: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for interaction in sample.interactions:
        for identifier in interaction.identifiers:
            if identifier.kind is IdentifierKind.PHONE:
                owner = sample.owner[_key(interaction)]
                seen[identifier.value].append((interaction.occurred_at, owner))
    handed_over = 0
    for number, uses in seen.items():
        owners = [owner for _, owner in uses]
        people = [sample.by_id[pid] for pid in dict.fromkeys(owners)]
        if len(people) != 2 or people[0].household_id is not None:
            continue
        first, second = people
        handed_over += 1
        last_of_first = max(at for at, owner in uses if owner == first.person_id)
        first_of_second = min(at for at, owner in uses if owner == second.person_id)
        assert last_of_first < first_of_second
        (old,) = (t for t in first.phones if t.number == number)
        (new,) = (t for t in second.phones if t.number == number)
        assert old.until is not None
        assert new.since is not None
        assert old.until < new.since <= first_of_second
    assert handed_over >= 3


def test_placeholders_occur_at_their_rate_and_name_nobody(sample: Sample) -> None:
    policy = MergePolicy()
    store = [i for i in sample.interactions if i.channel == "store"]
    marked = [i for i in store if "placeholder" in i.metadata.get("noise", [])]  # type: ignore[operator]
    assert _between(len(marked) / len(store), sample.dataset.noise.placeholder, 0.015)
    for interaction in marked:
        assert any(policy.strength(x) is Strength.PLACEHOLDER for x in interaction.identifiers)
    values = {x.value for i in marked for x in i.identifiers}
    assert "000000" in values or "0000000000000" in values
    assert values & {"test@test.com", "noreply@shop.example", "no@email.com"}


def test_clean_data_has_no_noise() -> None:
    dataset = generate(300, seed=9, noise=NoiseSettings.none(), annotate_noise=True)
    people = list(dataset.people)
    assert all(p.household_id is None and p.business_id is None for p in people)
    assert all(p.namesake_group is None for p in people)
    for interaction in dataset.interactions:
        assert "noise" not in interaction.metadata
        assert all(
            x.original is None or x.kind is IdentifierKind.HANDLE for x in interaction.identifiers
        )


# --- pair metrics ------------------------------------------------------------------------

TRUTH = {"a": "P1", "b": "P1", "c": "P1", "d": "P2", "e": "P2"}


def test_pair_metrics_by_hand() -> None:
    metrics = pair_metrics({"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Z"}, TRUTH)
    assert isinstance(metrics, Metrics)
    # 10 pairs; same person: ab ac bc de (4); same profile: ab cd (2); correct: ab (1)
    counts = metrics.model_dump(include={"interactions", "pairs", "same_person_pairs"})
    assert counts == {"interactions": 5, "pairs": 10, "same_person_pairs": 4}
    assert (metrics.same_profile_pairs, metrics.correct_pairs) == (2, 1)
    assert (metrics.over_merged_pairs, metrics.under_merged_pairs) == (1, 3)
    assert metrics.over_merge_rate == pytest.approx(1 / 6)  # 1 of 6 different-person pairs
    assert metrics.under_merge_rate == pytest.approx(3 / 4)  # 3 of 4 same-person pairs
    assert metrics.precision == pytest.approx(1 / 2)
    assert metrics.recall == pytest.approx(1 / 4)
    assert metrics.f1 == pytest.approx(1 / 3)


def test_pair_metrics_perfect_all_in_one_and_all_apart() -> None:
    perfect = pair_metrics({k: "profile-" + v for k, v in TRUTH.items()}, TRUTH)
    assert (perfect.over_merge_rate, perfect.under_merge_rate) == (0.0, 0.0)
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    together = pair_metrics(dict.fromkeys(TRUTH, "one"), TRUTH)
    assert (together.over_merge_rate, together.under_merge_rate) == (1.0, 0.0)
    assert together.over_merged_pairs == 6
    assert together.precision == pytest.approx(0.4)
    apart = pair_metrics({k: k for k in TRUTH}, TRUTH)
    assert (apart.over_merge_rate, apart.under_merge_rate) == (0.0, 1.0)
    assert (apart.precision, apart.recall, apart.f1) == (1.0, 0.0, 0.0)
    empty = pair_metrics({}, TRUTH)
    assert (empty.pairs, empty.precision, empty.recall) == (0, 1.0, 1.0)


def test_pair_metrics_rejects_unknown_keys() -> None:
    with pytest.raises(InvalidValueError) as caught:
        pair_metrics({"zz": "X"}, TRUTH)
    assert caught.value.field == "assignment"
    assert "zz" in str(caught.value)


def test_pair_metrics_on_a_dataset(sample: Sample) -> None:
    truth = sample.dataset.truth
    perfect = pair_metrics(sample.owner, truth)
    assert perfect.interactions == len(sample.interactions)
    assert (perfect.over_merge_rate, perfect.under_merge_rate, perfect.f1) == (0.0, 0.0, 1.0)
    by_phone_or_email: dict[Key, str] = {}  # a naive resolver: the first identifier's key
    for interaction in sample.interactions:
        by_phone_or_email[_key(interaction)] = interaction.identifiers[0].key
    naive = pair_metrics(by_phone_or_email, truth)
    assert 0 < naive.over_merge_rate < 0.01  # shared phones, role mailboxes, placeholders
    assert 0.3 < naive.under_merge_rate < 1


# --- the CRM export ----------------------------------------------------------------------


def test_records_are_a_noisy_crm_export() -> None:
    dataset = generate(500, seed=13)
    rows = records(dataset)
    assert list(rows[0]) == [
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
    ]
    assert len({row["record_id"] for row in rows}) == len(rows)
    per_person = Counter(row["truth"] for row in rows)
    assert set(per_person) == {p.person_id for p in dataset.people}
    assert set(per_person.values()) <= {1, 2, 3}
    differs = Counter[str]()
    for row in rows:
        truth = row["truth"]
        assert truth is not None
        person = dataset.person(truth)
        assert row["country"] == person.country
        if row["phone"] is not None:
            number = Identifier.phone(row["phone"], person.country).value
            assert number in {t.number for t in person.phones}
        if row["date_of_birth"] is not None:
            assert row["date_of_birth"] == person.birth_date.isoformat()
        for field, real in (("first_name", person.first_name), ("city", person.city)):
            differs[field] += row[field] != real
        differs["missing"] += row["email"] is None
    assert all(count > 0 for count in differs.values())
    assert records(dataset) == rows
    exact = pair_metrics(
        {row["record_id"]: row["truth"] for row in rows},
        {row["record_id"]: row["truth"] for row in rows},
    )
    assert exact.f1 == 1.0


def test_records_per_person_bounds() -> None:
    dataset = generate(50, seed=13)
    assert len(records(dataset, per_person=(2, 2))) == 100
    with pytest.raises(InvalidValueError):
        records(dataset, per_person=(0, 2))


# --- arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"customers": 0}, "customers"),
        ({"customers": 5, "interactions_per_customer": (3, 2)}, "interactions_per_customer"),
        ({"customers": 5, "interactions_per_customer": (0, 2)}, "interactions_per_customer"),
        ({"customers": 5, "interactions_per_customer": (1, 5000)}, "interactions_per_customer"),
        ({"customers": 5, "days": 0}, "days"),
        ({"customers": 5, "countries": ("PL", "IT")}, "countries"),
        ({"customers": 5, "countries": ()}, "countries"),
        ({"customers": 5, "start": datetime(2026, 1, 1)}, "start"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        generate(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_noise_settings_are_checked() -> None:
    with pytest.raises(ValidationError):
        NoiseSettings(household=1.5)
    with pytest.raises(ValidationError, match="must not exceed 1"):
        NoiseSettings(household=0.6, namesake=0.3, role_mailbox=0.2)


def test_start_and_length_are_honoured() -> None:
    start = datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    dataset = generate(40, seed=1, start=start, days=10, countries=("GB",))
    moments = [i.occurred_at for i in dataset.interactions]
    assert min(moments) >= start
    assert max(moments) < start + timedelta(days=10)
    assert {p.country for p in dataset.people} == {"GB"}
