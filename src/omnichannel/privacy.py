"""Privacy: everything held about a customer, and erasure that stays erased.

:meth:`Hub.export <omnichannel.Hub.export>` gathers what the store holds about a person
(a data subject access request): the profile, the profiles merged into it, identifiers,
every interaction, conversations, consents, merges and review items.

:meth:`Hub.forget <omnichannel.Hub.forget>` erases it: the profile and those merged into
it, their identifiers, interactions (content and traits with them), conversations,
consents, merge snapshots and review items. What stays:

* a **suppression entry** per identifier: a SHA-256 digest of the identifier"s match key
  with a secret salt of the workspace, so an old import or a redelivered webhook
  carrying it is recognised and not stored (outcome ``suppressed``), while the digest
  alone does not reveal the phone number or address;
* a ``profile.forgotten`` event recording that an erasure happened, with profile ids and
  counts but no personal data.

Identifiers another customer still uses (a shared family phone) are neither suppressed
nor taken from that customer. Phones or addresses written inside *other* customers"
messages (their ``mentions``) are theirs and stay.
"""

from omnichannel._privacy import ForgetResult, ProfileExport, suppression_digest

__all__ = ["ForgetResult", "ProfileExport", "suppression_digest"]
