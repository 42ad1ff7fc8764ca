"""The email adapter: RFC 5322 / MIME parsing, relay signatures, replies."""

# The messages are multilingual on purpose: en dashes, Cyrillic and typographic quotes.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from omnichannel import (
    Direction,
    Hub,
    Identifier,
    IngestOutcome,
    Interaction,
    InvalidPayloadError,
    InvalidValueError,
    MediaPart,
    SignatureError,
    TextPart,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter
from omnichannel.channels._email import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    EmailAdapter,
    _ascii_domain,
    _clean,
    _content,
    html_to_text,
)
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance

FIXTURES = Path(__file__).parent / "fixtures" / "email"

# The sample messages were written for these tests, each in the shape the cited documents
# define (the canonical RFC pages; the Python parser's behaviour per its policy docs at
# https://docs.python.org/3/library/email.policy.html).
SAMPLE_FILES = [
    # A new question: originator/destination/identification fields per RFC 5322 3.6
    # (https://www.rfc-editor.org/rfc/rfc5322#section-3.6), a Q-encoded iso-8859-2 display
    # name and a B-encoded UTF-8 subject per RFC 2047 section 4
    # (https://www.rfc-editor.org/rfc/rfc2047#section-4), a quoted-printable UTF-8 body per
    # RFC 2045 section 6.7 (https://www.rfc-editor.org/rfc/rfc2045#section-6.7).
    "plain_qp_utf8.eml",
    # A reply in a thread: In-Reply-To / References per RFC 5322 3.6.4
    # (https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4), Reply-To per 3.6.2
    # (https://www.rfc-editor.org/rfc/rfc5322#section-3.6.2), windows-1251 and koi8-r
    # encoded words (RFC 2047), a base64 windows-1251 body (RFC 2045 section 6.8,
    # https://www.rfc-editor.org/rfc/rfc2045#section-6.8).
    "reply_windows1251.eml",
    # HTML only (text/html per RFC 2854, https://www.rfc-editor.org/rfc/rfc2854), iso-8859-2
    # quoted-printable, Outlook conditional comments, script/style in the head.
    "html_only_iso8859_2.eml",
    # multipart/mixed > multipart/alternative > multipart/related per RFC 2046 5.1
    # (https://www.rfc-editor.org/rfc/rfc2046#section-5.1) and RFC 2387
    # (https://www.rfc-editor.org/rfc/rfc2387); an inline image with a Content-ID per RFC 2392
    # (https://www.rfc-editor.org/rfc/rfc2392); a PDF with Content-Disposition: attachment
    # per RFC 2183 (https://www.rfc-editor.org/rfc/rfc2183) and an RFC 2231 filename*
    # (https://www.rfc-editor.org/rfc/rfc2231#section-4).
    "multipart_attachments.eml",
    # An out-of-office reply marked Auto-Submitted: auto-replied per RFC 3834 section 5
    # (https://www.rfc-editor.org/rfc/rfc3834#section-5).
    "auto_reply.eml",
    # No Date and no Message-ID (both optional in practice); trace fields per RFC 5322 3.6.7
    # (https://www.rfc-editor.org/rfc/rfc5322#section-3.6.7); raw UTF-8 headers per RFC 6532
    # section 3 (https://www.rfc-editor.org/rfc/rfc6532#section-3).
    "raw_utf8_no_date_no_id.eml",
]

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc)
SECRET = "relay-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_one(raw: bytes, adapter: EmailAdapter | None = None) -> Interaction:
    items = (adapter or EmailAdapter()).parse(InboundRequest(body=raw))
    assert len(items) == 1
    return items[0]


# Inline messages: the RFC 5322 section 3.6 header fields
# (https://www.rfc-editor.org/rfc/rfc5322#section-3.6) around a short body.
BASE_HEADERS: dict[str, str] = {
    "From": "Anna Nowak <anna.nowak@example.com>",
    "To": "support@sklep.example",
    "Subject": "Is order 4711 ready?",
    "Date": "Mon, 10 Nov 2025 09:13:58 +0100",
    "Message-ID": "<q-4711.1@example.com>",
}


def mail(
    overrides: dict[str, str | None] | None = None,
    *,
    extra: tuple[str, ...] = (),
    body: bytes = b"Hello, is my order 4711 ready for pick-up?\r\n",
) -> bytes:
    """A message with the base headers, ``overrides`` (None removes one) and ``extra`` lines.

    Header text is written as UTF-8, as RFC 6532 allows; use encoded words for RFC 2047.
    """
    headers: dict[str, str | None] = {**BASE_HEADERS, **(overrides or {})}
    lines = [f"{name}: {value}" for name, value in headers.items() if value is not None]
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode("utf-8") + body


def signed(body: bytes, secret: str, moment: datetime) -> InboundRequest:
    """What a relay posts: the raw message and the two signature headers."""
    stamp = str(int(moment.timestamp()))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return InboundRequest(
        body=body,
        headers={TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: f"sha256={digest}"},
        content_type="message/rfc822",
    )


def reply(**fields: object) -> Interaction:
    """An outbound answer to the plain sample."""
    values: dict[str, object] = {
        "channel": "email",
        "direction": Direction.OUTBOUND,
        "occurred_at": datetime(2025, 11, 10, 10, 0, tzinfo=timezone.utc),
        "source_id": "20251110100000.4711.reply@sklep.example",
        "identifiers": [Identifier.email("Lukasz.Wojcik@gmail.com")],
        "traits": {"display_name": "Łukasz Wójcik"},
        "content": [{"type": "text", "text": "Dzień dobry, paczka wyjechała dziś rano."}],
        "reply_to": "CAHx7q2dJ5pXoW9k3@mail.gmail.com",
        "conversation_key": "CAHx7q2dJ5pXoW9k3@mail.gmail.com",
        "metadata": {"subject": "Re: Zamówienie nr 4711 – gdzie jest moja paczka?"},
    }
    values.update(fields)
    return Interaction.model_validate(values)


