"""Which CSV dialect a contact list is written in, told from its bytes.

A list saved by Czech Excel is ``;``-separated Windows-1250 with CRLF; one
exported from a web shop is often UTF-8 with a BOM and commas. bouncetool keeps
whatever it finds, so the dialect is detected, never assumed:

- encoding: UTF-8 (with or without BOM) when every byte sequence is valid
  UTF-8; otherwise Windows-1250 or ISO-8859-2. Those two differ where Czech and
  Polish letters live: Windows-1250 puts š ť ž ś ź Š Ť Ž Ś Ź in 0x8A-0x9F,
  which ISO-8859-2 leaves to C1 control codes no text file contains; ISO-8859-2
  puts them in 0xA6-0xBE, where Windows-1250 has symbols (© « ® ¦ ¶ ¬). So C1
  bytes mean Windows-1250, and otherwise the reading with more letters wins.
- delimiter ``,`` ``;`` tab or ``|``; whether every field is quoted; CRLF or LF;
  whether the first row is a header.
"""

from __future__ import annotations

import csv
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np

from bouncetool.errors import ContactsError

BOM_UTF8 = b"\xef\xbb\xbf"
DELIMITERS = (",", ";", "\t", "|")
QUOTE = '"'
CHUNK = 16 * 1024 * 1024
HEAD = 256 * 1024
# Bytes Windows-1250 leaves undefined; ISO-8859-2 reads them as C1 controls.
_UNDEFINED_1250 = (0x81, 0x83, 0x88, 0x90, 0x98)
_EMAILISH = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "cp1250": "Windows-1250",
    "iso8859-2": "ISO-8859-2",
}


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one contact CSV is written; enough to read it and to write rows like it."""

    encoding: str  # a Python codec: "utf-8", "cp1250" or "iso8859-2"
    bom: bytes  # the BOM the file starts with (UTF-8 only), else b""
    delimiter: str
    newline: bytes  # b"\r\n" or b"\n": what rows bouncetool adds end with
    quote_all: bool  # True when the header quotes every field: added fields are quoted too
    has_header: bool
    header: tuple[str, ...]  # column names (for a file without header: "1", "2", ...)
    first_row: tuple[str, ...]  # the first row's values (the header itself when there is one)
    header_size: int  # bytes of BOM + header row including its line end (0 without header)
    verified: bool = True  # False: only the head was checked for UTF-8 (see EncodingCheck)

    @property
    def label(self) -> str:
        """A person's name for the encoding, e.g. ``Windows-1250`` or ``UTF-8 with BOM``."""
        name = _ENCODING_LABELS.get(self.encoding, self.encoding)
        return f"{name} with BOM" if self.bom else name

    def describe(self) -> str:
        """One line a person can check: encoding, delimiter, line ends, quoting."""
        delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[self.delimiter]
        ends = "CRLF" if self.newline == b"\r\n" else "LF"
        quoting = "every field quoted" if self.quote_all else "quoted where needed"
        return f"{self.label}, {delimiter}, {ends}, {quoting}"

    def format_fields(self, values: list[str]) -> bytes:
        """`values` as fields of this dialect, each preceded by the delimiter, no line end.

        Characters the encoding cannot hold become ``?``: they only occur in
        text bouncetool adds (explanations), never in the user's own fields.
        """
        # By hand rather than with csv.writer: this runs once per removed row.
        delimiter = self.delimiter
        fields = [
            f'"{value.replace(QUOTE, QUOTE + QUOTE)}"'
            if self.quote_all or _needs_quotes(value, delimiter)
            else value
            for value in values
        ]
        return (delimiter + delimiter.join(fields)).encode(self.encoding, "replace")

    def header_line(self, raw_header: bytes, added: list[str]) -> bytes:
        """The header row `raw_header` (bytes as read, BOM included) with `added` columns."""
        body, ending = split_line_end(raw_header)
        return body + self.format_fields(added) + (ending or self.newline)


def _needs_quotes(value: str, delimiter: str) -> bool:
    return delimiter in value or QUOTE in value or "\n" in value or "\r" in value


def split_line_end(record: bytes) -> tuple[bytes, bytes]:
    """`record` split into its content and its line end (b"\\r\\n", b"\\n" or b"")."""
    if record.endswith(b"\r\n"):
        return record[:-2], b"\r\n"
    if record.endswith(b"\n"):
        return record[:-1], b"\n"
    return record, b""


def split_lines(text: str) -> list[str]:
    """`text` cut after each ``\\n`` only (not at the other breaks `str.splitlines` knows)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def iter_line_chunks(handle: BinaryIO, size: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) pieces of a file, each ending at a line end except perhaps the last.

    Pieces are about `size` bytes (default `CHUNK`, read at call time so tests
    can make it tiny and put piece boundaries everywhere).
    """
    size = size or CHUNK
    offset = 0
    while block := handle.read(size):
        if not block.endswith(b"\n"):
            # Finish the line: one small read instead of copying the block twice.
            block += handle.readline()
        yield offset, block
        offset += len(block)


