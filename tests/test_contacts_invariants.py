"""Invariants of `clean` over hostile generated lists, in every dialect and block size.

- every row ends in exactly one output: kept + removed + reactivated = rows in;
- kept rows are the original bytes, in order;
- removed rows carry their original fields plus the reason columns;
- running clean again on its own output changes nothing.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import bouncetool.dialect as dialect_module
from bouncetool.addresses import normalise_address
from bouncetool.columns import parse_engagement
from bouncetool.contacts import REMOVED_COLUMNS, AnnotateOptions, CleanOptions, annotate, clean
from tests.statuses import status, statuses

POOL = [
    "jan.novak@seznam.cz",
    "petra.svobodova@email.cz",
    "info@firma-priklad.cz",
    "karel.dvorak@gmail.com",
    "anna.nowak@wp.pl",
    "petr@háčkyčárky.cz",
    "x@y.cz",
]
# Pieces of cell text: Czech letters, every delimiter, quotes and both line
# breaks (a bare CR is left out: Excel never writes one unquoted).
TEXT = st.lists(st.sampled_from([*"aáčďěřšťžůŽŠ ,;|\t\"'\n", "\r\n"]), max_size=12).map("".join)
OPENED = ["", "2026-01-01", "2026-11-20", "1.11.2026"]
TODAY = date(2026, 11, 24)


@dataclass(frozen=True)
class Written:
    """A generated list: its file, and the raw bytes of each data record."""

    path: Path
    header: bytes
    records: list[bytes]
    rows: list[list[str]]


def spelling(address: str, upper: bool, dress: int) -> str:
    """`address` as a person might have typed it: case, spaces, brackets, A-labels."""
    text = address.upper() if upper else address
    if dress == 1:
        text = f" {text} "
    elif dress == 2:
        text = f"<{text}>"
    elif dress == 3 and "háčkyčárky" in text.lower():
        text = "petr@xn--hkyrky-ptac70bc.cz"
    return text


CONTACT = st.tuples(
    TEXT, TEXT, st.sampled_from(POOL), st.booleans(), st.integers(0, 3), st.sampled_from(OPENED)
)


@st.composite
def lists(draw: st.DrawFn) -> tuple[str, bytes, str, str, bool, list[list[str]]]:
    encoding, bom = draw(
        st.sampled_from(
            [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1250", b""), ("iso8859-2", b"")]
        )
    )
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    quote_all = draw(st.booleans())
    contacts = draw(st.lists(CONTACT, min_size=1, max_size=25))
    rows = [
        [name, note, spelling(address, upper, dress), opened]
        for name, note, address, upper, dress, opened in contacts
    ]
    return encoding, bom, delimiter, newline, quote_all, rows


def write(folder: Path, drawn: tuple[str, bytes, str, str, bool, list[list[str]]]) -> Written:
    """Write the list record by record, remembering each record's bytes."""
    encoding, bom, delimiter, newline, quote_all, rows = drawn

    def encode(row: list[str]) -> bytes:
        buffer = io.StringIO()
        csv.writer(
            buffer,
            delimiter=delimiter,
            lineterminator=newline,
            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        ).writerow(row)
        return buffer.getvalue().encode(encoding)

    header = bom + encode(["name", "note", "email", "opened"])
    records = [encode(row) for row in rows]
    path = folder / "list.csv"
    path.write_bytes(header + b"".join(records))
    return Written(path, header, records, rows)


def parse(path: Path, encoding: str, bom: bytes, delimiter: str) -> list[list[str]]:
    text = path.read_bytes()[len(bom) :].decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


