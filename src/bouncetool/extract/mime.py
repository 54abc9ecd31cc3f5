"""A small, fast, forgiving MIME reader for bounce messages.

`email.policy.default` parses about 560 messages a second and `compat32`
about 5,000; bounce extraction needs only headers, the part tree, and the
decoded text of a few parts. This module scans bytes itself: line ends are
normalised once, headers are unfolded lazily, multipart bodies are split on
their boundary with `bytes.find`, and a part's body is decoded
(base64 / quoted-printable, then its charset) only when an extractor asks.

It never raises on bad data: a missing boundary, a truncated part, a wrong
charset or 8-bit bytes in headers all give the best reading there is.
Nesting is cut at `MAX_DEPTH` so a hostile message cannot blow the stack.
"""

from __future__ import annotations

import binascii
import codecs
import re
from dataclasses import dataclass, field
from email.header import decode_header

MAX_DEPTH = 8
"""Deeper multipart / message/rfc822 nesting is kept as an opaque body."""

MAX_PARTS = 200
"""More parts than this in one message are ignored (no real bounce has them)."""

_CTYPE = re.compile(r"\s*([\w.+-]+/[\w.+-]+)")
# Parameters after ";" (or only white space: "text/plain charset=x" is seen in lhost-x1-02).
_PARAM = re.compile(r'[;\s]\s*([!#-\'*+\-.0-9A-Z^_`a-z|~]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;\s]*)')
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_GUESSED_BOUNDARY = re.compile(rb"^--([!-~]{6,}?)[ \t]*$", re.MULTILINE)
_FALLBACK_CHARSET = "cp1250"  # Czech mail that lies about its charset is most often Windows-1250


def normalise_newlines(data: bytes) -> bytes:
    """`data` with CRLF and CR-only line ends turned into LF."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def decode_text(raw: bytes, charset: str | None = None) -> str:
    """Bytes as text: the declared charset, else UTF-8, else Windows-1250; never raises."""
    if raw.isascii():
        return raw.decode("ascii")
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return raw.decode(_codec_name(candidate))
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode(_FALLBACK_CHARSET, "replace")


def _codec_name(charset: str) -> str:
    name = charset.strip().strip('"').lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        # Aliases some mailers write that Python does not know.
        return {"utf8": "utf-8", "ks_c_5601-1987": "cp949", "x-sjis": "shift_jis"}.get(
            name, "utf-8"
        )


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words in a header value decoded to text (left alone if broken)."""
    if "=?" not in value:
        return value
    try:
        pieces = decode_header(value)
    except (ValueError, LookupError, UnicodeError, AssertionError):
        return value
    out = []
    for chunk, charset in pieces:
        out.append(decode_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out)


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """Header block and body of a message whose line ends are already LF."""
    if data.startswith(b"\n"):
        return b"", data[1:]
    end = data.find(b"\n\n")
    if end < 0:
        return data, b""
    return data[: end + 1], data[end + 2 :]


_ANY_OF: dict[tuple[str, ...], re.Pattern[bytes]] = {}
_FIELD_NAME = re.compile(rb"\n([!-9;-~]+)[ \t]*:")


class Headers:
    """Header fields of one header block, looked up lazily by name (case-insensitive).

    Bounces carry dozens of Received and DKIM lines nobody reads; a field is
    found (first occurrence), unfolded and decoded only when asked for.
    """

    __slots__ = ("_block", "_cache", "_lower", "_names")

    def __init__(self, block: bytes) -> None:
        self._block = block if block.startswith(b"\n") else b"\n" + block
        self._lower: bytes | None = None
        self._names: frozenset[bytes] | None = None
        self._cache: dict[str, str | None] = {}

    def get(self, name: str, default: str | None = None) -> str | None:
        """The unfolded, decoded value of field `name`, or `default`."""
        try:
            value = self._cache[name]
        except KeyError:
            value = self._cache[name] = self._find(name)
        return default if value is None else value

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def first_of(self, names: tuple[str, ...]) -> str | None:
        """The value of the first of `names` (in their order of preference) that is present."""
        pattern = _ANY_OF.get(names)
        if pattern is None:
            alternatives = b"|".join(re.escape(n.lower().encode("ascii")) for n in names)
            pattern = _ANY_OF[names] = re.compile(rb"\n(" + alternatives + rb")[ \t]*:")
        if self._lower is None:
            self._lower = self._block.lower()
        present = {m.group(1).decode("ascii") for m in pattern.finditer(self._lower)}
        for name in names:
            if name.lower() in present:
                return self.get(name.lower())
        return None

    def _find(self, name: str) -> str | None:
        # One scan lists the names present, so most lookups (of absent fields) end at
        # a set test; a present one is a substring search in the lower-cased block,
        # several times faster than a case-insensitive regular expression.
        lower = self._lower
        if lower is None or self._names is None:
            lower = self._lower = self._block.lower()
            self._names = frozenset(_FIELD_NAME.findall(lower))
        key = name.lower().encode("ascii")
        if key not in self._names:
            return None
        start = lower.find(b"\n" + key + b":")
        if start >= 0:
            start += len(key) + 2
        else:  # "Name :" with white space before the colon
            match = re.search(b"\n" + re.escape(key) + rb"[ \t]*:", lower)
            if match is None:
                return None
            start = match.end()
        end = start
        block = self._block
        while True:
            end = block.find(b"\n", end)
            if end < 0:
                end = len(block)
                break
            if block[end + 1 : end + 2] not in (b" ", b"\t"):
                break
            end += 1
        value = block[start:end]
        if b"\n" in value:
            value = b" ".join(line.strip() for line in value.split(b"\n"))
        return decode_text(value.strip())