def line_at(path: Path, offset: int) -> int:
    """The 1-based line number of byte `offset` in `path`."""
    newlines = 0
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0:
            block = handle.read(min(CHUNK, remaining))
            if not block:
                break
            newlines += block.count(b"\n")
            remaining -= len(block)
    return newlines + 1


def detect_encoding(path: Path, *, whole: bool = True) -> tuple[str, bytes, bool]:
    """The codec of `path`, its BOM, and whether the whole file was checked.

    With `whole` False, a file whose first `HEAD` bytes are UTF-8 is taken as
    UTF-8 without reading the rest (the caller checks the rest alongside, see
    `EncodingCheck`): reading a gigabyte twice costs more than the cleaning.
    ContactsError names the line when no encoding fits.
    """
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ContactsError(
            f"{path}, line 1: the file is UTF-16; save it as UTF-8 or Windows-1250 CSV"
        )
    bom = BOM_UTF8 if start.startswith(BOM_UTF8) else b""
    if not whole and _first_utf8_failure(path, limit=HEAD) is None:
        return "utf-8", bom, path.stat().st_size <= HEAD
    failure = _first_utf8_failure(path)
    if failure is None:
        return "utf-8", bom, True
    if bom:
        raise ContactsError(
            f"{path}, line {line_at(path, failure)}: "
            "the file starts with a UTF-8 BOM but these bytes are not UTF-8"
        )
    return _single_byte_encoding(path), b"", True


def _first_utf8_failure(path: Path, limit: int | None = None) -> int | None:
    """Offset of the first byte that is not UTF-8 (or is NUL) in the first `limit` bytes."""
    with path.open("rb") as handle:
        for offset, chunk in iter_line_chunks(handle, limit):
            if limit is not None and offset >= limit:
                break
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise ContactsError(
                    f"{path}, line {line_at(path, offset + nul)}: a NUL byte; "
                    "this is not a text CSV (an Excel .xlsx file?)"
                )
            if chunk.isascii():
                continue
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as error:
                return offset + error.start
    return None


def _single_byte_encoding(path: Path) -> str:
    counts = np.zeros(256, dtype=np.int64)
    with path.open("rb") as handle:
        for _offset, chunk in iter_line_chunks(handle):
            high = chunk.translate(None, bytes(range(128)))
            if high:
                counts += np.bincount(np.frombuffer(high, dtype=np.uint8), minlength=256)
    undefined = [byte for byte in _UNDEFINED_1250 if counts[byte]]
    if undefined:
        offset = _first_offset(path, bytes(undefined))
        raise ContactsError(
            f"{path}, line {line_at(path, offset)}: byte 0x{_byte_at(path, offset):02X} "
            "is not text in UTF-8, Windows-1250 or ISO-8859-2"
        )
    if counts[0x80:0xA0].any():
        return "cp1250"
    letters = {
        codec: sum(int(counts[byte]) for byte in range(0xA0, 0x100) if _is_letter(byte, codec))
        for codec in ("cp1250", "iso8859-2")
    }
    return "iso8859-2" if letters["iso8859-2"] > letters["cp1250"] else "cp1250"


def _is_letter(byte: int, codec: str) -> bool:
    return bytes([byte]).decode(codec).isalpha()


def _first_offset(path: Path, wanted: bytes) -> int:
    pattern = re.compile(b"[" + re.escape(wanted) + b"]")
    with path.open("rb") as handle:
        for offset, chunk in iter_line_chunks(handle):
            found = pattern.search(chunk)
            if found:
                return offset + found.start()
    return 0


