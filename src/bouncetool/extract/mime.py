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
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.header import decode_header

MAX_DEPTH = 8
"""Deeper multipart / message/rfc822 nesting is kept as an opaque body."""

MAX_PARTS = 200
"""More parts than this in one message are ignored (no real bounce has them)."""

_CTYPE = re.compile(r"\s*([\w.+-]+/[\w.+-]+)")
# Parameters after ";" (or only white space: "text/plain charset=x" is seen in lhost-x1-02).
# (A quoted value as "unrolled loop": runs of plain characters, then an escape; one
# alternation per character, "(?:[^"\\]|\\.)*", costs twice as much on long boundaries.)
_PARAM = re.compile(
    r'[;\s]\s*([!#-\'*+\-.0-9A-Z^_`a-z|~]+)\s*=\s*("[^"\\]*(?:\\.[^"\\]*)*"?|[^;\s]*)'
)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_GUESSED_BOUNDARY = re.compile(rb"^--([!-~]{6,}?)[ \t]*$", re.MULTILINE)
_FALLBACK_CHARSET = "cp1250"  # Czech mail that lies about its charset is most often Windows-1250


def normalise_newlines(data: bytes) -> bytes:
    """`data` with CRLF and CR-only line ends turned into LF."""
    if b"\r" in data:
        if _BARE_CR.search(data) is None:
            # Every CR is the first half of a CRLF: dropping them all is the same, and
            # a one-byte replace runs at memchr speed, a two-byte one at a nanosecond a
            # byte (half the time for the usual all-CRLF message, the check included).
            return data.replace(b"\r", b"")
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


_BARE_CR = re.compile(b"\r(?!\n)")


def decode_text(raw: bytes, charset: str | None = None) -> str:
    """Bytes as text: the declared charset, else UTF-8, else Windows-1250; never raises."""
    if raw.isascii():
        if charset and "2022" in charset and b"\x1b" in raw:
            # ISO-2022-JP is 7-bit: escape sequences switch to Japanese (Lotus Notes and
            # Domino, au / docomo notices); read as ASCII they stay "$B...(B" (domino-02).
            try:
                return raw.decode(_codec_name(charset))
            except (UnicodeDecodeError, LookupError):
                pass
        return raw.decode("ascii")
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return raw.decode(_codec_name(candidate))
        except (UnicodeDecodeError, LookupError):
            continue
    if charset is not None and any(j in charset.lower() for j in _JAPANESE):
        return _japanese(raw)
    return raw.decode(_FALLBACK_CHARSET, "replace")


def _japanese(raw: bytes) -> str:
    # Japanese mail often says one Japanese charset and sends another (au EZweb declares
    # ISO-2022-JP and writes EUC-JP, ezweb-03): the family is tried before the fallback.
    for codec in _JAPANESE_CODECS:
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    if b"\x1b" in raw:
        # ISO-2022-JP with a stray 8-bit byte (Domino, domino-02): read what can be read.
        return raw.decode("iso2022_jp", "replace")
    return raw.decode(_FALLBACK_CHARSET, "replace")


_JAPANESE = ("2022-jp", "euc-jp", "shift_jis", "shift-jis", "sjis", "cp932")
_JAPANESE_CODECS = ("euc-jp", "cp932")


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
    return _split_span(data, 0, len(data))


def _split_span(data: bytes, start: int, end: int) -> tuple[bytes, bytes]:
    """`split_head(data[start:end])`, without copying the span out first."""
    # (A slice of all of `data` is `data` itself: no copy for `split_head` either.)
    if data.startswith(b"\n", start, end):
        return b"", data[start + 1 : end]
    blank = _BLANK_LINE.search(data, start, end)
    if blank is None:
        return data[start:end], b""
    cut = blank.start()
    return data[start : cut + 1], data[cut + 2 : end]


# `bytes.find` looks for two line ends at about 1 ns a byte (every line end stops it);
# `re` skips to them twice as fast, and header blocks are a kilobyte or two.
_BLANK_LINE = re.compile(b"\n\n")


