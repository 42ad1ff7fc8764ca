"""Consent per customer, channel and purpose; opt-out keywords recorded as they arrive.

The rules :meth:`Hub.can_contact <omnichannel.Hub.can_contact>` applies:

* Each profile keeps a history of :class:`~omnichannel.Consent` records. For one channel
  and purpose, the newest record that answers for it counts (a record for channel
  ``"*"`` or purpose ``"*"`` answers for all).
* A merged profile speaks for several people"s histories. Each keeps its own newest
  answer, and the **most restrictive** wins: one refusal outweighs any grant. A record
  made on the merged profile afterwards speaks for all of them (it is the same person
  answering again).
* An unmerge gives each profile back exactly the records made on it.
* Without any answer, the purposes in :attr:`ConsentPolicy.requires_grant` (marketing,
  by default) are refused and the others (service) are allowed.
* An inbound text that is only an opt-out keyword (``STOP``, ``UNSUBSCRIBE``, ``СТОП``,
  ``NIE DZWOŃ`` ...) records a refusal for that channel; an opt-in keyword (``START``)
  records a grant. Matching ignores case, accents and punctuation.
"""

from omnichannel._consent import (
    DEFAULT_OPT_IN_KEYWORDS,
    DEFAULT_OPT_OUT_KEYWORDS,
    ConsentPolicy,
    ContactDecision,
    decide,
)

__all__ = [
    "DEFAULT_OPT_IN_KEYWORDS",
    "DEFAULT_OPT_OUT_KEYWORDS",
    "ConsentPolicy",
    "ContactDecision",
    "decide",
]
