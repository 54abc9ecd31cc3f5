"""The short reading of standard delivery-status reports (`extract.report`).

It reads only ``multipart/report; report-type=delivery-status`` messages it
is sure of, builds the same part tree the general reading builds, and hands
everything else back (None) to the general reading; either way
`parse_message` answers exactly what the general reading answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.accuracy import iter_file_messages
from hypothesis import given, settings
from hypothesis import strategies as st

from bouncetool.extract import ExtractError, parse_message, report
from bouncetool.extract.mail import Mail
from bouncetool.extract.mime import Entity, normalise_newlines, parse_entity, split_head
from bouncetool.model import Bounce
from tests.support import TEST_DATA

_BOUNDARY = "b-1/report"
_TEXT = "Your message could not be delivered.\n"
_STATUS = (
    "Reporting-MTA: dns; mx.sender.example\n\n"
    "Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
)
_ORIGINAL = "Message-ID: <m1@sender.example>\nFrom: news@sender.example\nSubject: Hi\n\nBody\n"


def _report(
    *,
    ctype: str = f'multipart/report; report-type=delivery-status; boundary="{_BOUNDARY}"',
    top: str = "",
    parts: tuple[tuple[str, str], ...] = (
        ("text/plain", _TEXT),
        ("message/delivery-status", _STATUS),
        ("message/rfc822", _ORIGINAL),
    ),
    boundary: str = _BOUNDARY,
) -> bytes:
    lines = [
        "From: MAILER-DAEMON@sender.example",
        "To: news@sender.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: Mon, 23 Nov 2026 10:15:02 +0100",
        *([top] if top else []),
        "MIME-Version: 1.0",
        f"Content-Type: {ctype}",
        "",
        "This is a MIME-encapsulated message.",
    ]
    for part_type, content in parts:
        lines += [f"--{boundary}", f"Content-Type: {part_type}", "", content]
    lines.append(f"--{boundary}--")
    return "\n".join(lines).encode()


def _read(data: bytes) -> Mail | None:
    return report.read_report(*split_head(normalise_newlines(data).lstrip(b"\n")))


def _outcome(data: bytes) -> list[Bounce] | str:
    """The records of `data`, or the message of the error it raises."""
    try:
        return parse_message(data)
    except ExtractError as error:
        return str(error)


def _general(data: bytes, monkeypatch: pytest.MonkeyPatch) -> list[Bounce] | str:
    """`_outcome` of `data` with the short reading switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(report, "read_report", lambda head, body: None)
        return _outcome(data)


def _shape(entity: Entity) -> tuple[object, ...]:
    """Everything of a tree that extraction reads: types, parameters, bodies, headers, depth."""
    return (
        entity.ctype,
        dict(entity.params),
        entity.body,
        entity.depth,
        entity.headers.get("content-type"),
        entity.headers.get("subject"),
        entity.headers.get("date"),
        tuple(_shape(child) for child in entity.children),
    )


class TestReadsStandardReports:
    """A standard report is read the short way, into the tree the general reading builds."""

    def test_the_common_shape(self) -> None:
        mail = _read(_report())
        assert mail is not None
        data = normalise_newlines(_report())
        assert _shape(mail.root) == _shape(parse_entity(data))

    def test_its_parts_are_listed_as_the_walk_lists_them(self) -> None:
        mail = _read(_report())
        assert mail is not None
        assert mail.parts == mail.root.walk(into_messages=False)

    def test_returned_headers_instead_of_the_message(self) -> None:
        data = _report(
            parts=(("text/plain", _TEXT), ("message/delivery-status", _STATUS), (
                "text/rfc822-headers", "Message-ID: <m1@sender.example>\n")),
        )  # fmt: skip
        assert _read(data) is not None
        assert parse_message(data)[0].original_message_id == "<m1@sender.example>"

    def test_field_names_in_any_case_and_folded(self) -> None:
        ctype = f"MULTIPART/Report;\n\treport-type=Delivery-Status;\n\tboundary={_BOUNDARY}"
        data = _report(ctype=ctype).replace(b"Content-Type: MULTIPART", b"CONTENT-TYPE : MULTIPART")
        assert _read(data) is not None
        assert parse_message(data)[0].recipient == "nobody@example.org"

    def test_a_content_type_on_the_first_line(self) -> None:
        data = (
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{_BOUNDARY}"\n'
        )
        data += _report().decode().split("\n", 1)[1]
        assert _read(data.encode()) is not None

    def test_a_multipart_inside_is_walked(self) -> None:
        inner = "--in\nContent-Type: text/plain\n\nhello\n--in--\n"
        data = _report(
            parts=(
                ("multipart/alternative; boundary=in", inner),
                ("message/delivery-status", _STATUS),
            ),
        )
        mail = _read(data)
        assert mail is not None
        assert [p.ctype for p in mail.parts] == [
            "multipart/report", "multipart/alternative", "text/plain", "message/delivery-status",
        ]  # fmt: skip