# One field: its name, and its value with continuation lines (RFC 5322 folding).
# Possessive quantifiers ("*+", "++"): no part of a field is ever given back to match
# the rest (the name cannot hold the blanks and colon that follow it, the value may be
# empty), so `re` need not keep the backtracking state for every line: 15 % faster.
_FIELD = re.compile(rb"^([!-9;-~]++)[ \t]*+:[ \t]*+([^\n]*+(?:\n[ \t][^\n]*+)*+)", re.MULTILINE)


class Headers:
    """Header fields of one header block, looked up by name (case-insensitive).

    The block is cut into fields by one regular expression on the first
    lookup (a dict of lower-case name to raw value; the first occurrence
    wins); a value is unfolded and decoded only when asked for, since bounces
    carry dozens of Received and DKIM lines nobody reads.
    """

    __slots__ = ("_block", "_fields")

    def __init__(self, block: bytes) -> None:
        self._block = block
        # Lower-case name (bytes, as cut: no decoding of the dozens of names
        # nobody asks for) -> raw value, replaced by its decoded text once asked for.
        self._fields: dict[bytes, bytes | str] | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        """The unfolded, decoded value of field `name`, or `default`."""
        fields = self._fields if self._fields is not None else self._index()
        key = _KEYS.get(name) or _key(name)
        value = fields.get(key)
        if value is None:
            return default
        if isinstance(value, bytes):
            value = fields[key] = _unfold(value)
        return value

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def first_of(self, names: tuple[str, ...]) -> str | None:
        """The value of the first of `names` (in their order of preference) that is present."""
        # `get` inlined: campaign headers are asked eight at a time, and most are absent.
        fields = self._fields if self._fields is not None else self._index()
        keys = _KEY_TUPLES.get(names) or _key_tuple(names)
        for key in keys:
            value = fields.get(key)
            if value is not None:
                if isinstance(value, bytes):
                    value = fields[key] = _unfold(value)
                return value
        return None

    def _index(self) -> dict[bytes, bytes | str]:
        # Reversed, so that the first occurrence of a repeated field wins. Names
        # are ASCII by the pattern, so lower-casing the bytes is exact.
        pairs = _FIELD.findall(self._block)
        pairs.reverse()
        fields: dict[bytes, bytes | str] = {name.lower(): value for name, value in pairs}
        self._fields = fields
        return fields


# The names asked for are a few dozen constants: each is lower-cased and encoded once.
_KEYS: dict[str, bytes] = {}


# The same for the tuples of names asked for together (the campaign headers).
_KEY_TUPLES: dict[tuple[str, ...], tuple[bytes, ...]] = {}


def _key_tuple(names: tuple[str, ...]) -> tuple[bytes, ...]:
    keys = _KEY_TUPLES[names] = tuple(_KEYS.get(name) or _key(name) for name in names)
    return keys


def _key(name: str) -> bytes:
    try:
        key = name.lower().encode("ascii")
    except UnicodeEncodeError:
        key = b"\n"  # no field has a non-ASCII name (nor one with a line end)
    _KEYS[name] = key
    return key


def _unfold(value: bytes) -> str:
    if b"\n" in value:
        value = b" ".join(line.strip() for line in value.split(b"\n"))
    value = value.strip()
    # Most values are plain ASCII: what `decode_text` would do, without the call.
    return value.decode("ascii") if value.isascii() else decode_text(value)


def field_at(block: bytes, at: int) -> str | None:
    """The unfolded, decoded value of the field whose line starts at `at` in `block`, or None.

    The value `Headers.get` gives for that field, when it is the first of its name.
    """
    match = _FIELD.match(block, at)
    return _unfold(match.group(2)) if match else None


def parse_headers(block: bytes) -> Headers:
    """The header fields of `block`, for lazy lookup."""
    return Headers(block)


def content_type(value: str | None) -> tuple[str, Mapping[str, str]]:
    """The lower-case ``type/subtype`` and the parameters (read-only) of a Content-Type value."""
    if value and "boundary" in value.lower():
        return _parse_content_type(value)  # a boundary is unique: caching it only churns
    return _common_content_type(value)


@functools.lru_cache(maxsize=256)
def _common_content_type(value: str | None) -> tuple[str, Mapping[str, str]]:
    # Parts repeat a handful of values ("text/plain; charset=us-ascii",
    # "message/delivery-status"): each is parsed once per process.
    return _parse_content_type(value)