class TestEmailAdapterConformance(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return EmailAdapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [
            InboundRequest(body=fixture(name), content_type="message/rfc822")
            for name in SAMPLE_FILES
        ]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return reply()

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        return signed(request.body, secret, now)


# --- the samples ----------------------------------------------------------------------


def test_registered_under_email() -> None:
    adapter = get_adapter("email")
    assert isinstance(adapter, EmailAdapter)
    assert adapter.name == "email"


def test_plain_message() -> None:
    item = parse_one(fixture("plain_qp_utf8.eml"))
    assert item.channel == "email"
    assert item.kind == "message"
    assert item.direction is Direction.INBOUND
    assert item.source_id == "CAHx7q2dJ5pXoW9k3@mail.gmail.com"
    assert item.occurred_at == datetime(2025, 11, 10, 8, 13, 58, tzinfo=timezone.utc)
    assert item.identifiers == (Identifier.email("lukasz.wojcik@gmail.com"),)
    assert item.identifiers[0].original == "Lukasz.Wojcik@gmail.com"
    assert item.traits == {"display_name": "Łukasz Wójcik"}
    assert item.reply_to is None
    assert item.conversation_key == item.source_id
    assert item.text.startswith("Dzień dobry,\n\nzamówiłem 3 listopada rower")
    assert item.text.endswith("Pozdrawiam\nŁukasz Wójcik")
    assert "\r" not in item.text
    # The wife's address and the phone; not the sender's own nor the shop's addresses.
    assert item.mentions == (Identifier.phone("+48601234567"), Identifier.email("ewa.wojcik@wp.pl"))
    assert item.metadata == {
        "occurred_at_source": "Date",
        "references": [],
        "subject": "Zamówienie nr 4711 – gdzie jest moja paczka?",
        "to": ["obsluga@sklep.example"],
        "cc": ["reklamacje@sklep.example"],
        "auto_reply": False,
        "body_format": "plain",
    }


def test_reply_in_a_thread() -> None:
    item = parse_one(fixture("reply_windows1251.eml"))
    assert item.source_id == "1731337361.512093@f512.i.mail.ru"
    assert item.identifiers == (Identifier.email("d.smirnov@mail.ru"),)
    assert item.traits == {"display_name": "Дмитрий Смирнов"}  # windows-1251, B-encoded
    assert item.metadata["subject"] == "Re: Заказ 4711 не доставлен"  # koi8-r, Q-encoded
    assert item.reply_to == "20251110163000.4711.reply@sklep.example"
    assert item.metadata["references"] == [
        "1731250000.118224@f402.i.mail.ru",
        "20251110163000.4711.reply@sklep.example",
    ]
    assert item.conversation_key == "1731250000.118224@f402.i.mail.ru"  # the thread root
    # Reply-To is recorded, never an identifier.
    assert item.metadata["reply_to_addresses"] == ["dmitry.smirnov.home@yandex.ru"]
    assert Identifier.email("dmitry.smirnov.home@yandex.ru") not in item.identifiers
    assert Identifier.email("dmitry.smirnov.home@yandex.ru") not in item.mentions
    assert item.text.startswith("Здравствуйте!\n\nМой заказ 4711 до сих пор не доставлен.")
    assert item.mentions == (
        Identifier.phone("+79123456789"),
        Identifier.email("anna.smirnova@mail.ru"),
    )
    assert item.occurred_at == datetime(2025, 11, 11, 15, 2, 41, tzinfo=timezone.utc)


def test_html_only_message_is_turned_into_text() -> None:
    item = parse_one(fixture("html_only_iso8859_2.eml"))
    assert item.traits == {"display_name": "Żaneta Kowalczyk"}
    assert item.metadata["subject"] == "Reklamacja - uszkodzony rower"
    assert item.metadata["body_format"] == "html"
    assert item.content == (
        TextPart(
            text="Dzień dobry,\n\n"
            "rower przyszedł uszkodzony:\n"
            "pęknięta rama & brak pedałów – proszę o zwrot.\n\n"
            "- zamówienie 4711\n"
            "- kurier: DPD\n\n"
            "Tel. +48 22 123 45 67\n\n"
            "Żaneta Kowalczyk"
        ),
    )
    assert item.mentions == (Identifier.phone("+48221234567"),)


def test_multipart_message_with_attachments() -> None:
    item = parse_one(fixture("multipart_attachments.eml"))
    assert item.traits == {"display_name": "Élodie Durand"}
    assert item.metadata["body_format"] == "plain"
    assert item.metadata["to"] == ["support@sklep.example"]
    text, image, pdf = item.content
    assert isinstance(text, TextPart)
    assert text.text.startswith("Hello,\n\nthe invoice for order 4711 is attached")
    # The HTML alternative is the same body, not an attachment.
    assert image == MediaPart(
        media_type="image/png",
        name="frame.png",
        size_bytes=70,
        media_id="frame-photo.4711@durand.example",
    )
    assert pdf == MediaPart(media_type="application/pdf", name="Facture n°4711.pdf", size_bytes=142)
    assert item.mentions == (Identifier.phone("+33612345678"),)


def test_auto_reply_sample() -> None:
    item = parse_one(fixture("auto_reply.eml"))
    assert item.metadata["auto_reply"] is True
    assert item.metadata["auto_submitted"] == "auto-replied"
    assert item.reply_to == "20251114065500.4712.shipped@sklep.example"
    assert item.conversation_key == "20251114065500.4712.shipped@sklep.example"
    assert item.mentions == (
        Identifier.email("biuro@firma-budowlana.example"),
        Identifier.phone("+48225987654"),
    )


def test_message_without_date_and_message_id() -> None:
    raw = fixture("raw_utf8_no_date_no_id.eml")
    item = parse_one(raw)
    assert item.source_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert item.conversation_key == item.source_id
    assert item.metadata["message_id_derived"] is True
    # The topmost Received header was stamped by the receiving server.
    assert item.occurred_at == datetime(2025, 11, 15, 10, 20, 33, tzinfo=timezone.utc)
    assert item.metadata["occurred_at_source"] == "Received"
    # Raw UTF-8 in headers (RFC 6532) comes out as Unicode.
    assert item.traits == {"display_name": "Jürgen Müller"}
    assert item.metadata["subject"] == "Frage zur Lieferung nach Österreich"
    assert item.text.startswith("Guten Tag,\n\nliefern Sie auch nach Österreich?")


# --- headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?iso-8859-2?Q?=A3ukasz_W=F3jcik?=", "Łukasz Wójcik"),
        ("=?windows-1251?B?xOzo8vDo6SDR7Ojw7e7i?=", "Дмитрий Смирнов"),
        ("=?koi8-r?B?8M/Mxc7P18Eg7sHUwczY0Q==?=", "Поленова Наталья"),
        ("=?KOI8-R?Q?=F0=CF=CC=C5=CE=CF=D7=C1?=", "Поленова"),
        ("=?utf-8?Q?Za=C5=BC=C3=B3=C5=82=C4=87_G=C4=99=C5=9Bla?=", "Zażółć Gęśla"),
        ("=?UTF-8?B?R3LDvMOfZSBhdXMgV2llbg==?=", "Grüße aus Wien"),
        ("=?iso-8859-1?Q?=C9lodie_Durand?=", "Élodie Durand"),
        ("=?iso-8859-7?B?0+/28dzy?=", "Σοφράς"),
        ("=?gb2312?B?1cXI/Q==?=", "张三"),
        ("=?shift_jis?B?jlKTYyCRvphZ?=", "山田 太郎"),
        # Adjacent encoded words join without the whitespace between them (RFC 2047 6.2).
        ("=?utf-8?Q?Jan?= =?utf-8?Q?_Kowalski?=", "Jan Kowalski"),
        ('"Nowak, =?utf-8?Q?Zo=C5=9Bka?=" (sklep)', "Nowak, Zośka"),
        ("Sp=?utf-8?Q?=C3=B3?=", "Sp=?utf-8?Q?=C3=B3?="),  # not a word boundary: literal
    ],
)
def test_display_names_in_encoded_words(header: str, expected: str) -> None:
    item = parse_one(mail({"From": f"{header} <klient@example.com>"}))
    assert item.traits == {"display_name": expected}
    assert item.identifiers == (Identifier.email("klient@example.com"),)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?koi8-r?B?79TXxdQ6IMvPx8TBIMLVxMXUIMTP09TB18vBPw==?=", "Ответ: когда будет доставка?"),
        ("=?windows-1251?Q?=C7=E0=EA=E0=E7_4711?=", "Заказ 4711"),
        ("=?iso-8859-2?Q?Reklamacja_-_uszkodzony_rower?=", "Reklamacja - uszkodzony rower"),
        (
            "=?utf-8?B?WmFtw7N3aWVuaWUgbnIgNDcxMSDigJMg?=\r\n =?utf-8?B?Z2R6aWUgamVzdD8=?=",
            "Zamówienie nr 4711 – gdzie jest?",
        ),
        ("Re: =?utf-8?Q?Pr=C3=BCfung?= der Lieferung", "Re: Prüfung der Lieferung"),
        ("=?x-unknown-charset?Q?abc?=", "abc"),
        ("Plain ASCII", "Plain ASCII"),
    ],
)
def test_subjects_in_encoded_words(header: str, expected: str) -> None:
    assert parse_one(mail({"Subject": header})).metadata["subject"] == expected


