"""BaseAdapter's shared checks and the adapter registry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib.metadata import EntryPoint

import pytest

from omnichannel import InvalidPayloadError, InvalidValueError, UnknownChannelError
from omnichannel.channels import (
    BaseAdapter,
    ChannelAdapter,
    InboundRequest,
    _registry,
    available_adapters,
    find_mentions,
    get_adapter,
    optional,
    require,
)
from omnichannel.channels._base import json_safe

BUILT_IN = ["email", "instagram", "messenger", "store", "telegram", "twilio", "webchat", "whatsapp"]


def test_every_built_in_adapter_is_available_and_builds() -> None:
    assert set(BUILT_IN) <= set(available_adapters())
    for name in BUILT_IN:
        adapter = get_adapter(name)
        assert isinstance(adapter, ChannelAdapter)
        assert adapter.name == name


def test_unknown_adapter_lists_the_known_ones() -> None:
    with pytest.raises(UnknownChannelError, match="known: email"):
        get_adapter("fax")


def test_options_reach_the_adapter() -> None:
    adapter = get_adapter("webchat", max_body_bytes=10)
    assert isinstance(adapter, BaseAdapter)
    assert adapter.max_body_bytes == 10


class _Viber(BaseAdapter):
    name = "viber"


def test_entry_points_register_third_party_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="viber", value=f"{__name__}:_Viber", group=_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(_registry, "_entry_points", lambda: {"viber": point})
    assert "viber" in available_adapters()
    with pytest.raises(UnknownChannelError, match="does not build a ChannelAdapter"):
        get_adapter("viber")  # BaseAdapter alone has no parse/verify/render


def test_entry_point_building_an_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "omnichannel.channels._telegram:TelegramAdapter"
    point = EntryPoint(name="tg2", value=value, group=_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(_registry, "_entry_points", lambda: {"tg2": point})
    assert get_adapter("tg2").name == "telegram"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"max_future_seconds": -1}, "max_future_seconds"),
        ({"default_region": "XX"}, "default_region"),
    ],
)
def test_bad_adapter_options(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        BaseAdapter(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_decode_checks() -> None:
    adapter = BaseAdapter()
    with pytest.raises(InvalidPayloadError, match="nested too deeply"):
        adapter.decode_json(InboundRequest(body=b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(InvalidPayloadError, match="must be a JSON object"):
        adapter.decode_json(InboundRequest(body=b"[1]"))
    assert adapter.decode_json(InboundRequest(body=b'{"a": 1}')) == {"a": 1}


def test_time_checks() -> None:
    adapter = BaseAdapter(max_future_seconds=60)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    with pytest.raises(InvalidPayloadError, match="no timezone"):
        adapter.check_time(datetime(2026, 1, 1), "at")
    with pytest.raises(InvalidPayloadError, match="too far in the future"):
        adapter.check_time(now + timedelta(minutes=5), "at", now)
    assert adapter.check_time(now + timedelta(seconds=30), "at", now) > now
    for bad in (True, None, [1], "soon", 10**30):
        with pytest.raises(InvalidPayloadError):
            adapter.from_unix(bad, "ts", now)
    for bad_ms in (False, "x", 10**400):
        with pytest.raises(InvalidPayloadError):
            adapter.from_unix_millis(bad_ms, "ts", now)
    assert adapter.from_unix_millis(1794218400000, "ts", now) < now


def test_build_names_the_field() -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        BaseAdapter().build("message", channel="sms", occurred_at="never")
    assert caught.value.field == "message.occurred_at"


def test_require_and_optional() -> None:
    assert require({"a": "x"}, "a", "a") == "x"
    assert optional({}, "a", "a") is None
    with pytest.raises(InvalidPayloadError, match="is missing"):
        require({"a": None}, "a", "root.a")
    with pytest.raises(InvalidPayloadError, match="must be of type int"):
        optional({"a": True}, "a", "root.a", int)
    with pytest.raises(InvalidPayloadError) as caught:
        optional([1], "a", "root.a")
    assert caught.value.field == "root"


def test_find_mentions_keeps_order_and_bounds() -> None:
    text = "call +48 601 234 567 or write to jan@example.com, not +1 000"
    found = find_mentions(text)
    assert [i.kind.value for i in found] == ["phone", "email"]
    assert find_mentions(text, limit=1) == found[:1]
    many = " ".join(f"u{n}@example.com" for n in range(500))
    assert len(find_mentions(many)) == 100
    assert find_mentions(text, exclude=found) == []


def test_json_safe_is_bounded() -> None:
    deep: object = "leaf"
    for _ in range(50):
        deep = [deep]
    flattened = json_safe(deep, max_depth=3)
    assert isinstance(flattened, list)
    assert json_safe({1: datetime(2026, 1, 1).date()}) == {"1": "2026-01-01"}