def parse_headers(block: bytes) -> Headers:
    """The header fields of `block`, for lazy lookup."""
    return Headers(block)


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """The lower-case ``type/subtype`` and the parameters of a Content-Type value."""
    if not value:
        return "text/plain", {}
    match = _CTYPE.match(value)
    if match is None:
        return "text/plain", {}
    ctype, rest = match.group(1).lower(), value[match.end() :]
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
        params.setdefault(match.group(1).lower(), raw)
    return ctype, params


@dataclass(slots=True)
class Entity:
    """One MIME entity: its headers, its content type, its raw body and its children.

    For ``multipart/*`` the children are the parts; for ``message/rfc822`` (and
    ``message/global``) the single child is the enclosed message.
    """

    headers: Headers
    ctype: str
    params: dict[str, str]
    body: bytes
    depth: int
    children: list[Entity] = field(default_factory=list)
    _text: str | None = None

    def payload(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone."""
        encoding = (self.headers.get("content-transfer-encoding") or "").strip().lower()
        if encoding == "base64":
            return _unbase64(self.body)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(self.body)
        return self.body

    def text(self) -> str:
        """The decoded body as text (cached)."""
        if self._text is None:
            self._text = decode_text(self.payload(), self.params.get("charset"))
        return self._text

    def walk(self, *, into_messages: bool = True) -> list[Entity]:
        """This entity and all below it, depth first; optionally not inside enclosed messages."""
        found: list[Entity] = []
        stack = [self]
        while stack and len(found) < MAX_PARTS:
            entity = stack.pop()
            found.append(entity)
            if not into_messages and entity.ctype.startswith("message/") and entity is not self:
                continue
            stack.extend(reversed(entity.children))
        return found


def _unbase64(body: bytes) -> bytes:
    # Padding is put back rather than trusted: truncated or re-wrapped base64 is common.
    cleaned = _NOT_BASE64.sub(b"", body)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]  # a lone trailing character carries no whole byte
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except binascii.Error:
        return b""


def parse_entity(data: bytes, depth: int = 0) -> Entity:
    """Parse a message (or a part) whose line ends are LF into an `Entity` tree."""
    head, body = split_head(data)
    headers = parse_headers(head)
    ctype, params = content_type(headers.get("content-type"))
    entity = Entity(headers, ctype, params, body, depth)
    if depth >= MAX_DEPTH:
        return entity
    if ctype.startswith("multipart/"):
        parts = split_multipart(body, params["boundary"]) if params.get("boundary") else []
        if not parts:
            # A wrong or missing boundary (hand-edited samples, broken relays): the
            # first "--token" line of the body is the boundary actually used.
            guess = _GUESSED_BOUNDARY.search(body)
            if guess:
                parts = split_multipart(body, guess.group(1).decode("ascii", "replace"))
        entity.children = [parse_entity(part, depth + 1) for part in parts]
    elif ctype in ("message/rfc822", "message/global", "message/partial"):
        # The returned message: its headers matter (Message-ID, sender, campaign),
        # its body only for a bounce forwarded as an attachment, which is rare;
        # its parts are read on demand by `Entity.enclosed`.
        inner = entity.payload().lstrip(b"\n")
        if inner:
            head, rest = split_head(inner)
            headers = parse_headers(head)
            inner_type, inner_params = content_type(headers.get("content-type"))
            entity.children = [Entity(headers, inner_type, inner_params, rest, depth + 1)]
    return entity


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The parts of a multipart body; a missing closing boundary ends at the body's end."""
    marker = b"\n--" + boundary.encode("ascii", "replace")
    text = b"\n" + body
    parts: list[bytes] = []
    start = text.find(marker)
    while start >= 0 and len(parts) < MAX_PARTS:
        after = start + len(marker)
        if text.startswith(b"--", after):
            break
        line_end = text.find(b"\n", after)
        if line_end < 0:
            break
        nxt = text.find(marker, line_end)
        parts.append(text[line_end + 1 : nxt if nxt >= 0 else len(text)])
        start = nxt
    return parts