def test_message_without_subject_has_none_in_metadata() -> None:
    assert "subject" not in parse_one(mail({"Subject": None})).metadata


def test_same_display_name_as_address_is_not_a_trait() -> None:
    item = parse_one(mail({"From": "anna.nowak@example.com <anna.nowak@example.com>"}))
    assert item.traits == {}


def test_first_from_mailbox_is_the_sender() -> None:
    item = parse_one(
        mail(
            {"From": "Anna <anna@example.com>, Piotr <piotr@example.com>"},
            extra=("Sender: anna@example.com",),
        )
    )
    assert item.identifiers == (Identifier.email("anna@example.com"),)
    assert item.traits == {"display_name": "Anna"}


def test_destinations_are_recorded_for_routing() -> None:
    item = parse_one(
        mail(
            {"To": "Sklep <sklep@sklep.example>, zwroty@sklep.example"},
            extra=(
                "Cc: =?utf-8?Q?Dzia=C5=82?= <dzial@sklep.example>",
                "Cc: kierownik@sklep.example",
            ),
        )
    )
    assert item.metadata["to"] == ["sklep@sklep.example", "zwroty@sklep.example"]
    assert item.metadata["cc"] == ["dzial@sklep.example", "kierownik@sklep.example"]


@pytest.mark.parametrize(
    ("headers", "reply_to", "references", "conversation_key"),
    [
        (
            {"In-Reply-To": "<b@x.example>", "References": "<a@x.example> <b@x.example>"},
            "b@x.example",
            ["a@x.example", "b@x.example"],
            "a@x.example",
        ),
        (
            {"In-Reply-To": "<b@x.example>"},
            "b@x.example",
            [],
            "b@x.example",
        ),
        ({}, None, [], "q-4711.1@example.com"),
        (
            # Obsolete syntax (RFC 5322 4.5.4): a phrase around the id.
            {"In-Reply-To": 'Your message of "Mon, 10 Nov" <c@x.example>'},
            "c@x.example",
            [],
            "c@x.example",
        ),
        (
            {
                "In-Reply-To": "<d@x.example> <e@x.example>",
                "References": "<d@x.example>,\r\n <d@x.example>",
            },
            "d@x.example",
            ["d@x.example"],
            "d@x.example",
        ),
        (
            {"In-Reply-To": "bare-id@x.example"},  # brackets forgotten by a broken mailer
            "bare-id@x.example",
            [],
            "bare-id@x.example",
        ),
        ({"In-Reply-To": "not an id", "References": "nonsense"}, None, [], "q-4711.1@example.com"),
    ],
)
def test_threading_headers(
    headers: dict[str, str | None],
    reply_to: str | None,
    references: list[str],
    conversation_key: str,
) -> None:
    item = parse_one(mail(headers))
    assert item.reply_to == reply_to
    assert item.metadata["references"] == references
    assert item.conversation_key == conversation_key


def test_message_id_without_brackets_is_accepted() -> None:
    assert parse_one(mail({"Message-ID": "bare-4711@example.com"})).source_id == (
        "bare-4711@example.com"
    )


def test_missing_message_id_gives_a_stable_derived_id() -> None:
    raw = mail({"Message-ID": None})
    first, second = parse_one(raw), parse_one(raw)
    assert first.source_id == second.source_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert parse_one(raw + b" ").source_id != first.source_id


# --- dates ----------------------------------------------------------------------------

RECEIVED = (
    "Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n"
    "\tby mx1.sklep.example (Postfix) with ESMTPS id 4Ln7Qk1xYzz9sRy;\r\n"
    "\tMon, 10 Nov 2025 09:20:00 +0100 (CET)"
)
OLDER_RECEIVED = "Received: by smtp.example.com; Mon, 10 Nov 2025 09:15:00 +0100"


