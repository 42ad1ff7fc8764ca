"""Topics on interactions: by hand, by keyword and pattern rules, or by your classifier.

A *tagger* is any callable that takes an :class:`~omnichannel.Interaction` and returns
topic labels. Pass taggers to ``Hub(topics=...)``: each ingested interaction gets the
topics it arrived with plus those the taggers return, and its conversation collects them.

Example::

    rules = TopicRules([
        TopicRule("payment problem", keywords=["payment failed", "card declined"]),
        TopicRule("payment problem", keywords=["płatność nie przeszła"], language="pl"),
        TopicRule("delivery", patterns=[r"\\bwhere is my (order|parcel)\\b"]),
    ])
    hub = Hub(topics=[rules, my_model.predict_topics])
"""

from omnichannel._topics import Tagger, TopicRule, TopicRules, fold_text, tag

__all__ = ["Tagger", "TopicRule", "TopicRules", "fold_text", "tag"]