def _parse_content_type(value: str | None) -> tuple[str, Mapping[str, str]]:
    if not value:
        return "text/plain", {}
    match = _CTYPE.match(value)
    if match is None:
        return "text/plain", {}
    ctype, rest = match.group(1).lower(), value[match.end() :]
    params: dict[str, str] = {}
    for name, written in _PARAM.findall(";" + rest):
        raw = written
        if raw.startswith('"'):
            raw = raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
        params.setdefault(name.lower(), raw)
    return ctype, params


@dataclass(slots=True)
class Entity:
    """One MIME entity: its headers, its content type, its raw body and its children.

    For ``multipart/*`` the children are the parts; for ``message/rfc822`` (and
    ``message/global``) the single child is the enclosed message.
    """

    headers: Headers
    ctype: str
    params: Mapping[str, str]
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
    return parse_split(head, body, depth)


def parse_split(head: bytes, body: bytes, depth: int = 0) -> Entity:
    """`parse_entity` of a message already cut into header block and body by `split_head`."""
    if depth and len(head) <= _SMALL_HEAD:
        headers, ctype, params = _part_head(head)
    else:
        headers = parse_headers(head)
        ctype, params = content_type(headers.get("content-type"))
    entity = Entity(headers, ctype, params, body, depth)
    if depth >= MAX_DEPTH:
        return entity
    if ctype.startswith("multipart/"):
        parts = parse_parts(body, params["boundary"], depth + 1) if params.get("boundary") else []
        if not parts:
            # A wrong or missing boundary (hand-edited samples, broken relays): the
            # first "--token" line of the body is the boundary actually used.
            guess = _GUESSED_BOUNDARY.search(body)
            if guess:
                boundary = guess.group(1).decode("ascii", "replace")
                parts = parse_parts(body, boundary, depth + 1)
        entity.children = parts
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


# The header block of a part is a line or three, and mail systems write the same ones
# again and again (Postfix: "Content-Description: Delivery report\nContent-Type:
# message/delivery-status"): each is read once per process. A top-level header block
# never is (Received, Message-ID and Date make each one unique).
_SMALL_HEAD = 300


@functools.lru_cache(maxsize=1024)  # (the corpus's 637 files hold fewer than 200 of them)
def _part_head(head: bytes) -> tuple[Headers, str, Mapping[str, str]]:
    """The headers and content type of a part's small header block (read once per process).

    The parts with the same block share its `Headers`: a lookup stores nothing in it
    but the decoded form of a value, the same for every one of them.
    """
    headers = parse_headers(head)
    ctype, params = content_type(headers.get("content-type"))
    headers.get("content-transfer-encoding")  # asked whenever the part's text is read
    return headers, ctype, params


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The parts of a multipart body; a missing closing boundary ends at the body's end."""
    return [body[start:end] for start, end in _part_spans(body, boundary)]


def parse_parts(body: bytes, boundary: str, depth: int) -> list[Entity]:
    """`parse_entity(part, depth)` of each of `split_multipart(body, boundary)`.

    Each part's header block and body are cut straight out of `body`: a part is
    not copied out first only to be cut again.
    """
    return [
        parse_split(*_split_span(body, start, end), depth)
        for start, end in _part_spans(body, boundary)
    ]


def _part_spans(body: bytes, boundary: str) -> list[tuple[int, int]]:
    """Where the parts of a multipart body start and end in it."""
    marker = b"\n--" + boundary.encode("ascii", "replace")
    if body.startswith(marker[1:]):
        # The body's first line, the one boundary line not led by a line end: it is
        # placed at -1, where that line end would be (the body is not copied to add one).
        start = -1
    else:
        start = body.find(marker)
        if start < 0:
            return []
    spans: list[tuple[int, int]] = []
    while len(spans) < MAX_PARTS:
        after = start + len(marker)
        if body.startswith(b"--", after):
            break
        line_end = body.find(b"\n", after)
        if line_end < 0:
            break
        nxt = body.find(marker, line_end)
        spans.append((line_end + 1, nxt if nxt >= 0 else len(body)))
        if nxt < 0:
            break
        start = nxt
    return spans
