"""Channel mix: which channels carry the work, and how many channels each customer uses."""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import Field

from omnichannel._model import Direction
from omnichannel.analytics._common import Records, Row, check_direction, iter_records

__all__ = ["ChannelMixRow", "ChannelsPerCustomerRow", "channel_mix", "channels_per_customer"]


class ChannelMixRow(Row):
    """One channel's part of the interactions and of the customers.

    Attributes:
        channel: the channel slug.
        interactions: interactions on the channel.
        share: ``interactions`` over all interactions, in [0, 1].
        customers: distinct profiles with at least one interaction on the channel.
        customer_share: ``customers`` over all distinct profiles, in [0, 1]. A customer
            uses several channels, so these shares add up to more than 1.
    """

    channel: str
    interactions: int
    share: float = Field(ge=0, le=1)
    customers: int
    customer_share: float = Field(ge=0, le=1)


class ChannelsPerCustomerRow(Row):
    """How many customers used a given number of distinct channels.

    Attributes:
        channels: the number of distinct channels (1, 2, 3 ...).
        customers: profiles that used exactly that many.
        share: ``customers`` over all profiles, in [0, 1].
    """

    channels: int
    customers: int
    share: float = Field(ge=0, le=1)


def channel_mix(
    records: Records, *, direction: Direction | str | None = None
) -> list[ChannelMixRow]:
    """Each channel's share of the interactions and of the customers.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).
        direction: count only inbound, outbound or internal interactions (None: all).
            ``"inbound"`` answers "where do customers contact us".

    Returns:
        One row per channel, by interactions (most first), then channel.

    Raises:
        InvalidValueError: an unknown direction, a naive ``occurred_at``.
    """
    wanted = check_direction(direction)
    interactions: Counter[str] = Counter()
    customers: defaultdict[str, set[str]] = defaultdict(set)
    everyone: set[str] = set()
    for profile_id, interaction in iter_records(records):
        if wanted is not None and interaction.direction != wanted:
            continue
        interactions[interaction.channel] += 1
        customers[interaction.channel].add(profile_id)
        everyone.add(profile_id)
    total = sum(interactions.values())
    return [
        ChannelMixRow(
            channel=channel,
            interactions=count,
            share=count / total,
            customers=len(customers[channel]),
            customer_share=len(customers[channel]) / len(everyone),
        )
        for channel, count in sorted(interactions.items(), key=lambda item: (-item[1], item[0]))
    ]


def channels_per_customer(
    records: Records, *, direction: Direction | str | None = None
) -> list[ChannelsPerCustomerRow]:
    """How omnichannel the customers are: how many used 1, 2, 3 ... distinct channels.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).
        direction: count only inbound, outbound or internal interactions (None: all).

    Returns:
        One row per number of channels that some customer used, ascending.

    Raises:
        InvalidValueError: an unknown direction, a naive ``occurred_at``.
    """
    wanted = check_direction(direction)
    used: defaultdict[str, set[str]] = defaultdict(set)
    for profile_id, interaction in iter_records(records):
        if wanted is None or interaction.direction == wanted:
            used[profile_id].add(interaction.channel)
    histogram = Counter(len(channels) for channels in used.values())
    return [
        ChannelsPerCustomerRow(channels=n, customers=count, share=count / len(used))
        for n, count in sorted(histogram.items())
    ]