@pytest.mark.parametrize(
    ("date", "extra", "expected", "source"),
    [
        ("Mon, 10 Nov 2025 09:13:58 +0100", (RECEIVED,), datetime(2025, 11, 10, 8, 13, 58), "Date"),
        ("10 Nov 2025 09:13 -0500", (), datetime(2025, 11, 10, 14, 13), "Date"),
        ("Mon, 10 Nov 2025 09:13:58 -0000", (), datetime(2025, 11, 10, 9, 13, 58), "Date"),
        ("Mon, 10 Nov 2025 09:13:58 GMT", (), datetime(2025, 11, 10, 9, 13, 58), "Date"),
        (None, (RECEIVED, OLDER_RECEIVED), datetime(2025, 11, 10, 8, 20), "Received"),
        ("yesterday, about noon", (RECEIVED,), datetime(2025, 11, 10, 8, 20), "Received"),
        (
            None,
            ("Received: from somewhere", OLDER_RECEIVED),
            datetime(2025, 11, 10, 8, 15),
            "Received",
        ),
        (
            None,
            ("Received: from somewhere;", OLDER_RECEIVED),
            datetime(2025, 11, 10, 8, 15),
            "Received",
        ),
    ],
)
def test_occurred_at(
    date: str | None, extra: tuple[str, ...], expected: datetime, source: str
) -> None:
    item = parse_one(mail({"Date": date}, extra=extra))
    assert item.occurred_at == expected.replace(tzinfo=timezone.utc)
    assert item.metadata["occurred_at_source"] == source


# --- bodies ---------------------------------------------------------------------------


def multipart(*parts: bytes, subtype: str = "mixed", boundary: str = "BOUNDARY") -> bytes:
    chunks = [f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts]
    return (
        f"Content-Type: multipart/{subtype}; boundary={boundary}\r\n\r\n".encode()
        + b"".join(chunks)
        + f"--{boundary}--\r\n".encode()
    )


def mime_mail(structure: bytes, **overrides: str | None) -> bytes:
    headers: dict[str, str | None] = {**BASE_HEADERS, "MIME-Version": "1.0", **overrides}
    lines = [f"{name}: {value}" for name, value in headers.items() if value is not None]
    return ("\r\n".join(lines) + "\r\n").encode() + structure


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            b"Content-Type: text/plain; charset=iso-8859-2\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            b"Prosz=EA o faktur=EA, d=B3ugi wiersz z mi=\r\n=EAkkim ko=F1cem.",
            "Proszę o fakturę, długi wiersz z miękkim końcem.",
        ),
        (
            b"Content-Type: text/plain; charset=windows-1250\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode("Čekám na zásilku".encode("cp1250")),
            "Čekám na zásilku",
        ),
        (
            b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + "Когда доставка?".encode("koi8-r"),
            "Когда доставка?",
        ),
        (
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes("Grüße 👋".encode()),
            "Grüße 👋",
        ),
        (  # undeclared charset with 8-bit UTF-8 text: read as UTF-8
            b"Content-Type: text/plain\r\n\r\n" + "Zażółć".encode(),
            "Zażółć",
        ),
        (  # an unknown or non-text codec falls back to UTF-8
            b"Content-Type: text/plain; charset=x-klingon\r\n\r\n" + "Qapla’".encode(),
            "Qapla’",
        ),
        (
            b"Content-Type: text/plain; charset=base64\r\n\r\nplain words",
            "plain words",
        ),
        (  # RFC 2231 charset parameter
            b"Content-Type: text/plain; charset*=us-ascii'en'iso-8859-2\r\n\r\n"
            + "Łódź".encode("iso-8859-2"),
            "Łódź",
        ),
    ],
)
def test_body_charsets_and_transfer_encodings(part: bytes, expected: str) -> None:
    raw = mime_mail(part)
    assert parse_one(raw).text == expected


def test_text_plain_is_preferred_to_html() -> None:
    raw = mime_mail(
        multipart(
            b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>HTML <b>version</b></p>",
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nPlain version",
            subtype="alternative",
        )
    )
    item = parse_one(raw)
    assert item.content == (TextPart(text="Plain version"),)
    assert item.metadata["body_format"] == "plain"


def test_a_text_attachment_is_not_the_body() -> None:
    raw = mime_mail(
        multipart(
            b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>See the list&nbsp;attached.</p>",
            b"Content-Type: text/plain; charset=utf-8; name=list.txt\r\n"
            b"Content-Disposition: attachment; filename=list.txt\r\n\r\nline one\r\nline two",
        )
    )
    item = parse_one(raw)
    assert item.content == (
        TextPart(text="See the list attached."),
        MediaPart(media_type="text/plain", name="list.txt", size_bytes=18),
    )
    assert item.metadata["body_format"] == "html"


def test_inline_non_text_parts_and_forwarded_messages_are_media() -> None:
    forwarded = (
        b"Content-Type: message/rfc822\r\n\r\n"
        b"From: other@example.com\r\nSubject: fwd\r\n\r\nthe forwarded text\r\n"
    )
    raw = mime_mail(
        multipart(
            b"Content-Type: text/plain\r\n\r\nSee below.",
            b"Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ",
            b"Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\nBEGIN:VCALENDAR",
            forwarded,
        )
    )
    item = parse_one(raw)
    assert item.content == (
        TextPart(text="See below."),
        MediaPart(media_type="image/jpeg", size_bytes=6),
        MediaPart(media_type="text/calendar", size_bytes=15),
        MediaPart(media_type="message/rfc822"),
    )
    assert "forwarded text" not in item.text


def test_message_without_any_text_has_only_media() -> None:
    raw = mime_mail(
        b"Content-Type: application/pdf; name=scan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"%PDF-1.4 scan")
    )
    item = parse_one(raw)
    assert item.content == (
        MediaPart(media_type="application/pdf", name="scan.pdf", size_bytes=13),
    )
    assert item.metadata["body_format"] == "none"


def test_excess_attachments_are_counted_not_listed() -> None:
    parts = [b"Content-Type: text/plain\r\n\r\nMany photos."]
    parts += [b"Content-Type: image/gif\r\n\r\nGIF89a"] * 205
    item = parse_one(mime_mail(multipart(*parts)))
    assert sum(isinstance(part, MediaPart) for part in item.content) == 200
    assert item.metadata["attachments_omitted"] == 5


