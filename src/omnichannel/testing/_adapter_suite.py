"""The channel adapter conformance suite, as a pytest class to subclass.

Example::

    from omnichannel.testing import AdapterConformance

    class TestViberAdapter(AdapterConformance):
        @pytest.fixture
        def adapter(self) -> ChannelAdapter:
            return ViberAdapter()

        @pytest.fixture
        def samples(self) -> list[InboundRequest]:
            return [InboundRequest(body=..., headers=...)]

        def sign(self, request, secret, now):   # how the vendor signs a request
            ...

        @pytest.fixture
        def outbound(self) -> Interaction:       # a reply the adapter can render
            ...
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnichannel._errors import InvalidPayloadError, OmnichannelError, SignatureError
from omnichannel._model import Direction, Interaction
from omnichannel.channels._base import DEFAULT_MAX_BODY_BYTES
from omnichannel.channels._protocol import ChannelAdapter, InboundRequest

__all__ = ["AdapterConformance"]

_FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
_json_value = st.recursive(
    _json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(value[head], rest, new, delete)
        return copy
    copy_list = list(value)
    if delete and not rest:
        copy_list.pop(head)
    else:
        copy_list[head] = _replace(value[head], rest, new, delete)
    return copy_list


def _check_outcome(adapter: ChannelAdapter, request: InboundRequest) -> None:
    """Parsing either returns interactions or raises an OmnichannelError; nothing else."""
    try:
        result = adapter.parse(request)
    except OmnichannelError:
        return
    assert isinstance(result, list)
    assert all(isinstance(item, Interaction) for item in result)


class AdapterConformance:
    """Behaviour every channel adapter must show. Override the ``adapter``, ``samples``
    and ``outbound`` fixtures and the :meth:`sign` method."""

    secret = "conformance-secret"
    """The secret the suite signs requests with."""

    signs_body = True
    """False for schemes whose signature does not cover the body (Telegram's secret
    token): the suite then checks that only the signature headers decide."""

    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        """Override: the adapter under test, with default options."""
        raise NotImplementedError("override the adapter fixture")

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        """Override: real vendor requests (unsigned), each parsing to interactions."""
        raise NotImplementedError("override the samples fixture")

    @pytest.fixture
    def outbound(self) -> Interaction:
        """Override: an outbound interaction the adapter can render."""
        raise NotImplementedError("override the outbound fixture")

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        """Override: ``request`` signed with ``secret`` as the vendor would at ``now``."""
        raise NotImplementedError("override sign()")

    # --- parsing -------------------------------------------------------------------

    def test_samples_parse_into_valid_interactions(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        assert samples, "give at least one sample request"
        for request in samples:
            interactions = adapter.parse(request)
            assert isinstance(interactions, list)
            for item in interactions:
                assert isinstance(item, Interaction)
                assert item.source_id, "every interaction needs the channel's own id"
                assert item.occurred_at.tzinfo is not None
                if item.direction is Direction.INBOUND and item.kind not in ("status",):
                    assert item.identifiers, f"inbound {item.kind} without a sender identifier"
                assert not set(item.identifiers) & set(item.mentions), (
                    "an identifier cannot be both the sender's and merely mentioned"
                )
                json.loads(item.model_dump_json())

    def test_some_sample_yields_an_interaction(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        assert any(adapter.parse(request) for request in samples)

    def test_parsing_is_deterministic(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        for request in samples:
            first = [i.model_dump(exclude={"id"}) for i in adapter.parse(request)]
            second = [i.model_dump(exclude={"id"}) for i in adapter.parse(request)]
            assert first == second

    @pytest.mark.parametrize(
        "body",
        [b"", b"{", b'{"a": ', b"\xff\xfe\x00garbage", b"[]", b"null", b"42", b'"text"', b"{}"],
        ids=["empty", "brace", "truncated", "not-utf8", "list", "null", "number", "string", "{}"],
    )
    def test_malformed_bodies_raise_invalid_payload(
        self, adapter: ChannelAdapter, samples: list[InboundRequest], body: bytes
    ) -> None:
        template = samples[0]
        request = template.model_copy(update={"body": body})
        with pytest.raises(InvalidPayloadError):
            adapter.parse(request)

    def test_oversized_body_is_refused(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        limit = getattr(adapter, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
        request = samples[0].model_copy(update={"body": b" " * (limit + 1)})
        with pytest.raises(InvalidPayloadError, match="larger than"):
            adapter.parse(request)

    @_FUZZ
    @given(body=st.binary(max_size=2048))
    def test_fuzz_random_bytes(
        self, adapter: ChannelAdapter, samples: list[InboundRequest], body: bytes
    ) -> None:
        _check_outcome(adapter, samples[0].model_copy(update={"body": body}))

    @_FUZZ
    @given(data=st.data())
    def test_fuzz_mutated_samples(
        self, adapter: ChannelAdapter, samples: list[InboundRequest], data: st.DataObject
    ) -> None:
        request = data.draw(st.sampled_from(samples))
        try:
            document = json.loads(request.body)
        except ValueError:
            document = None
        if isinstance(document, (dict, list)):
            paths = _paths(document)
            path = data.draw(st.sampled_from(paths))
            delete = bool(path) and data.draw(st.booleans())
            new = None if delete else data.draw(_json_value)
            body = json.dumps(_replace(document, path, new, delete)).encode()
        else:
            raw = bytearray(request.body)
            for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
                if not raw:
                    break
                at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
                action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
                if action == "flip":
                    raw[at] = data.draw(st.integers(min_value=0, max_value=255))
                elif action == "cut":
                    del raw[at : at + data.draw(st.integers(min_value=1, max_value=64))]
                else:
                    raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
            body = bytes(raw)
        _check_outcome(adapter, request.model_copy(update={"body": body}))

    # --- signatures ----------------------------------------------------------------

    def test_signed_request_verifies(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        now = datetime.now(timezone.utc)
        for request in samples:
            adapter.verify(self.sign(request, self.secret, now), self.secret, now=now)

    def test_tampered_body_fails(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        now = datetime.now(timezone.utc)
        signed = self.sign(samples[0], self.secret, now)
        tampered = signed.model_copy(update={"body": signed.body + b" "})
        if not self.signs_body:
            adapter.verify(tampered, self.secret, now=now)  # the scheme does not cover it
            return
        with pytest.raises(SignatureError):
            adapter.verify(tampered, self.secret, now=now)

    def test_tampered_signature_header_fails(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        now = datetime.now(timezone.utc)
        signed = self.sign(samples[0], self.secret, now)
        added = {
            name: value
            for name, value in signed.headers.items()
            if samples[0].headers.get(name) != value
        }
        assert added, "sign() must add or change at least one header"
        for name, value in added.items():
            flipped = value[:-1] + ("0" if value[-1:] != "0" else "1")
            forged = signed.model_copy(update={"headers": {**signed.headers, name: flipped}})
            with pytest.raises(SignatureError):
                adapter.verify(forged, self.secret, now=now)

    def test_wrong_secret_fails(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        now = datetime.now(timezone.utc)
        signed = self.sign(samples[0], "another-secret", now)
        with pytest.raises(SignatureError):
            adapter.verify(signed, self.secret, now=now)

    def test_unsigned_request_fails(
        self, adapter: ChannelAdapter, samples: list[InboundRequest]
    ) -> None:
        with pytest.raises(SignatureError):
            adapter.verify(samples[0], self.secret)

    # --- rendering -----------------------------------------------------------------

    def test_render_gives_a_json_payload(
        self, adapter: ChannelAdapter, outbound: Interaction
    ) -> None:
        payload = adapter.render(outbound)
        assert isinstance(payload, dict)
        assert payload
        json.dumps(payload)