class TestCleanInvariants:
    """Whatever the dialect, content and block size, no row is lost or changed."""

    @settings(max_examples=150, deadline=None)
    @given(
        drawn=lists(),
        bounced=st.sets(st.sampled_from(POOL)),
        chunk=st.sampled_from([5, 64, 1 << 20]),
        unengaged=st.booleans(),
    )
    def test_partition_and_idempotence(
        self,
        drawn: tuple[str, bytes, str, str, bool, list[list[str]]],
        bounced: set[str],
        chunk: int,
        unengaged: bool,
    ) -> None:
        encoding, bom, delimiter, _newline, _quote_all, _rows = drawn
        suppressed = statuses(*(status(address) for address in bounced))
        options = {"unengaged_days": 30, "engagement_column": "opened", "today": TODAY}
        saved = dialect_module.CHUNK
        dialect_module.CHUNK = chunk
        try:
            with tempfile.TemporaryDirectory() as folder:
                written = write(Path(folder), drawn)
                out, removed = Path(folder) / "out.csv", Path(folder) / "removed.csv"
                reactivate = Path(folder) / "again.csv"
                summary = clean(
                    written.path,
                    suppressed,
                    CleanOptions(
                        output=out,
                        removed=removed,
                        reactivate=reactivate,
                        **(options if unengaged else {}),  # type: ignore[arg-type]
                    ),
                )
                fate = [self._fate(row, suppressed, unengaged) for row in written.rows]
                assert summary.rows == len(written.rows)
                assert summary.kept + summary.removed + summary.reactivated == summary.rows
                assert (summary.removed, summary.reactivated) == (
                    fate.count("removed"),
                    fate.count("reactivated"),
                )
                kept = [rec for rec, f in zip(written.records, fate, strict=True) if f == "kept"]
                assert out.read_bytes() == written.header + b"".join(kept)
                if summary.removed:
                    gone = parse(removed, encoding, bom, delimiter)
                    assert gone[0] == ["name", "note", "email", "opened", *REMOVED_COLUMNS]
                    expected = [
                        r for r, f in zip(written.rows, fate, strict=True) if f == "removed"
                    ]
                    assert [row[:4] for row in gone[1:]] == expected
                else:
                    assert not removed.exists()
                if summary.reactivated:
                    moved = parse(reactivate, encoding, bom, delimiter)
                    assert moved[1:] == [
                        r for r, f in zip(written.rows, fate, strict=True) if f == "reactivated"
                    ]
                again = clean(
                    out,
                    suppressed,
                    CleanOptions(
                        removed=removed,
                        reactivate=reactivate,
                        **(options if unengaged else {}),  # type: ignore[arg-type]
                    ),
                )
                assert (again.removed, again.reactivated, again.written) == (0, 0, ())
                assert out.read_bytes() == written.header + b"".join(kept)
        finally:
            dialect_module.CHUNK = saved

    @staticmethod
    def _fate(row: list[str], suppressed: dict[str, object], unengaged: bool) -> str:
        if normalise_address(row[2]) in suppressed:
            return "removed"
        opened = parse_engagement(row[3])
        if unengaged and (opened is None or (TODAY - opened).days > 30):
            return "reactivated"
        return "kept"


class TestAnnotateInvariants:
    """annotate keeps every row, in order, with its own fields first and seven more after."""

    @settings(max_examples=100, deadline=None)
    @given(
        drawn=lists(),
        bounced=st.sets(st.sampled_from(POOL)),
        chunk=st.sampled_from([5, 64, 1 << 20]),
    )
    def test_every_row_kept(
        self,
        drawn: tuple[str, bytes, str, str, bool, list[list[str]]],
        bounced: set[str],
        chunk: int,
    ) -> None:
        encoding, bom, delimiter, _newline, _quote_all, _rows = drawn
        saved = dialect_module.CHUNK
        dialect_module.CHUNK = chunk
        try:
            with tempfile.TemporaryDirectory() as folder:
                written = write(Path(folder), drawn)
                out = Path(folder) / "annotated.csv"
                known = statuses(*(status(address) for address in bounced))
                summary = annotate(written.path, known, AnnotateOptions(output=out))
                assert summary.rows == len(written.rows)
                assert out.read_bytes().startswith(bom)
                result = parse(out, encoding, bom, delimiter)
                assert [row[:4] for row in result[1:]] == written.rows
                for row, original in zip(result[1:], written.rows, strict=True):
                    assert len(row) == 11
                    hit = normalise_address(original[2]) in known
                    assert row[4] == ("suppressed" if hit else "ok")
        finally:
            dialect_module.CHUNK = saved
