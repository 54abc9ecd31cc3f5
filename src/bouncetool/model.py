"""The records that flow through bouncetool, from raw message to contact decision.

Data flows one way::

    RawMessage --extract--> Bounce --rules--> Verdict
    (Bounce, Verdict) = Record --ledger--> Event --policy--> AddressStatus

Every record is a frozen dataclass; the JSON form of a `Record` is the output
contract of ``bouncetool classify`` (see README, "The record").
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Kind(enum.StrEnum):
    """What a message (or one recipient in it) means for the sender."""

    HARD = "hard"  # the address or its domain is gone for good
    SOFT = "soft"  # a failure that may pass: retry, escalate by policy
    COMPLAINT = "complaint"  # an ARF spam report (RFC 5965)
    AUTO_REPLY = "auto-reply"  # vacation / out of office (RFC 3834): never a bounce
    DELAYED = "delayed"  # "Action: delayed": the MTA is still trying
    DELIVERED = "delivered"  # a success notice
    NOT_BOUNCE = "not-bounce"  # ordinary mail that reached the bounce mailbox

    @property
    def is_failure(self) -> bool:
        """True for the kinds that are delivery failures."""
        return self in (Kind.HARD, Kind.SOFT)


class Blame(enum.StrEnum):
    """Whose fault a failure is; only ``recipient`` failures may remove a contact."""

    RECIPIENT = "recipient"
    SENDER = "sender"
    UNKNOWN = "unknown"


class Lang(enum.StrEnum):
    """Languages of explanations."""

    CS = "cs"
    EN = "en"


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as read from a source, before any parsing.

    `source` is the path (or URL, ``-`` for standard input) it came from and
    `number` its 1-based position inside that source.
    """

    source: str
    number: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Bounce:
    """One recipient of one message, as the extractor found it.

    `kind` here is what the format says (complaint, auto-reply, delayed,
    delivered, not-bounce) or, for failures, hard/soft by the status class
    alone; the rule table refines it into a `Verdict`.
    """

    kind: Kind
    recipient: str | None = None
    original_recipient: str | None = None
    action: str | None = None
    status: str | None = None  # enhanced status code, e.g. "5.1.1"
    reply_code: str | None = None  # SMTP reply code, e.g. "550"
    diagnostic: str | None = None
    remote_mta: str | None = None
    reporting_mta: str | None = None
    date: str | None = None  # ISO 8601 with offset, from the report or the message Date
    original_message_id: str | None = None
    original_sender: str | None = None
    campaign: str | None = None
    feedback_type: str | None = None
    source: str | None = None
    message: int | None = None

    def at(self, source: str, message: int) -> Bounce:
        """The same bounce, placed in the file and message number it came from."""
        return dataclasses.replace(self, source=source, message=message)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rule table decided for one bounce, and why."""

    kind: Kind
    reason: str  # Sisimai's vocabulary: userunknown, mailboxfull, ...
    category: str  # the user-facing group: invalid-recipient, mailbox-full, ...
    blame: Blame
    rule: str  # id of the rule that decided
    matched: str | None  # the text (or code) that matched
    explanation_cs: str
    explanation_en: str

    def explanation(self, lang: Lang) -> str:
        """The explanation in `lang`."""
        return self.explanation_cs if lang is Lang.CS else self.explanation_en


RECORD_FIELDS: tuple[str, ...] = (
    "source",
    "message",
    "recipient",
    "original_recipient",
    "action",
    "status",
    "reply_code",
    "diagnostic",
    "remote_mta",
    "reporting_mta",
    "date",
    "original_message_id",
    "original_sender",
    "campaign",
    "feedback_type",
    "kind",
    "reason",
    "category",
    "blame",
    "rule",
    "matched",
    "explanation",
)
"""The keys of a record in JSON Lines and the columns of CSV output, in order."""


@dataclass(frozen=True, slots=True)
class Record:
    """A bounce with its verdict: one line of ``classify`` output."""

    bounce: Bounce
    verdict: Verdict | None = None

    @property
    def kind(self) -> Kind:
        """The final kind: the verdict's when there is one."""
        return self.verdict.kind if self.verdict else self.bounce.kind

    def as_dict(self, lang: Lang = Lang.EN) -> dict[str, Any]:
        """The record as the flat mapping of the output contract (`RECORD_FIELDS`)."""
        b, v = self.bounce, self.verdict
        return {
            "source": b.source,
            "message": b.message,
            "recipient": b.recipient,
            "original_recipient": b.original_recipient,
            "action": b.action,
            "status": b.status,
            "reply_code": b.reply_code,
            "diagnostic": b.diagnostic,
            "remote_mta": b.remote_mta,
            "reporting_mta": b.reporting_mta,
            "date": b.date,
            "original_message_id": b.original_message_id,
            "original_sender": b.original_sender,
            "campaign": b.campaign,
            "feedback_type": b.feedback_type,
            "kind": str(self.kind),
            "reason": v.reason if v else None,
            "category": v.category if v else None,
            "blame": str(v.blame) if v else None,
            "rule": v.rule if v else None,
            "matched": v.matched if v else None,
            "explanation": v.explanation(lang) if v else None,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """A message (or a whole source) that could not be read or parsed.

    The run reports it, keeps going, and ends with exit status 1. `data` is
    the message's bytes when it was read but could not be parsed, so that it
    can be kept aside (`bouncetool.quarantine`); None when there is nothing to
    keep (a source that cannot be read, a message too large to hold). It plays
    no part in equality.
    """

    source: str
    message: int | None
    error: str
    data: bytes | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """One line naming the file, the message number and what went wrong."""
        where = self.source if self.message is None else f"{self.source}, message {self.message}"
        return f"{where}: {self.error}"


@dataclass(frozen=True, slots=True)
class Event:
    """One bounce as the ledger keeps it: a `Record` with identity and dates."""

    fingerprint: str  # identity of (message, recipient): the same bounce counts once
    address: str  # normalised recipient: domain lower-cased and IDNA-decoded
    domain: str
    kind: Kind
    reason: str | None
    category: str | None
    blame: Blame | None
    rule: str | None
    status: str | None
    reply_code: str | None
    diagnostic: str | None
    campaign: str | None
    bounced_at: datetime  # the bounce's own date (timezone-aware)
    read_at: datetime  # when bouncetool stored it
    source: str | None
    # Added by the ledger (optional, so code that builds an Event by hand still works):
    # the verdict's own words, so a decision can explain itself without the rule table.
    explanation_cs: str | None = None
    explanation_en: str | None = None
    matched: str | None = None


@dataclass(frozen=True, slots=True)
class AddressStatus:
    """The policy's decision for one address, with everything a person needs to see why."""

    address: str
    suppressed: bool  # True: remove from the list (hard, complaint, escalated soft)
    kind: Kind  # the deciding kind (an escalated soft bounce is HARD here)
    reason: str | None
    category: str | None
    rule: str | None
    why: str  # e.g. "3 soft bounces on distinct days within 30 days (rule gmail-mailbox-full)"
    count: int  # failures counted for this address
    first_at: datetime
    last_at: datetime
    last_diagnostic: str | None
    explanation_cs: str | None
    explanation_en: str | None
    campaign: str | None

    def explanation(self, lang: Lang) -> str | None:
        """The explanation in `lang`."""
        return self.explanation_cs if lang is Lang.CS else self.explanation_en