def test_deeply_nested_parts_are_skipped_with_a_note() -> None:
    structure = b"Content-Type: text/plain\r\n\r\ndeep"
    for level in range(40):
        structure = multipart(structure, boundary=f"b{level}")
    item = parse_one(mime_mail(structure))
    assert item.content == ()
    assert "nested deeper than 32" in str(item.metadata["mime_error"])


def test_too_many_multiparts_leave_the_mime_structure_unparsed() -> None:
    structure = b"Content-Type: text/plain\r\n\r\ndeep"
    for level in range(120):
        structure = multipart(structure, boundary=f"b{level}")
    item = parse_one(mime_mail(structure))
    assert item.content == ()
    assert "multipart or message parts" in str(item.metadata["mime_error"])
    assert item.identifiers == (Identifier.email("anna.nowak@example.com"),)


def test_multipart_without_a_boundary_shows_its_raw_text() -> None:
    raw = mime_mail(b"Content-Type: multipart/mixed\r\n\r\nWhere is my parcel?\r\n")
    item = parse_one(raw)
    assert item.content == (TextPart(text="Where is my parcel?"),)


def test_first_html_part_is_the_body_when_there_is_no_plain_text() -> None:
    raw = mime_mail(
        multipart(
            b"Content-Type: text/html\r\n\r\n<p>first</p>",
            b"Content-Type: text/html\r\n\r\n<p>second</p>",
        )
    )
    assert parse_one(raw).content == (TextPart(text="first"),)


def test_attachment_with_malformed_disposition_parameters() -> None:
    # CPython's registry raises IndexError on this RFC 2231 parameter; the part survives.
    raw = mime_mail(
        multipart(
            b"Content-Type: text/plain\r\n\r\nInvoice attached.",
            b"Content-Type: application/pdf\r\n"
            b"Content-Disposition: attachment; filename*=\"'\r\n\r\n%PDF-1.4",
        )
    )
    assert parse_one(raw).content == (
        TextPart(text="Invoice attached."),
        MediaPart(media_type="application/pdf", size_bytes=8),
    )


def test_part_with_malformed_content_type_parameters_keeps_its_type() -> None:
    part = EmailMessage(policy=policy.default)
    part.set_raw("Content-Type", 'image/png; name*0*="\'"')
    part.set_payload("iVBORw0KGgo=")
    part.set_raw("Content-Transfer-Encoding", "base64")
    body, media, problem, omitted = _content(part)
    assert body == ("none", "")
    assert media == [MediaPart(media_type="image/png", size_bytes=8)]
    assert (problem, omitted) == (None, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("\udcc5\udc81\udcc3\udcb3d\udcc5\udcba", "Łódź"),  # raw UTF-8 bytes, escaped
        ("Zam\udcf3wienie", "Zam\ufffdwienie"),  # a raw latin-1 byte
        ("a\x00b", "ab"),
        ("\ud800x", "\ufffdx"),  # a lone surrogate that is no escaped byte
    ],
)
def test_clean_undoes_surrogate_escapes(text: str, expected: str) -> None:
    assert _clean(text) == expected


def test_deeply_nested_forwarded_messages_are_not_parsed() -> None:
    structure = b"Content-Type: message/rfc822\r\n\r\n" * 150 + b"From: x@example.com\r\n\r\nhi"
    item = parse_one(mime_mail(structure))
    assert item.content == ()
    assert "150 multipart or message parts" in str(item.metadata["mime_error"])


