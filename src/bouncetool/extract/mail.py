"""The view of one bounce message that every extractor reads, and what extractors return.

`Mail` wraps the parsed `Entity` tree with the few things extractors ask for
again and again (subject, sender, the human-readable text, the parts outside
the returned message) and computes each once, on first use. `Found` is one
recipient as an extractor saw it; `parse_message` turns it into a `Bounce`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bouncetool.extract.mime import Entity, Headers, decode_words, parse_headers, split_head
from bouncetool.extract.textscan import iter_addresses
from bouncetool.model import Kind

_TAG = re.compile(
    r"<(?:style|script)\b.*?</(?:style|script)\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL
)
_BR = re.compile(r"<\s*(?:br|/p|/div|/tr|p|div|tr)\b[^>]*>", re.IGNORECASE)
_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}


TOP_WINDOW = 6000
"""How many characters of the body format markers are looked for in."""


@dataclass(slots=True)
class Found:
    """One recipient as an extractor found it; empty fields are filled in later."""

    recipient: str | None
    diagnostic: str | None = None
    status: str | None = None
    reply_code: str | None = None
    action: str | None = None
    remote_mta: str | None = None
    reporting_mta: str | None = None
    date: str | None = None
    original_recipient: str | None = None
    feedback_type: str | None = None
    kind: Kind | None = None  # set by formats that decide it (complaint, auto-reply, ...)
    permanent: bool | None = None  # the format's word when no code says it
    origin: Mail | None = None  # the bounce it was read from, when inside another message


@dataclass(slots=True)
class Mail:
    """One message under extraction: its tree plus cached, decoded views of it."""

    root: Entity
    _subject: str | None = None
    _body: str | None = None
    _parts: list[Entity] | None = None
    _cache: dict[object, object] = field(default_factory=dict)

    @property
    def cache(self) -> dict[object, object]:
        """Per-message memo for values several records of one message share."""
        return self._cache

    @property
    def headers(self) -> Headers:
        """The top-level header fields by lower-case name."""
        return self.root.headers

    def header(self, name: str) -> str:
        """One top-level header value ('' when absent)."""
        return self.root.headers.get(name) or ""

    @property
    def subject(self) -> str:
        """The decoded Subject."""
        if self._subject is None:
            self._subject = decode_words(self.header("subject"))
        return self._subject

    @property
    def sender(self) -> str:
        """The From header, lower-cased (for matching mailer-daemon and friends)."""
        return self.header("from").lower()

    @property
    def parts(self) -> list[Entity]:
        """Every entity of the message except those inside an enclosed message."""
        if self._parts is None:
            self._parts = self.root.walk(into_messages=False)
        return self._parts

    def parts_of(self, *ctypes: str) -> list[Entity]:
        """The parts (outside enclosed messages) whose content type is one of `ctypes`."""
        return [part for part in self.parts if part.ctype in ctypes]

    @property
    def own_addresses(self) -> frozenset[str]:
        """The bounce's own From and To addresses, lower-cased: never a failed recipient."""
        value = self._cache.get("own")
        if value is None:
            text = self.header("to") + " " + self.header("from")
            value = self._cache["own"] = frozenset(
                match.group(0).strip(".").lower() for match in iter_addresses(text)
            )
        return value  # type: ignore[return-value]

    @property
    def top_lower(self) -> str:
        """The first `TOP_WINDOW` characters of the body, lower-cased (for marker tests)."""
        value = self._cache.get("top_lower")
        if value is None:
            value = self._cache["top_lower"] = self.body[:TOP_WINDOW].lower()
        return value  # type: ignore[return-value]

    @property
    def body(self) -> str:
        """The human-readable text: the text parts outside the returned message, joined.

        HTML is reduced to text only when there is no plain-text part.
        """
        if self._body is None:
            self._body = self._read_body()
        return self._body

    def _read_body(self) -> str:
        if not self.root.children and not self.root.ctype.startswith("message/"):
            text = self.root.text()
            return html_to_text(text) if self.root.ctype == "text/html" else text
        plain = [p.text() for p in self.parts if p.ctype == "text/plain" and not p.children]
        if plain:
            return "\n".join(plain)
        html = [p.text() for p in self.parts if p.ctype == "text/html"]
        return "\n".join(html_to_text(text) for text in html)

    def original_headers(self) -> Headers | None:
        """Header fields of the returned original message, when it is attached.

        An attached ``message/rfc822`` (its enclosed message) or a
        ``text/rfc822-headers`` part; None when neither is there.
        """
        if "original" in self._cache:
            return self._cache["original"]  # type: ignore[return-value]
        found: Headers | None = None
        for part in self.parts:
            if part is self.root:
                continue
            if part.ctype in ("message/rfc822", "message/global") and part.children:
                found = part.children[0].headers
                break
            if part.ctype in (
                "text/rfc822-headers",
                "message/global-headers",
                "message/rfc822-headers",
            ):
                head, _ = split_head(part.payload().lstrip(b"\n"))
                found = parse_headers(head)
                break
        self._cache["original"] = found
        return found


def html_to_text(html: str) -> str:
    """Crude but sufficient HTML to text for bounce pages: tags out, breaks kept."""
    text = _BR.sub("\n", html)
    text = _TAG.sub("", text)
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text