class TestHandsBackWhatItIsNotSureOf:
    """Anything but a plain delivery-status report goes to the general reading (None)."""

    @pytest.mark.parametrize(
        "data",
        [
            _report(ctype=f"multipart/mixed; boundary={_BOUNDARY}"),
            _report(ctype=f"multipart/report; report-type=feedback-report; boundary={_BOUNDARY}"),
            _report(ctype="multipart/report; report-type=delivery-status"),  # no boundary
            _report(boundary="another"),  # the declared boundary is not used: guessed
            _report(ctype="text/plain; x=delivery-status"),
            _report(top="X-Apple-Unsubscribe: true"),
            _report(top="X-HmXmrOriginalRecipient: <someone@example.org>"),
            _report(parts=(("message/feedback-report", "Feedback-Type: abuse\n"),)),
            b"Subject: delivery-status\n\nno header block ends here",
            b"Subject: delivery-status",
        ],
        ids=[
            "mixed", "feedback-report", "no-boundary", "wrong-boundary", "not-multipart",
            "apple-unsubscribe", "jmrp-top", "complaint-part", "no-content-type", "no-body",
        ],
    )  # fmt: skip
    def test_hands_back(self, data: bytes) -> None:
        assert _read(data) is None

    def test_a_jmrp_field_in_the_returned_message(self) -> None:
        original = "X-HmXmrOriginalRecipient: <a@example.org>\n" + _ORIGINAL
        data = _report(parts=(("message/delivery-status", _STATUS), ("message/rfc822", original)))
        assert _read(data) is None

    def test_no_content_type_in_a_header_block_that_names_delivery_status(self) -> None:
        assert _read(b"X-Note: delivery-status\nSubject: x\n\nbody\n") is None


class TestSameAnswersAsTheGeneralReading:
    """`parse_message` gives the same records with and without the short reading."""

    @staticmethod
    def _samples() -> Iterator[Path]:
        yield from sorted((TEST_DATA / "bounces").glob("*.eml"))
        yield TEST_DATA / "dsn-postfix.eml"

    @pytest.mark.parametrize("path", list(_samples()), ids=lambda path: path.name)
    def test_every_sample(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        data = path.read_bytes()
        assert _outcome(data) == _general(data, monkeypatch)

    @pytest.mark.parametrize("path", list(_samples()), ids=lambda path: path.name)
    def test_every_sample_cut_short(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        data = path.read_bytes()
        for cut in range(0, len(data), max(1, len(data) // 40)):
            assert _outcome(data[:cut]) == _general(data[:cut], monkeypatch)

    @settings(max_examples=60, deadline=None)
    @given(
        at=st.integers(min_value=0, max_value=900),
        junk=st.sampled_from([
            b"\n", b"\n\n", b"--", f"\n--{_BOUNDARY}\n".encode(), f"\n--{_BOUNDARY}--\n".encode(),
            b"Content-Type: multipart/mixed; boundary=x\n", b"\xff\xfe", b"=?utf-8?q?complaint?=",
            b"Content-Transfer-Encoding: base64\n", b" ", b"\r",
        ]),
    )  # fmt: skip
    def test_a_report_with_something_spliced_in(self, at: int, junk: bytes) -> None:
        data = _report()
        data = data[:at] + junk + data[at:]
        with pytest.MonkeyPatch.context() as patch:
            assert _outcome(data) == _general(data, patch)

    def test_every_corpus_message(self, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        read_short = 0
        for path in sorted((corpus / "emails").iterdir()):
            for _number, data in iter_file_messages(path):
                assert _outcome(data) == _general(data, monkeypatch), path.name
                read_short += _read(data) is not None
        assert read_short > 300  # most corpus bounces are standard reports, read the short way

    def test_huge_report(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = _report(
            parts=(("text/plain", _TEXT * 20_000), ("message/delivery-status", _STATUS * 50))
        )
        assert _read(data) is not None
        assert _outcome(data) == _general(data, monkeypatch)

    def test_many_parts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = _report(
            parts=(("text/plain", _TEXT),) * 300 + (("message/delivery-status", _STATUS),)
        )
        assert _outcome(data) == _general(data, monkeypatch)