# --- HTML to text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("Line<br>break<br/>and<BR>more", "Line\nbreak\nand\nmore"),
        ("<div>a</div><div>b</div>", "a\nb"),
        ("<b>bold</b> and <i>italic</i>text", "bold and italictext"),
        ("Fish &amp; chips &lt;3 &euro;5&#33; &#x263A;", "Fish & chips <3 €5! ☺"),
        ("<script>alert('x')</script><style>p{}</style>visible", "visible"),
        ("<head><title>Subject</title></head><body>Body</body>", "Body"),
        ("<ul><li>one</li><li>two</li></ul>after", "- one\n- two\n\nafter"),
        (
            "<table><tr><td>Qty</td><td>2</td></tr><tr><td>Sum</td><td>10</td></tr></table>",
            "Qty 2\nSum 10",
        ),
        ("  lots   of\n\n  space\t here ", "lots of space here"),
        ("<pre>keep\nlines</pre>", "keep\nlines"),
        ("<![if !supportLists]>- <![endif]>item", "- item"),
        ("<!--[if mso]><p>mso only</p><![endif]-->shown", "shown"),
        ("<![foo[ odd marked section ]]>text", "text"),
        ("<title>never closed<body>the body</body>", "the body"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("<<<>>>&&&;", "<<<>>>&&&;"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


# --- auto-replies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "auto_reply"),
    [
        ((), False),
        (("Auto-Submitted: auto-replied",), True),
        (("Auto-Submitted: auto-generated",), True),
        (("Auto-Submitted: auto-notified; owner-email=owner@example.com",), True),
        (("Auto-Submitted: auto-replied (vacation)",), True),
        (("Auto-Submitted: no",), False),
        (("Auto-Submitted: No (a person wrote this)",), False),
        (("X-Autoreply: yes",), True),
        (("X-Autorespond: Out of office",), True),
        (("Precedence: auto_reply",), True),
        (("Precedence: bulk",), True),
        (("Precedence: junk",), True),
        (("Precedence: list",), False),
        (("X-Auto-Response-Suppress: All",), False),
    ],
)
def test_auto_reply_markers(extra: tuple[str, ...], auto_reply: bool) -> None:
    assert parse_one(mail(extra=extra)).metadata["auto_reply"] is auto_reply


# --- mentions -------------------------------------------------------------------------


def test_mentions_skip_the_message_own_addresses_and_invalid_values() -> None:
    body = (
        b"Write to me at anna.nowak@example.com or to my husband jan.nowak@example.com.\r\n"
        b"Your address support@sklep.example, my other one anna@private.example.\r\n"
        b"Phones: +48 601 234 567, +48 (22) 123-45-67, +44 7700 900123 (fictional), +1 2.\r\n"
        b"Again: jan.nowak@example.com and +48601234567. Not an address: user@localhost\r\n"
    )
    item = parse_one(mail({"Reply-To": "anna@private.example"}, body=body))
    assert item.mentions == (
        Identifier.email("jan.nowak@example.com"),
        Identifier.phone("+48601234567"),
        Identifier.phone("+48221234567"),
    )


def test_mentions_are_capped() -> None:
    body = " ".join(f"friend{n}@example.com" for n in range(120)).encode()
    item = parse_one(mail(body=body))
    assert len(item.mentions) == 100
    assert item.mentions[-1] == Identifier.email("friend99@example.com")


def test_mentions_come_from_the_subject_too() -> None:
    item = parse_one(mail({"Subject": "Call me: +48 601 234 567"}, body=b"Thanks"))
    assert item.mentions == (Identifier.phone("+48601234567"),)


# --- malformed input the standard library trips over -----------------------------------


def test_malformed_cc_does_not_lose_the_message() -> None:
    # CPython's header registry raises IndexError on a lone quote (3.10-3.13).
    item = parse_one(mail(extra=('Cc: "',)))
    assert item.metadata["cc"] == []
    assert item.identifiers == (Identifier.email("anna.nowak@example.com"),)


def test_from_falls_back_to_the_lenient_address_parser() -> None:
    # The registry raises on the trailing quote; getaddresses still reads the mailbox.
    item = parse_one(mail({"From": 'Anna Nowak <anna.nowak@example.com>,"'}))
    assert item.identifiers == (Identifier.email("anna.nowak@example.com"),)


def test_unparseable_mime_structure_keeps_the_headers() -> None:
    raw = mail(
        extra=('Content-Type: multipart/mixed; boundary*0*="\'"',), body=b"--a\r\n\r\nhi\r\n"
    )
    item = parse_one(raw)
    assert item.content == ()
    assert item.metadata["body_format"] == "none"
    assert "cannot be parsed" in str(item.metadata["mime_error"])
    assert item.metadata["subject"] == "Is order 4711 ready?"


def test_raw_header_bytes_that_are_not_utf8_are_replaced() -> None:
    raw = mail().replace(b"Subject: Is order 4711 ready?", b"Subject: Zam\xf3wienie\x00 4711")
    assert parse_one(raw).metadata["subject"] == "Zam\ufffdwienie 4711"


# --- bad input ------------------------------------------------------------------------

FUTURE = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (b"Hello, this is not an email at all.", "From", "is missing"),
        (b'{"from": "anna@example.com", "text": "hi"}', "From", "is missing"),
        (b"\x00\x01\x02\xff\xfe garbage", "From", "is missing"),
        (mail({"From": None}), "From", "is missing"),
        (mail({"From": ""}), "From", "is missing"),
        (mail({"From": "Anna Nowak"}), "From", "is not a valid email address"),
        (mail({"From": "<anna@>"}), "From", "is not a valid email address"),
        (mail({"From": "undisclosed-recipients:;"}), "From", "has no email address"),
        (mail({"From": "anna@localhost"}), "From", "is not a valid email address"),
        (mail({"Date": None}), "Date", "is missing and no Received header carries a date"),
        (mail({"Date": "soon"}), "Date", "is not an RFC 5322 date"),
        (mail({"Date": FUTURE}), "Date", "too far in the future"),
        (
            mail({"Date": None}, extra=(f"Received: by mx.example; {FUTURE}",)),
            "Received",
            "too far in the future",
        ),
        (mail({"Message-ID": f"<{'x' * 520}@example.com>"}), "Message-ID", "longer than 512"),
        (b"", "body", "is empty"),
    ],
    ids=[
        "prose",
        "json",
        "binary",
        "no-from",
        "empty-from",
        "from-without-address",
        "from-invalid-address",
        "from-group-only",
        "from-no-domain-dot",
        "no-date-no-received",
        "bad-date-no-received",
        "future-date",
        "future-received",
        "long-message-id",
        "empty",
    ],
)
def test_bad_input(raw: bytes, field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        EmailAdapter().parse(InboundRequest(body=raw))
    assert caught.value.field == field
    assert message in str(caught.value)


def test_oversized_message_is_refused() -> None:
    adapter = EmailAdapter(max_body_bytes=200)
    with pytest.raises(InvalidPayloadError, match="larger than the limit of 200 bytes") as caught:
        adapter.parse(InboundRequest(body=mail(body=b"x" * 300)))
    assert caught.value.field == "body"


def test_bigger_limit_accepts_bigger_messages() -> None:
    raw = mail(body=b"x" * 2_000_000)
    assert parse_one(raw, EmailAdapter(max_body_bytes=25 * 1024 * 1024)).text.startswith("xxx")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"replay_window_seconds": 0}, "replay_window_seconds"),
        ({"from_address": "not an address"}, "from_address"),
        ({"from_address": "a@example.com, b@example.com"}, "from_address"),
        ({"from_address": "Shop <shop@example.com>\r\nBcc: x@example.com"}, "from_address"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
    ],
)
def test_bad_options(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        EmailAdapter(**options)  # type: ignore[arg-type]
    assert caught.value.field == field


# --- signatures -----------------------------------------------------------------------


def test_signed_relay_request_verifies() -> None:
    request = signed(fixture("plain_qp_utf8.eml"), SECRET, NOW)
    EmailAdapter().verify(request, SECRET, now=NOW)
    EmailAdapter().verify(request, SECRET, now=NOW + timedelta(seconds=300))


def test_signature_headers_helper_matches_the_documented_scheme() -> None:
    body = fixture("plain_qp_utf8.eml")
    stamp = int(NOW.timestamp())
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert EmailAdapter.signature_headers(body, SECRET, stamp) == {
        "X-Omnichannel-Timestamp": str(stamp),
        "X-Omnichannel-Signature": f"sha256={expected}",
    }


def test_uppercase_hex_is_accepted() -> None:
    request = signed(b"From: a@example.com\r\n\r\nhi", SECRET, NOW)
    header = str(request.header(SIGNATURE_HEADER))
    upper = InboundRequest(
        body=request.body,
        headers={**request.headers, SIGNATURE_HEADER: "SHA256=" + header[7:].upper()},
    )
    EmailAdapter().verify(upper, SECRET, now=NOW)


def _swap_headers(request: InboundRequest, **headers: str) -> InboundRequest:
    return InboundRequest(body=request.body, headers={**request.headers, **headers})


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda r: InboundRequest(body=r.body + b"\r\nP.S.", headers=r.headers), "forged"),
        (lambda r: signed(r.body, "someone-else", NOW), "forged"),
        # A captured request with its timestamp moved into the window, not re-signed.
        (
            lambda r: _swap_headers(r, **{TIMESTAMP_HEADER: str(int(NOW.timestamp()) + 1)}),
            "forged",
        ),
        (lambda r: signed(r.body, SECRET, NOW - timedelta(seconds=301)), "outside the 300 s"),
        (lambda r: signed(r.body, SECRET, NOW + timedelta(seconds=301)), "outside the 300 s"),
        (lambda r: InboundRequest(body=r.body), "missing X-Omnichannel-Signature"),
        (
            lambda r: _swap_headers(r, **{TIMESTAMP_HEADER: ""}),
            "missing X-Omnichannel-Timestamp",
        ),
        (lambda r: _swap_headers(r, **{TIMESTAMP_HEADER: "12.5"}), "not a Unix time"),
        (lambda r: _swap_headers(r, **{TIMESTAMP_HEADER: "-1700000000"}), "not a Unix time"),
        (lambda r: _swap_headers(r, **{SIGNATURE_HEADER: "sha1=abcdef"}), "must be 'sha256="),
        (lambda r: _swap_headers(r, **{SIGNATURE_HEADER: "sha256="}), "must be 'sha256="),
        (lambda r: _swap_headers(r, **{SIGNATURE_HEADER: "deadbeef"}), "must be 'sha256="),
    ],
    ids=[
        "tampered-body",
        "wrong-secret",
        "timestamp-swapped",
        "stale",
        "from-the-future",
        "unsigned",
        "no-timestamp",
        "fractional-timestamp",
        "negative-timestamp",
        "wrong-algorithm",
        "empty-digest",
        "no-scheme",
    ],
)
def test_bad_signatures(make: Callable[[InboundRequest], InboundRequest], reason: str) -> None:
    bad = make(signed(fixture("plain_qp_utf8.eml"), SECRET, NOW))
    with pytest.raises(SignatureError, match=reason):
        EmailAdapter().verify(bad, SECRET, now=NOW)


