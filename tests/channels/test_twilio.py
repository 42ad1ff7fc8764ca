"""The Twilio adapter: SMS, MMS, WhatsApp, message status and voice status webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode

import pytest

from omnichannel import (
    ContactCardPart,
    CustomPart,
    Direction,
    Hub,
    Identifier,
    IngestOutcome,
    Interaction,
    InvalidPayloadError,
    InvalidValueError,
    LocationPart,
    MediaPart,
    SignatureError,
    TextPart,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter
from omnichannel.channels._twilio import TwilioAdapter
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance

FIXED = datetime(2025, 11, 18, 10, 15, tzinfo=timezone.utc)
CUSTOMER = "+48601234567"
OTHER = "+48512345678"
SHOP = "+48221234567"
ACCOUNT = "AC" + "3f9c2b7e" * 4
BASE_URL = "https://shop.example.com/webhooks/twilio"
FORM = "application/x-www-form-urlencoded"


def _sid(prefix: str, n: int) -> str:
    return prefix + f"{n:032x}"


# --- sample webhooks -------------------------------------------------------------------

# Incoming SMS; parameters per https://www.twilio.com/docs/messaging/guides/webhook-request
SMS: dict[str, str] = {
    "ToCountry": "PL",
    "ToState": "",
    "SmsMessageSid": _sid("SM", 1),
    "NumMedia": "0",
    "ToCity": "",
    "FromZip": "",
    "SmsSid": _sid("SM", 1),
    "FromState": "",
    "SmsStatus": "received",
    "FromCity": "",
    "Body": "Hi, is order 1042 ready? Mail me at Jan.Kowalski@example.com "
    "or my wife on +48 512 345 678",
    "FromCountry": "PL",
    "To": SHOP,
    "ToZip": "",
    "NumSegments": "1",
    "MessageSid": _sid("SM", 1),
    "AccountSid": ACCOUNT,
    "From": CUSTOMER,
    "ApiVersion": "2010-04-01",
}

# Incoming MMS with two media items (MediaUrl{N} / MediaContentType{N});
# https://www.twilio.com/docs/messaging/guides/webhook-request
MMS: dict[str, str] = {
    "MessageSid": _sid("MM", 2),
    "SmsSid": _sid("MM", 2),
    "AccountSid": ACCOUNT,
    "From": CUSTOMER,
    "To": SHOP,
    "Body": "The parcel arrived damaged",
    "NumMedia": "2",
    "NumSegments": "1",
    "MediaContentType0": "image/jpeg",
    "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/"
    f"{_sid('MM', 2)}/Media/{_sid('ME', 1)}",
    "MediaContentType1": "image/png",
    "MediaUrl1": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/"
    f"{_sid('MM', 2)}/Media/{_sid('ME', 2)}",
    "SmsStatus": "received",
    "ApiVersion": "2010-04-01",
}

# Incoming WhatsApp text replying to an earlier message (ProfileName, WaId,
# OriginalRepliedMessageSid); https://www.twilio.com/docs/messaging/guides/webhook-request
WHATSAPP: dict[str, str] = {
    "SmsMessageSid": _sid("SM", 3),
    "NumMedia": "0",
    "ProfileName": "Jan Kowalski",
    "MessageType": "text",
    "SmsSid": _sid("SM", 3),
    "WaId": CUSTOMER.removeprefix("+"),
    "SmsStatus": "received",
    "Body": "Yes, Saturday works",
    "To": f"whatsapp:{SHOP}",
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "MessageSid": _sid("SM", 3),
    "AccountSid": ACCOUNT,
    "OriginalRepliedMessageSender": f"whatsapp:{SHOP}",
    "OriginalRepliedMessageSid": _sid("SM", 99),
    "From": f"whatsapp:{CUSTOMER}",
    "ApiVersion": "2010-04-01",
}

# WhatsApp quick-reply button tap (ButtonText / ButtonPayload);
# https://www.twilio.com/docs/messaging/guides/webhook-request
WHATSAPP_BUTTON: dict[str, str] = {
    "MessageSid": _sid("SM", 4),
    "SmsSid": _sid("SM", 4),
    "AccountSid": ACCOUNT,
    "MessageType": "button",
    "ProfileName": "Jan Kowalski",
    "WaId": CUSTOMER.removeprefix("+"),
    "From": f"whatsapp:{CUSTOMER}",
    "To": f"whatsapp:{SHOP}",
    "Body": "Confirm pickup",
    "ButtonText": "Confirm pickup",
    "ButtonPayload": "pickup-confirm-1042",
    "NumMedia": "0",
    "SmsStatus": "received",
    "ApiVersion": "2010-04-01",
}

# WhatsApp shared location (Latitude / Longitude / Address / Label);
# https://www.twilio.com/docs/messaging/guides/webhook-request
WHATSAPP_LOCATION: dict[str, str] = {
    "MessageSid": _sid("SM", 5),
    "SmsSid": _sid("SM", 5),
    "AccountSid": ACCOUNT,
    "MessageType": "location",
    "ProfileName": "Jan Kowalski",
    "WaId": CUSTOMER.removeprefix("+"),
    "From": f"whatsapp:{CUSTOMER}",
    "To": f"whatsapp:{SHOP}",
    "Body": "",
    "Latitude": "52.2296756",
    "Longitude": "21.0122287",
    "Address": "Marszalkowska 104, Warszawa",
    "Label": "Pickup point",
    "NumMedia": "0",
    "SmsStatus": "received",
    "ApiVersion": "2010-04-01",
}

# Outbound SMS status callback;
# https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
STATUS_DELIVERED: dict[str, str] = {
    "SmsSid": _sid("SM", 6),
    "SmsStatus": "delivered",
    "MessageStatus": "delivered",
    "To": CUSTOMER,
    "MessageSid": _sid("SM", 6),
    "AccountSid": ACCOUNT,
    "From": SHOP,
    "ApiVersion": "2010-04-01",
    "RawDlrDoneDate": "2511181016",
}

# Failed WhatsApp status callback with ErrorCode (63016: outside the 24-hour window);
# https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
STATUS_FAILED: dict[str, str] = {
    "ChannelPrefix": "whatsapp",
    "ApiVersion": "2010-04-01",
    "MessageStatus": "failed",
    "SmsSid": _sid("SM", 7),
    "SmsStatus": "failed",
    "ChannelInstallSid": _sid("XE", 1),
    "To": f"whatsapp:{CUSTOMER}",
    "From": f"whatsapp:{SHOP}",
    "MessageSid": _sid("SM", 7),
    "AccountSid": ACCOUNT,
    "ErrorCode": "63016",
    "ErrorMessage": "Failed to send freeform message because you are outside the allowed window.",
}

# Voice status callback for a completed inbound call (CallStatus, CallDuration, Timestamp,
# RecordingUrl); https://www.twilio.com/docs/voice/api/call-resource#statuscallback and
# https://www.twilio.com/docs/usage/webhooks/voice-webhooks
CALL_COMPLETED: dict[str, str] = {
    "Called": SHOP,
    "ToState": "",
    "CallerCountry": "PL",
    "Direction": "inbound",
    "Timestamp": "Tue, 18 Nov 2025 10:21:37 +0000",
    "CallbackSource": "call-progress-events",
    "SequenceNumber": "2",
    "CallerState": "",
    "ToZip": "",
    "CallSid": _sid("CA", 8),
    "To": SHOP,
    "CallerZip": "",
    "ToCountry": "PL",
    "CallDuration": "187",
    "Duration": "4",
    "ApiVersion": "2010-04-01",
    "Caller": CUSTOMER,
    "CallStatus": "completed",
    "From": CUSTOMER,
    "AccountSid": ACCOUNT,
    "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/"
    f"{_sid('RE', 1)}",
    "RecordingSid": _sid("RE", 1),
    "RecordingDuration": "180",
}

# Voice status callback for an outbound REST API call nobody answered;
# https://www.twilio.com/docs/voice/api/call-resource#statuscallback
CALL_NO_ANSWER: dict[str, str] = {
    "Called": OTHER,
    "Direction": "outbound-api",
    "Timestamp": "Tue, 18 Nov 2025 11:02:10 +0000",
    "CallbackSource": "call-progress-events",
    "SequenceNumber": "1",
    "CallSid": _sid("CA", 9),
    "To": OTHER,
    "CallDuration": "0",
    "ApiVersion": "2010-04-01",
    "Caller": SHOP,
    "CallStatus": "no-answer",
    "From": SHOP,
    "AccountSid": ACCOUNT,
}

# The request Twilio makes when an inbound call starts ringing;
# https://www.twilio.com/docs/voice/twiml#request-parameters
CALL_RINGING: dict[str, str] = {
    "AccountSid": ACCOUNT,
    "ApiVersion": "2010-04-01",
    "CallSid": _sid("CA", 10),
    "CallStatus": "ringing",
    "Called": SHOP,
    "Caller": CUSTOMER,
    "Direction": "inbound",
    "From": CUSTOMER,
    "To": SHOP,
}


def _request(params: dict[str, str], path: str = "sms") -> InboundRequest:
    return InboundRequest(
        body=urlencode(params).encode(),
        content_type=FORM,
        url=f"{BASE_URL}/{path}",
    )


def _signature(token: str, url: str, body: bytes) -> str:
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    grouped: dict[str, set[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, set()).add(value)
    signed = url + "".join(k + v for k in sorted(grouped) for v in sorted(grouped[k]))
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _adapter() -> TwilioAdapter:
    return TwilioAdapter(from_number=SHOP, clock=lambda: FIXED)


def _one(params: dict[str, str], path: str = "sms") -> Interaction:
    (interaction,) = _adapter().parse(_request(params, path))
    return interaction


# --- the conformance suite ----------------------------------------------------------------


class TestTwilioAdapter(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return _adapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [
            _request(SMS),
            _request(MMS),
            _request(WHATSAPP, "whatsapp"),
            _request(WHATSAPP_BUTTON, "whatsapp"),
            _request(WHATSAPP_LOCATION, "whatsapp"),
            _request(STATUS_DELIVERED, "status"),
            _request(STATUS_FAILED, "status"),
            _request(CALL_COMPLETED, "voice/status"),
            _request(CALL_NO_ANSWER, "voice/status"),
            _request(CALL_RINGING, "voice"),
        ]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="sms",
            direction=Direction.OUTBOUND,
            occurred_at=FIXED,
            identifiers=(Identifier.phone(CUSTOMER),),
            content=(TextPart(text="Order 1042 is ready for pickup."),),
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        assert request.url is not None
        signature = _signature(secret, request.url, request.body)
        return request.model_copy(
            update={"headers": {**request.headers, "x-twilio-signature": signature}}
        )


# --- what each sample yields ----------------------------------------------------------------


def test_sms_sender_text_and_mentions() -> None:
    sms = _one(SMS)
    assert (sms.channel, sms.kind, sms.direction) == ("sms", "message", Direction.INBOUND)
    assert sms.source_id == _sid("SM", 1)
    assert sms.identifiers == (Identifier.phone(CUSTOMER),)
    assert sms.text == SMS["Body"]
    assert set(sms.mentions) == {
        Identifier.email("jan.kowalski@example.com"),
        Identifier.phone(OTHER),
    }
    assert sms.occurred_at == FIXED  # Twilio sends no timestamp: the receipt time
    assert sms.metadata["to"] == SHOP
    assert sms.metadata["account_sid"] == ACCOUNT
    assert sms.metadata["num_segments"] == 1
    assert sms.reply_to is None


def test_sms_mentioning_the_senders_own_number_is_not_a_mention() -> None:
    sms = _one({**SMS, "Body": f"Call me back on {CUSTOMER}"})
    assert sms.identifiers == (Identifier.phone(CUSTOMER),)
    assert sms.mentions == ()


def test_mms_channel_and_media_parts() -> None:
    mms = _one(MMS)
    assert mms.channel == "mms"
    media = [part for part in mms.content if isinstance(part, MediaPart)]
    assert [(m.media_type, m.url) for m in media] == [
        ("image/jpeg", MMS["MediaUrl0"]),
        ("image/png", MMS["MediaUrl1"]),
    ]
    assert mms.text == "The parcel arrived damaged"
    assert mms.metadata["num_media"] == 2


def test_whatsapp_sender_profile_name_and_reply() -> None:
    message = _one(WHATSAPP, "whatsapp")
    assert message.channel == "whatsapp"
    assert message.identifiers == (Identifier.phone(CUSTOMER),)  # From and WaId agree
    assert message.traits == {"display_name": "Jan Kowalski"}
    assert message.reply_to == _sid("SM", 99)
    assert message.metadata["message_type"] == "text"
    assert message.metadata["to"] == f"whatsapp:{SHOP}"


def test_whatsapp_media_stays_on_the_whatsapp_channel() -> None:
    params = {
        **WHATSAPP,
        "NumMedia": "1",
        "MediaUrl0": "https://x.example/m",
        "MediaContentType0": "audio/ogg",
    }
    message = _one(params, "whatsapp")
    assert message.channel == "whatsapp"
    assert isinstance(message.content[-1], MediaPart)


def test_whatsapp_quick_reply_button() -> None:
    message = _one(WHATSAPP_BUTTON, "whatsapp")
    button = next(p for p in message.content if isinstance(p, CustomPart))
    assert button.name == "quick_reply"
    assert button.data == {"text": "Confirm pickup", "payload": "pickup-confirm-1042"}


def test_whatsapp_location() -> None:
    message = _one(WHATSAPP_LOCATION, "whatsapp")
    (location,) = message.content
    assert isinstance(location, LocationPart)
    assert (location.latitude, location.longitude) == (52.2296756, 21.0122287)
    assert location.name == "Pickup point"
    assert location.address == "Marszalkowska 104, Warszawa"
    assert message.text == ""


def test_delivered_status_callback() -> None:
    status = _one(STATUS_DELIVERED, "status")
    assert (status.kind, status.direction, status.channel) == (
        "status",
        Direction.OUTBOUND,
        "sms",
    )
    assert status.source_id == f"{_sid('SM', 6)}:status:delivered"
    assert status.identifiers == (Identifier.phone(CUSTOMER),)  # the recipient
    assert status.metadata["status"] == "delivered"
    assert status.metadata["message_sid"] == _sid("SM", 6)
    assert status.metadata["from"] == SHOP
    assert "error_code" not in status.metadata


def test_failed_whatsapp_status_callback_keeps_the_error() -> None:
    status = _one(STATUS_FAILED, "status")
    assert status.channel == "whatsapp"
    assert status.source_id == f"{_sid('SM', 7)}:status:failed"
    assert status.metadata["error_code"] == 63016
    assert str(status.metadata["error_message"]).startswith("Failed to send")
    assert status.identifiers == (Identifier.phone(CUSTOMER),)


def test_each_status_of_a_message_is_its_own_interaction() -> None:
    sent = _one({**STATUS_DELIVERED, "MessageStatus": "sent", "SmsStatus": "sent"}, "status")
    delivered = _one(STATUS_DELIVERED, "status")
    assert sent.source_id != delivered.source_id


def test_completed_inbound_call() -> None:
    call = _one(CALL_COMPLETED, "voice/status")
    assert (call.channel, call.kind, call.direction) == ("voice", "call", Direction.INBOUND)
    assert call.source_id == _sid("CA", 8)
    assert call.identifiers == (Identifier.phone(CUSTOMER),)  # From on an inbound call
    assert call.occurred_at == datetime(2025, 11, 18, 10, 21, 37, tzinfo=timezone.utc)
    assert call.metadata["duration_seconds"] == 187
    assert call.metadata["status"] == "completed"
    assert call.metadata["business_number"] == SHOP
    assert call.metadata["recording_seconds"] == 180
    (recording,) = call.content
    assert isinstance(recording, MediaPart)
    assert recording.url == CALL_COMPLETED["RecordingUrl"]


def test_outbound_call_customer_is_the_callee() -> None:
    call = _one(CALL_NO_ANSWER, "voice/status")
    assert (call.kind, call.direction) == ("call", Direction.OUTBOUND)
    assert call.identifiers == (Identifier.phone(OTHER),)  # To on an outbound call
    assert call.metadata["status"] == "no-answer"
    assert call.metadata["duration_seconds"] == 0
    assert call.metadata["twilio_direction"] == "outbound-api"


def test_ringing_call_is_a_status_that_does_not_shadow_the_call() -> None:
    ringing = _one(CALL_RINGING, "voice")
    assert ringing.kind == "status"
    assert ringing.source_id == f"{_sid('CA', 10)}:status:ringing"
    assert ringing.occurred_at == FIXED  # no Timestamp: the receipt time
    completed = _one({**CALL_RINGING, "CallStatus": "completed"}, "voice")
    assert completed.source_id == _sid("CA", 10)


def test_call_from_a_twilio_client_identity() -> None:
    call = _one({**CALL_RINGING, "From": "client:agent_anna", "Caller": "client:agent_anna"})
    assert call.identifiers == (Identifier.handle("twilio-client", "agent_anna"),)


def test_whatsapp_and_sms_from_one_number_are_one_customer() -> None:
    adapter = _adapter()
    hub = Hub(MemoryStore())
    results = [
        hub.ingest(item)
        for params, path in ((WHATSAPP, "whatsapp"), (SMS, "sms"), (CALL_COMPLETED, "voice"))
        for item in adapter.parse(_request(params, path))
    ]
    assert results[0].outcome is IngestOutcome.CREATED
    assert [r.outcome for r in results[1:]] == [IngestOutcome.ATTACHED] * 2
    assert len({r.profile_id for r in results}) == 1
    profile = hub.profile(results[0].profile_id)
    assert profile.display_name == "Jan Kowalski"
    channels = {item.channel for item in hub.history(profile.id)}
    assert channels == {"whatsapp", "sms", "voice"}
    # The numbers merely written in the SMS do not belong to the customer.
    assert hub.find(Identifier.phone(OTHER)) is None
    # A redelivered webhook is stored once.
    (again,) = adapter.parse(_request(SMS))
    assert hub.ingest(again).outcome is IngestOutcome.DUPLICATE


def test_registry_builds_the_adapter() -> None:
    adapter = get_adapter("twilio", from_number=SHOP)
    assert isinstance(adapter, TwilioAdapter)
    assert adapter.name == "twilio"


# --- bad input ---------------------------------------------------------------------------


def _without(params: dict[str, str], *keys: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in keys}


BAD_PARAMS: list[tuple[str, dict[str, str], str, str]] = [
    ("no-sid", _without(SMS, "MessageSid", "SmsSid"), "MessageSid", "is missing"),
    ("bad-sid", {**SMS, "MessageSid": "SM123"}, "MessageSid", "is not a Twilio SID"),
    ("no-from", _without(SMS, "From"), "From", "is missing"),
    ("bad-from", {**SMS, "From": "+48 000"}, "From", "not a"),
    ("odd-prefix", {**SMS, "From": "messenger:12345"}, "From", "whatsapp: address"),
    ("num-media-text", {**SMS, "NumMedia": "two"}, "NumMedia", "non-negative integer"),
    ("num-media-big", {**SMS, "NumMedia": "11"}, "NumMedia", "at most 10"),
    ("media-url-missing", _without(MMS, "MediaUrl1"), "MediaUrl1", "is missing"),
    ("media-type", {**MMS, "MediaContentType0": "jpeg"}, "MediaContentType0", "MIME type"),
    ("latitude-range", {**WHATSAPP_LOCATION, "Latitude": "95"}, "Latitude", "between -90"),
    ("latitude-text", {**WHATSAPP_LOCATION, "Latitude": "north"}, "Latitude", "not a number"),
    ("latitude-inf", {**WHATSAPP_LOCATION, "Latitude": "inf"}, "Latitude", "between -90"),
    ("longitude-only", _without(WHATSAPP_LOCATION, "Latitude"), "Latitude", "is missing"),
    ("wa-id", {**WHATSAPP, "WaId": "jan"}, "WaId", "digits"),
    (
        "replied-sid",
        {**WHATSAPP, "OriginalRepliedMessageSid": "x"},
        "OriginalRepliedMessageSid",
        "SID",
    ),
    (
        "status-value",
        {**STATUS_DELIVERED, "MessageStatus": "DELIVERED!"},
        "MessageStatus",
        "status",
    ),
    ("status-to", _without(STATUS_DELIVERED, "To"), "To", "is missing"),
    ("call-status", _without(CALL_COMPLETED, "CallStatus"), "CallStatus", "is missing"),
    ("call-direction", {**CALL_COMPLETED, "Direction": "sideways"}, "Direction", "must be one of"),
    ("call-duration", {**CALL_COMPLETED, "CallDuration": "-3"}, "CallDuration", "non-negative"),
    ("call-from", _without(CALL_COMPLETED, "From", "Caller"), "From", "is missing"),
    ("timestamp", {**CALL_COMPLETED, "Timestamp": "yesterday"}, "Timestamp", "RFC 2822"),
    (
        "timestamp-future",
        {**CALL_COMPLETED, "Timestamp": "Tue, 18 Nov 2125 10:21:37 +0000"},
        "Timestamp",
        "too far in the future",
    ),
]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [case[1:] for case in BAD_PARAMS],
    ids=[case[0] for case in BAD_PARAMS],
)
def test_bad_parameters(params: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError, match=message) as caught:
        _adapter().parse(_request(params))
    assert caught.value.field == field


BAD_BODIES: list[tuple[str, bytes, str | None, str, str]] = [
    ("json-type", b'{"From": "+48601234567"}', "application/json", "content_type", "must be"),
    ("not-a-form", b"hello twilio", FORM, "body", "not a form-encoded body"),
    ("bad-escape", b"From=%ff", FORM, "body", "not a form-encoded body"),
    ("repeated", urlencode(SMS).encode() + b"&From=%2B48512345678", None, "From", "more than once"),
    ("not-utf8", b"From=\xff", FORM, "body", "not valid UTF-8"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "field", "message"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_bad_bodies(body: bytes, content_type: str | None, field: str, message: str) -> None:
    request = InboundRequest(body=body, content_type=content_type, url=f"{BASE_URL}/sms")
    with pytest.raises(InvalidPayloadError, match=message) as caught:
        _adapter().parse(request)
    assert caught.value.field == field


def test_content_type_with_charset_is_accepted() -> None:
    request = _request(SMS).model_copy(update={"content_type": f"{FORM}; charset=utf-8"})
    assert _adapter().parse(request)


def test_a_naive_clock_is_a_configuration_error() -> None:
    adapter = TwilioAdapter(clock=lambda: datetime(2025, 11, 18, 10, 15))
    with pytest.raises(InvalidValueError, match="timezone-aware") as caught:
        adapter.parse(_request(SMS))
    assert caught.value.field == "clock"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"from_number": "not a number"}, "from_number"),
        ({"messaging_service_sid": "MG1"}, "messaging_service_sid"),
    ],
)
def test_bad_options(options: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        TwilioAdapter(**options)  # type: ignore[arg-type]
    assert caught.value.field == field


# --- signatures ---------------------------------------------------------------------------


def _signed(
    params: dict[str, str], token: str = "auth-token", url: str | None = None
) -> InboundRequest:
    request = _request(params)
    assert request.url is not None
    signature = _signature(token, url or request.url, request.body)
    return request.model_copy(update={"headers": {"X-Twilio-Signature": signature}})


def test_twilio_documented_signature_vector() -> None:
    # The worked example of https://www.twilio.com/docs/usage/webhooks/webhooks-security
    request = InboundRequest(
        body=urlencode(
            {
                "CallSid": "CA1234567890ABCDE",
                "Caller": "+14158675309",
                "Digits": "1234",
                "From": "+14158675309",
                "To": "+18005551212",
            }
        ).encode(),
        content_type=FORM,
        url="https://mycompany.com/myapp.php?foo=1&bar=2",
        headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
    )
    TwilioAdapter().verify(request, "12345")


def test_repeated_parameters_are_signed_sorted_once_each() -> None:
    # Twilio's helper libraries sign each distinct value of a repeated parameter, sorted.
    request = InboundRequest(
        body=b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
        content_type=FORM,
        url="https://mycompany.com/myapp.php?foo=1&bar=2",
        headers={"X-Twilio-Signature": "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
    )
    TwilioAdapter().verify(request, "12345")


def test_forged_signature_fails() -> None:
    request = _request(SMS).model_copy(
        update={"headers": {"X-Twilio-Signature": base64.b64encode(b"x" * 20).decode()}}
    )
    with pytest.raises(SignatureError, match="does not match"):
        _adapter().verify(request, "auth-token")


def test_signature_for_another_url_fails() -> None:
    request = _signed(SMS, url=f"{BASE_URL}/other")
    with pytest.raises(SignatureError, match="does not match"):
        _adapter().verify(request, "auth-token")


def test_changed_parameter_fails() -> None:
    signed = _signed(SMS)
    changed = signed.model_copy(update={"body": urlencode({**SMS, "From": OTHER}).encode()})
    with pytest.raises(SignatureError, match="does not match"):
        _adapter().verify(changed, "auth-token")


def test_signature_needs_the_url() -> None:
    request = _signed(SMS).model_copy(update={"url": None})
    with pytest.raises(SignatureError, match="needs the request URL"):
        _adapter().verify(request, "auth-token")


def test_missing_signature_and_empty_token() -> None:
    with pytest.raises(SignatureError, match="X-Twilio-Signature is missing"):
        _adapter().verify(_request(SMS), "auth-token")
    with pytest.raises(SignatureError, match="empty"):
        _adapter().verify(_signed(SMS), "")


def test_non_form_body_cannot_be_checked() -> None:
    request = _signed(SMS).model_copy(update={"body": b"not a form"})
    with pytest.raises(SignatureError, match="not form-encoded"):
        _adapter().verify(request, "auth-token")


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        ("https://shop.example.com:443/webhooks/twilio/sms", f"{BASE_URL}/sms"),
        (f"{BASE_URL}/sms", "https://shop.example.com:443/webhooks/twilio/sms"),
    ],
    ids=["twilio-added-port", "framework-added-port"],
)
def test_default_port_variants_verify(signed_url: str, request_url: str) -> None:
    request = _signed(SMS, url=signed_url).model_copy(update={"url": request_url})
    _adapter().verify(request, "auth-token")


def test_json_webhook_with_body_hash() -> None:
    body = b'{"property": "value", "boolean": true}'
    digest = hashlib.sha256(body).hexdigest()
    url = f"https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={digest}"
    signature = base64.b64encode(hmac.new(b"12345", url.encode(), hashlib.sha1).digest()).decode()
    request = InboundRequest(
        body=body,
        content_type="application/json",
        url=url,
        headers={"X-Twilio-Signature": signature},
    )
    TwilioAdapter().verify(request, "12345")
    with pytest.raises(SignatureError, match="bodySHA256"):
        TwilioAdapter().verify(request.model_copy(update={"body": body + b" "}), "12345")


def test_replay_has_no_window_but_ingest_is_idempotent() -> None:
    # Twilio signs no timestamp: a replay verifies at any time ...
    request = _signed(STATUS_DELIVERED)
    adapter = _adapter()
    adapter.verify(request, "auth-token", now=FIXED + timedelta(days=30))
    # ... and is harmless: the MessageSid-based source id is already stored.
    hub = Hub(MemoryStore())
    first = [hub.ingest(item) for item in adapter.parse(request)]
    second = [hub.ingest(item) for item in adapter.parse(request)]
    assert [r.outcome for r in first] == [IngestOutcome.CREATED]
    assert [r.outcome for r in second] == [IngestOutcome.DUPLICATE]


# --- rendering -----------------------------------------------------------------------------


def _outbound(channel: str, *parts: TextPart | MediaPart, **extra: object) -> Interaction:
    return Interaction.model_validate(
        {
            "channel": channel,
            "direction": "outbound",
            "occurred_at": FIXED,
            "identifiers": [Identifier.phone(CUSTOMER)],
            "content": list(parts),
            **extra,
        }
    )


def test_render_sms() -> None:
    payload = _adapter().render(_outbound("sms", TextPart(text="Ready!")))
    assert payload == {"To": CUSTOMER, "From": SHOP, "Body": "Ready!"}


def test_render_whatsapp_with_media() -> None:
    adapter = TwilioAdapter(from_number=f"whatsapp:{SHOP}", status_callback=f"{BASE_URL}/status")
    payload = adapter.render(
        _outbound(
            "whatsapp",
            TextPart(text="Your receipt"),
            MediaPart(media_type="application/pdf", url="https://shop.example.com/r/1042.pdf"),
        )
    )
    assert payload == {
        "To": f"whatsapp:{CUSTOMER}",
        "From": f"whatsapp:{SHOP}",
        "Body": "Your receipt",
        "MediaUrl": ["https://shop.example.com/r/1042.pdf"],
        "StatusCallback": f"{BASE_URL}/status",
    }


def test_render_through_a_messaging_service() -> None:
    adapter = TwilioAdapter(messaging_service_sid=_sid("MG", 1))
    payload = adapter.render(
        _outbound("mms", MediaPart(media_type="image/png", url="https://x/y.png"))
    )
    assert payload == {
        "To": CUSTOMER,
        "MessagingServiceSid": _sid("MG", 1),
        "MediaUrl": ["https://x/y.png"],
    }


BAD_RENDERS: list[tuple[str, TwilioAdapter, Interaction, str, str]] = [
    (
        "voice",
        _adapter(),
        _outbound("voice", TextPart(text="hi")),
        "channel",
        "sms, mms or whatsapp",
    ),
    (
        "no-phone",
        _adapter(),
        _outbound("sms", TextPart(text="hi"), identifiers=[Identifier.email("a@example.com")]),
        "identifiers",
        "phone number",
    ),
    ("no-content", _adapter(), _outbound("sms"), "content", "text or media"),
    (
        "card-only",
        _adapter(),
        _outbound("sms", ContactCardPart(name="Jan")),  # type: ignore[arg-type]
        "content",
        "text or media",
    ),
    ("too-long", _adapter(), _outbound("sms", TextPart(text="x" * 1601)), "content", "longer than"),
    (
        "no-sender",
        TwilioAdapter(),
        _outbound("sms", TextPart(text="hi")),
        "from_number",
        "not configured",
    ),
]


@pytest.mark.parametrize(
    ("adapter", "interaction", "field", "message"),
    [case[1:] for case in BAD_RENDERS],
    ids=[case[0] for case in BAD_RENDERS],
)
def test_render_refuses(
    adapter: TwilioAdapter, interaction: Interaction, field: str, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message) as caught:
        adapter.render(interaction)
    assert caught.value.field == field
