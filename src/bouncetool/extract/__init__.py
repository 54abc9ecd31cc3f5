"""Extracting bounced recipients from one message: ``parse_message(data) -> list[Bounce]``.

Each format family lives in its own module with a docstring that describes
the format. `EXTRACTORS` is the explicit order in which they are asked: the
first that recognises the message decides, so specific formats (complaints,
standard reports) come before vendor text formats, and the last-resort
heuristics come last. A message nobody recognises gives one ``not-bounce``
record, so nothing vanishes silently.

A bounce attached to another message or forwarded in its text is read as a
message of its own (`nested`), before the last-resort heuristics would take
the wrapper's addresses for the bounce's.

When the standard report leaves a recipient without a diagnostic (Postfix and
Courier put the reason only in the human-readable part), the text formats are
asked too and their diagnostic is merged in by recipient; Sendmail's session
transcript answers first where its report gives only an exit status (`transcript`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from bouncetool.errors import BounceToolError
from bouncetool.extract import (
    arf,
    autoreply,
    dsn,
    heuristic,
    nested,
    report,
    stage,
    textformats,
    transcript,
)
from bouncetool.extract.dates import iso_date
from bouncetool.extract.finish import CAMPAIGN_HEADERS, finish, not_bounce
from bouncetool.extract.layout import REPORT_WINDOW, has_code
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.mime import normalise_newlines, parse_split, split_head
from bouncetool.model import Bounce

__all__ = ["CAMPAIGN_HEADERS", "EXTRACTORS", "ExtractError", "parse_message"]

Extractor = Callable[[Mail], "list[Found] | None"]


def _nested(mail: Mail) -> list[Found] | None:
    """The recipients of the first bounce attached to or forwarded in `mail` (see `nested`)."""
    for inner in nested.candidates(mail):
        found = _extract(inner, _INNER_EXTRACTORS)
        if found:
            for item in found:
                item.origin = inner
            return found
    return None


EXTRACTORS: tuple[tuple[str, Extractor], ...] = (
    ("arf", arf.extract),  # RFC 5965 complaints first: they are multipart/report too
    ("dsn", dsn.extract),  # RFC 3464 / 6533, labelled, mislabelled or inline
    ("autoreply", autoreply.extract),  # RFC 3834, after DSN: daemons say auto-replied too
    ("text", textformats.extract),  # the vendor text formats, each in its own module
    ("nested", _nested),  # a bounce inside: before the heuristics take the wrapper's addresses
    ("heuristic", heuristic.extract),  # last resort: a bounce-looking message, any layout
)
"""The extractors in the order they are asked; the first that finds something decides."""

# For what `report.read_report` read: every extractor but the complaints, which it ruled out.
_REPORT_EXTRACTORS = tuple(item for item in EXTRACTORS if item[0] != "arf")

# What proves a message inside another to be a bounce: a report, a known server's text,
# or a mailer daemon's own message in any layout (Gmail's "Address not found").
_INNER_EXTRACTORS: tuple[tuple[str, Extractor], ...] = (
    ("dsn", dsn.extract),
    ("text", textformats.extract),
    ("heuristic", nested.from_daemon(heuristic.extract)),
)


_REPORT = "multipart/report"

# A message starts with a header field (RFC 5322 2.2: printable ASCII but the
# colon, then a colon) or, in mbox form, a "From " line. Anything else (an
# executable, a zip, a spreadsheet given as a mailbox) is not mail at all.
# Blank input is an empty message: no bounce, said in one not-bounce record.
_STARTS_LIKE_MAIL = re.compile(rb"\s*(?:From |[!-9;-~]+[ \t]*:|\Z)")


# (A constant: "bytes | bytearray | memoryview" written in the call builds the union anew.)
_BYTES_LIKE = (bytes, bytearray, memoryview)


class ExtractError(BounceToolError):
    """A message is so broken that not even a not-bounce record can be made of it."""


def parse_message(
    data: bytes, *, campaign_headers: Sequence[str] = CAMPAIGN_HEADERS
) -> list[Bounce]:
    """Every bounced recipient in one raw message; one ``not-bounce`` record if it is no bounce.

    `campaign_headers` names the headers of the returned message that carry a
    campaign id, most specific first. `source` and `message` of the records are
    left None: the pipeline places them.
    """
    if not isinstance(data, _BYTES_LIKE):
        raise TypeError(f"parse_message wants bytes, not {type(data).__name__}")
    if not _STARTS_LIKE_MAIL.match(data):
        raise ExtractError("not an email message: it does not start with header fields")
    try:
        head, body = split_head(normalise_newlines(bytes(data)).lstrip(b"\n"))
        # A standard delivery-status report is read the short way; it is no complaint.
        mail = report.read_report(head, body)
        if mail is not None:
            found = _extract(mail, _REPORT_EXTRACTORS)
        else:
            mail = Mail(parse_split(head, body))
            found = _extract(mail)
        if not found:
            return [not_bounce(mail)]
        return [_finish(item, mail, campaign_headers) for item in found]
    except (ValueError, LookupError, UnicodeError, RecursionError) as error:
        raise ExtractError(f"cannot read the message: {error}") from error


def _finish(item: Found, mail: Mail, campaign_headers: Sequence[str]) -> Bounce:
    if item.origin is None:
        return finish(item, mail, campaign_headers)
    # A bounce inside another message: its own returned message gives the original's
    # facts; the wrapper's date stands in when the inner bounce has none that reads.
    bounce = finish(item, item.origin, campaign_headers)
    if bounce.date is None:
        bounce = replace(bounce, date=iso_date(mail.header("date")))
    return bounce


def _extract(
    mail: Mail, extractors: tuple[tuple[str, Extractor], ...] = EXTRACTORS
) -> list[Found] | None:
    for name, extractor in extractors:
        found = extractor(mail)
        if not found:
            continue
        if name == "nested":
            return found  # read whole by the inner extraction
        if name == "dsn":
            transcript.fill_from_transcript(found, mail)  # Sendmail's "X-Unix; 77", empty fields
        if name == "dsn" and any(not item.diagnostic for item in found):
            _merge_text_diagnostics(found, textformats.extract(mail) or [])
            # No known text layout either (au EZweb: "The user(s) account is disabled."
            # above the address, ezweb-02/03/05): the report's own words are the reason.
            # Only a text without codes: a code there would be taken as the failure's own.
            if any(not item.diagnostic for item in found):
                text = mail.body[:REPORT_WINDOW]
                reason = None if has_code(text) else heuristic.reason_text(text)
                for item in found:
                    item.diagnostic = item.diagnostic or reason
        if name == "dsn":
            stage.add_stages(found, mail)
            return found
        stage.add_trailer_stage(found, mail.body)  # m-FILTER names it below the answer
        if len(found) == 1 and found[0].status is None and mail.root.ctype == _REPORT:
            found[0].status = dsn.lone_status(mail)  # a DSN naming no address (Exim, a path)
        return found
    return None


def _merge_text_diagnostics(found: list[Found], texts: list[Found]) -> None:
    by_recipient = {t.recipient.lower(): t for t in texts if t.recipient and t.diagnostic}
    lone = texts[0] if len(texts) == 1 and len(found) == 1 else None
    for item in found:
        if item.diagnostic:
            continue
        text = by_recipient.get((item.recipient or "").lower()) or lone
        if text is not None:
            item.diagnostic = text.diagnostic
            item.reply_code = item.reply_code or text.reply_code
            item.remote_mta = item.remote_mta or text.remote_mta