def test_a_replayed_request_is_refused_once_the_window_has_passed() -> None:
    captured = signed(fixture("plain_qp_utf8.eml"), SECRET, NOW)
    EmailAdapter().verify(captured, SECRET, now=NOW)
    with pytest.raises(SignatureError, match="stale or replayed"):
        EmailAdapter().verify(captured, SECRET, now=NOW + timedelta(minutes=10))


def test_replay_window_is_configurable() -> None:
    request = signed(fixture("plain_qp_utf8.eml"), SECRET, NOW)
    adapter = EmailAdapter(replay_window_seconds=3600)
    adapter.verify(request, SECRET, now=NOW + timedelta(minutes=30))
    with pytest.raises(SignatureError, match="3600 s"):
        adapter.verify(request, SECRET, now=NOW + timedelta(minutes=61))


def test_empty_secret_is_refused() -> None:
    request = signed(fixture("plain_qp_utf8.eml"), "", NOW)
    with pytest.raises(SignatureError, match="secret is empty"):
        EmailAdapter().verify(request, "", now=NOW)


# --- render ---------------------------------------------------------------------------


def test_render_payload() -> None:
    adapter = EmailAdapter(from_address="Sklep Rowerowy <obsluga@sklep.example>")
    payload = adapter.render(
        reply(metadata={"subject": "Re: Zamówienie", "headers": {"X-Ticket": "T-4711"}})
    )
    assert payload == {
        "from": "Sklep Rowerowy <obsluga@sklep.example>",
        "to": ["lukasz.wojcik@gmail.com"],
        "subject": "Re: Zamówienie",
        "text": "Dzień dobry, paczka wyjechała dziś rano.",
        "in_reply_to": "<CAHx7q2dJ5pXoW9k3@mail.gmail.com>",
        "references": ["<CAHx7q2dJ5pXoW9k3@mail.gmail.com>"],
        "headers": {
            "Message-ID": "<20251110100000.4711.reply@sklep.example>",
            "X-Ticket": "T-4711",
        },
    }


def test_render_extends_the_references_of_the_thread() -> None:
    payload = EmailAdapter().render(
        reply(
            reply_to="b@x.example",
            metadata={"references": ["a@x.example", "b@x.example", "not an id", 7]},
        )
    )
    assert payload["references"] == ["<a@x.example>", "<b@x.example>"]
    assert payload["from"] is None
    assert payload["subject"] == ""


def test_render_starts_references_from_the_conversation_root() -> None:
    payload = EmailAdapter().render(
        reply(reply_to="c@x.example", conversation_key="a@x.example", metadata={})
    )
    assert payload["references"] == ["<a@x.example>", "<c@x.example>"]
    assert payload["in_reply_to"] == "<c@x.example>"


def test_render_leaves_out_derived_ids() -> None:
    payload = EmailAdapter().render(
        reply(source_id="sha256:ab12", reply_to="sha256:cd34", conversation_key="sha256:cd34")
    )
    assert payload["in_reply_to"] is None
    assert payload["references"] == []
    assert payload["headers"] == {}


def _no_email() -> Interaction:
    return reply(identifiers=[Identifier.phone("+48601234567")])


