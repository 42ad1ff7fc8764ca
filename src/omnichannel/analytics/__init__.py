"""Reports over interactions and conversations: pure functions over model objects.

Every report takes what it reads as an iterable and returns a list of frozen rows (pydantic
models), in one pass or one sort over its input:

* ``records``: ``(profile_id, interaction)`` pairs, sorted by ``(occurred_at,
  interaction.id)`` (the :class:`~omnichannel.Hub` feeds them from the store). Only
  :func:`journeys` needs the order and checks it; the others accept any order.
* ``conversations``: :class:`~omnichannel.Conversation` objects.

Reports by time take ``tz`` (an IANA name such as ``"Europe/Warsaw"``, or a ``tzinfo``;
UTC by default) and, over time, a ``period`` (:data:`Period`: ``"hour"``, ``"day"``,
``"week"`` from Monday, ``"month"``) whose starts are aware datetimes in that zone.

The reports:

* volume: :func:`volume` (channel x weekday x hour, for staffing) and
  :func:`volume_over_time`;
* topics: :func:`topic_counts`, :func:`topic_spikes` (a one-sided Poisson test against a
  trailing baseline, :func:`detect_spikes` on any series);
* service: :func:`response_times` per first channel;
* customers: :func:`channel_mix`, :func:`channels_per_customer`;
* commerce: :func:`journeys` (the channels before an order, and on to its pick-up),
  :func:`fulfilment` (click & collect pick-ups and in-store returns of online orders).

Rows go out with :func:`to_records`, :func:`to_csv` and, with the ``plot`` extra
(``pip install 'omnichannel[plot]'``), :func:`plot`. Bad options raise
:class:`~omnichannel.InvalidValueError` naming the option.

Example::

    from omnichannel.analytics import topic_spikes, to_csv

    spikes = topic_spikes(records, period="day", tz="Europe/Warsaw")
    to_csv(spikes, "spikes.csv")
"""

from omnichannel.analytics._common import Period
from omnichannel.analytics._export import PATH_SEPARATOR, to_csv, to_records
from omnichannel.analytics._fulfilment import FulfilmentRow, fulfilment
from omnichannel.analytics._journeys import NON_CONTACT_KINDS, JourneyRow, journeys
from omnichannel.analytics._mix import (
    ChannelMixRow,
    ChannelsPerCustomerRow,
    channel_mix,
    channels_per_customer,
)
from omnichannel.analytics._plot import plot
from omnichannel.analytics._response import ALL_CHANNELS, ResponseTimeRow, response_times
from omnichannel.analytics._spikes import MIN_RATE, Spike, detect_spikes, poisson_upper_tail
from omnichannel.analytics._topics import (
    TopicCountRow,
    TopicSpikeRow,
    topic_counts,
    topic_spikes,
)
from omnichannel.analytics._volume import PeriodVolumeRow, VolumeRow, volume, volume_over_time

__all__ = [
    "ALL_CHANNELS",
    "MIN_RATE",
    "NON_CONTACT_KINDS",
    "PATH_SEPARATOR",
    "ChannelMixRow",
    "ChannelsPerCustomerRow",
    "FulfilmentRow",
    "JourneyRow",
    "Period",
    "PeriodVolumeRow",
    "ResponseTimeRow",
    "Spike",
    "TopicCountRow",
    "TopicSpikeRow",
    "VolumeRow",
    "channel_mix",
    "channels_per_customer",
    "detect_spikes",
    "fulfilment",
    "journeys",
    "plot",
    "poisson_upper_tail",
    "response_times",
    "to_csv",
    "to_records",
    "topic_counts",
    "topic_spikes",
    "volume",
    "volume_over_time",
]