def _byte_at(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(1)[0]


def detect_dialect(path: Path, *, whole: bool = True) -> Dialect:
    """The dialect of the contact CSV at `path`; ContactsError (file and line) when unusable.

    `whole` False trusts a UTF-8 head (see `detect_encoding`); the dialect's
    `verified` then says whether the rest still needs an `EncodingCheck`.
    """
    if not path.is_file():
        raise ContactsError(f"{path}: no such file")
    encoding, bom, verified = detect_encoding(path, whole=whole)
    with path.open("rb") as handle:
        head = handle.read(HEAD)
        complete = len(head) < HEAD
    head = head[len(bom) :]
    if not head.strip():
        raise ContactsError(f"{path}, line 1: the file is empty")
    if b"\n" not in head and b"\r" in head:
        raise ContactsError(f"{path}, line 1: lines end with CR only; save the file with CRLF")
    newline_at = head.find(b"\n")
    newline = b"\r\n" if newline_at > 0 and head[newline_at - 1 : newline_at] == b"\r" else b"\n"
    if newline_at < 0:
        newline = b"\r\n" if encoding == "cp1250" else b"\n"
    if not complete:
        head = head[: head.rfind(b"\n") + 1]
    text = head.decode(encoding)
    try:
        delimiter = _pick_delimiter(text, complete)
        rows, sizes = _parse_head(text, delimiter, complete)
    except ContactsError as error:
        raise ContactsError(f"{path}, {error}") from None
    first = rows[0]
    has_header = not any(_EMAILISH.match(field.strip()) for field in first)
    header = tuple(first) if has_header else tuple(str(n) for n in range(1, len(first) + 1))
    header_size = len(bom) + len(text[: sizes[0]].encode(encoding)) if has_header else len(bom)
    raw_first = text[: sizes[0]].rstrip("\r\n")
    quote_all = (
        raw_first.startswith(QUOTE) and raw_first.count(QUOTE + delimiter + QUOTE) == len(first) - 1
    )
    return Dialect(
        encoding=encoding,
        bom=bom,
        delimiter=delimiter,
        newline=newline,
        quote_all=quote_all,
        has_header=has_header,
        header=header,
        first_row=tuple(first),
        verified=verified,
        header_size=header_size,
    )


def _pick_delimiter(text: str, complete: bool) -> str:
    """The candidate that splits the header into most columns, most sample rows alike."""
    best, best_columns = ",", 1
    widest, widest_columns = ",", 1
    broken: tuple[int, str] | None = None  # the widest header whose later rows fail to parse
    for candidate in DELIMITERS:
        try:
            rows, _sizes = _parse_head(text, candidate, complete, limit=50)
        except ContactsError:
            try:
                header_columns = len(_parse_head(text, candidate, complete)[0][0])
            except ContactsError:
                continue  # the header itself does not parse this way
            if header_columns > 1 and (broken is None or header_columns > broken[0]):
                broken = (header_columns, candidate)
            continue
        columns = len(rows[0])
        if columns > widest_columns:
            widest, widest_columns = candidate, columns
        # Most rows must agree with the header: one ragged row must not hide the delimiter.
        agreeing = sum(len(row) == columns for row in rows[1:])
        if agreeing * 2 >= len(rows) - 1 and columns > best_columns:
            best, best_columns = candidate, columns
    # A delimiter that splits the header wider but breaks on a later row (an
    # unclosed quote) is the file's own: reading with it reports that row by
    # its line, rather than reading the file as one column.
    if broken is not None and broken[0] > max(best_columns, widest_columns):
        return broken[1]
    # When no candidate has agreeing rows (a lone data row that is ragged), the
    # header alone decides, so that reading reports the ragged row by its line.
    return best if best_columns > 1 else widest


def _parse_head(
    text: str, delimiter: str, complete: bool, limit: int = 1
) -> tuple[list[list[str]], list[int]]:
    """The first `limit` rows of `text` and the length in characters of each raw row."""
    lines = split_lines(text)
    consumed: list[str] = []
    source = _recording(lines, consumed)
    reader = csv.reader(source, delimiter=delimiter, quotechar=QUOTE, strict=True)
    rows: list[list[str]] = []
    sizes: list[int] = []
    try:
        for row in reader:
            if not row:
                continue
            rows.append(row)
            sizes.append(sum(map(len, consumed)))
            consumed.clear()
            if len(rows) >= limit:
                break
    except csv.Error as error:
        if complete or not rows:
            raise ContactsError(f"line {reader.line_num}: broken quoting ({error})") from None
    if not rows:
        raise ContactsError("line 1: the file has no rows")
    return rows, sizes


def _recording(lines: list[str], consumed: list[str]) -> Iterator[str]:
    for line in lines:
        consumed.append(line)
        yield line


class EncodingChangedError(Exception):
    """The head of the file was UTF-8 but a later byte is not: detect again, reading it all."""


class EncodingCheck:
    """Checks, in a forked process, that the rest of a file is UTF-8 while the caller streams it.

    The machine has more than one core and the check only reads: running it
    alongside the clean hides its cost. `confirm` waits for the verdict.
    """

    def __init__(self, path: Path, dialect: Dialect) -> None:
        self._path = path
        self._pid = 0
        self._pipe = -1
        self._verdict = "ok"
        if dialect.verified or dialect.encoding != "utf-8":
            return
        if not hasattr(os, "fork"):
            self._verdict = _utf8_verdict(path)
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check, report, leave without running any cleanup
            os.close(read_end)
            try:
                os.write(write_end, _utf8_verdict(path).encode("utf-8"))
            finally:
                os._exit(0)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end
        self._verdict = ""

    def confirm(self) -> None:
        """Wait for the check; EncodingChangedError or ContactsError when the file is not UTF-8."""
        if self._pid:
            with os.fdopen(self._pipe, "rb") as pipe:
                self._verdict = pipe.read().decode("utf-8")
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._verdict.startswith("error:"):
            raise ContactsError(self._verdict.removeprefix("error:"))
        if self._verdict == "changed":
            raise EncodingChangedError(str(self._path))

    def cancel(self) -> None:
        """Stop the check (the caller failed before it needed the verdict)."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            os.close(self._pipe)
            self._pid = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()


def _utf8_verdict(path: Path) -> str:
    try:
        failure = _first_utf8_failure(path)
    except ContactsError as error:
        return f"error:{error}"
    return "ok" if failure is None else "changed"