@pytest.mark.parametrize(
    ("interaction", "field", "message"),
    [
        (reply(identifiers=[]), "identifiers", "has no email address to send to"),
        (_no_email(), "identifiers", "has no email address to send to"),
        (reply(content=[]), "content", "has no text to send"),
        (reply(content=[{"type": "text", "text": "  \n"}]), "content", "has no text to send"),
        (
            reply(metadata={"subject": "Hi\r\nBcc: x@example.com"}),
            "metadata.subject",
            "line breaks",
        ),
        (reply(metadata={"subject": 42}), "metadata.subject", "must be a string"),
        (
            reply(metadata={"headers": {"Bcc": "x@example.com"}}),
            "metadata.headers.Bcc",
            "set by the adapter",
        ),
        (reply(metadata={"headers": {"X-A": "1\n2"}}), "metadata.headers.X-A", "line breaks"),
        (reply(metadata={"headers": {"X A": "1"}}), "metadata.headers.X A", "not a header name"),
        (reply(metadata={"headers": {"X-A": 1}}), "metadata.headers.X-A", "must be a string"),
    ],
    ids=[
        "no-identifiers",
        "phone-only",
        "no-content",
        "blank-text",
        "subject-injection",
        "subject-not-text",
        "reserved-header",
        "header-injection",
        "bad-header-name",
        "header-not-text",
    ],
)
def test_render_refuses(interaction: Interaction, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        EmailAdapter().render(interaction)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_render_message_round_trips_through_parse() -> None:
    adapter = EmailAdapter()
    interaction = reply(
        metadata={
            "subject": "Re: Zamówienie nr 4711 – gdzie jest moja paczka?",
            "references": ["root.1@mail.gmail.com"],
            "headers": {"Auto-Submitted": "auto-replied"},
        }
    )
    message = adapter.render_message(
        interaction, "Sklep Rowerowy – Obsługa <obsluga@sklep.example>"
    )
    raw = message.as_bytes()
    assert raw.isascii()  # names, subject and body encoded for 7-bit transport
    headers = BytesParser(policy=policy.default).parsebytes(raw)
    assert headers["To"] == "Łukasz Wójcik <lukasz.wojcik@gmail.com>"
    assert headers["Content-Transfer-Encoding"] in ("quoted-printable", "base64")

    item = parse_one(raw, adapter)
    assert item.source_id == "20251110100000.4711.reply@sklep.example"
    assert item.identifiers == (Identifier.email("obsluga@sklep.example"),)
    assert item.traits == {"display_name": "Sklep Rowerowy – Obsługa"}
    assert item.metadata["subject"] == "Re: Zamówienie nr 4711 – gdzie jest moja paczka?"
    assert item.metadata["to"] == ["lukasz.wojcik@gmail.com"]
    assert item.text == "Dzień dobry, paczka wyjechała dziś rano."
    assert item.reply_to == "CAHx7q2dJ5pXoW9k3@mail.gmail.com"
    assert item.metadata["references"] == [
        "root.1@mail.gmail.com",
        "CAHx7q2dJ5pXoW9k3@mail.gmail.com",
    ]
    assert item.conversation_key == "root.1@mail.gmail.com"
    assert item.occurred_at == interaction.occurred_at
    assert item.metadata["auto_reply"] is True


def test_render_message_makes_a_message_id_when_there_is_none() -> None:
    message = EmailAdapter().render_message(reply(source_id=None), "obsluga@sklep.example")
    message_id = str(message["Message-ID"])
    assert message_id.startswith("<")
    assert message_id.endswith("@sklep.example>")
    assert parse_one(message.as_bytes()).source_id == message_id[1:-1]


def test_render_message_writes_an_internationalized_domain_in_ascii() -> None:
    interaction = reply(identifiers=[Identifier.email("jan@bücher.example")], traits={})
    message = EmailAdapter().render_message(interaction, "obsluga@sklep.example")
    assert message["To"] == "jan@xn--bcher-kva.example"


def test_an_unencodable_domain_is_left_as_it_is() -> None:
    address = "jan@" + "ü" * 70 + ".example"  # a label too long for IDNA
    assert _ascii_domain(address) == address


@pytest.mark.parametrize(
    "sender", ["", "no address", "a@example.com, b@example.com", "x@localhost"]
)
def test_render_message_needs_one_valid_sender(sender: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        EmailAdapter().render_message(reply(), sender)
    assert caught.value.field == "from_address"


def test_render_message_accepts_an_address_and_extra_headers() -> None:
    interaction = reply(
        reply_to=None,
        conversation_key=None,
        metadata={
            "headers": {"Reply-To": "Reklamacje <reklamacje@sklep.example>", "X-Ticket": "T-4711"}
        },
    )
    message = EmailAdapter().render_message(
        interaction, Address("Sklep Rowerowy", "obsluga", "sklep.example")
    )
    assert message["From"] == "Sklep Rowerowy <obsluga@sklep.example>"
    assert message["Reply-To"] == "Reklamacje <reklamacje@sklep.example>"
    assert message["X-Ticket"] == "T-4711"
    assert "Subject" not in message  # no subject given
    assert "In-Reply-To" not in message  # a new conversation
    assert "References" not in message


def test_render_message_refuses_an_extra_header_the_library_cannot_write() -> None:
    interaction = reply(metadata={"headers": {"Reply-To": '"'}})
    with pytest.raises(InvalidValueError) as caught:
        EmailAdapter().render_message(interaction, "obsluga@sklep.example")
    assert caught.value.field == "metadata.headers.Reply-To"


# --- resolution -----------------------------------------------------------------------


def test_parsed_messages_resolve_to_one_customer() -> None:
    hub = Hub(MemoryStore())
    adapter = EmailAdapter()
    first = hub.ingest(parse_one(fixture("plain_qp_utf8.eml"), adapter))
    # The same Gmail mailbox spelled differently, in a later message of the thread.
    later = mail(
        {
            "From": "=?iso-8859-2?Q?=A3ukasz_W=F3jcik?= <lukaszwojcik+sklep@googlemail.com>",
            "Message-ID": "<CAHx7q2dJ5pXoW9k4@mail.gmail.com>",
            "Date": "Mon, 10 Nov 2025 11:02:00 +0100",
            "In-Reply-To": "<20251110100000.4711.reply@sklep.example>",
            "References": "<CAHx7q2dJ5pXoW9k3@mail.gmail.com>\r\n"
            " <20251110100000.4711.reply@sklep.example>",
        }
    )
    second = hub.ingest(parse_one(later, adapter))
    redelivered = hub.ingest(parse_one(fixture("plain_qp_utf8.eml"), adapter))
    other = hub.ingest(parse_one(fixture("reply_windows1251.eml"), adapter))

    assert first.outcome is IngestOutcome.CREATED
    assert second.outcome is IngestOutcome.ATTACHED
    assert second.profile_id == first.profile_id
    assert redelivered.outcome is IngestOutcome.DUPLICATE
    assert redelivered.interaction_id == first.interaction_id
    assert other.profile_id != first.profile_id
    profile = hub.profile(first.profile_id)
    assert profile.display_name == "Łukasz Wójcik"
    timeline = hub.timeline(first.profile_id).items
    assert [item.source_id for item in timeline] == [
        "CAHx7q2dJ5pXoW9k4@mail.gmail.com",
        "CAHx7q2dJ5pXoW9k3@mail.gmail.com",
    ]
