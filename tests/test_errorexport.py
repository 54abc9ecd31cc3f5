"""export-errors as a library: which addresses, which columns, which formats."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from bouncetool.errorexport import (
    EXPORT_COLUMNS,
    ExportFormat,
    error_rows,
    parse_kinds,
    parse_since,
    write_errors,
)
from bouncetool.errors import ContactsError
from bouncetool.model import Kind, Lang
from tests.statuses import status

STATUSES = [
    status("jan@seznam.cz"),
    status("eva@email.cz", Kind.SOFT, reason="mailboxfull", count=1),
    status("petr@post.cz", Kind.SOFT, reason="mailboxfull", count=0),  # nothing counted
    status("ok@post.cz", Kind.DELIVERED, suppressed=False, count=0),
]


class TestErrorRows:
    """One row per address with something against it, in the chosen kinds."""

    def test_only_errors(self) -> None:
        rows = error_rows(STATUSES, lang=Lang.CS)
        assert sorted(str(row["address"]) for row in rows) == ["eva@email.cz", "jan@seznam.cz"]
        jan = next(row for row in rows if row["address"] == "jan@seznam.cz")
        assert list(jan) == list(EXPORT_COLUMNS)
        assert (jan["status"], jan["explanation"], jan["domain"]) == (
            "suppressed",
            "Adresa neexistuje.",
            "seznam.cz",
        )

    def test_kinds_and_since(self) -> None:
        assert [row["address"] for row in error_rows(STATUSES, kinds=parse_kinds("soft"))] == [
            "eva@email.cz"
        ]
        later = datetime(2026, 12, 1, tzinfo=UTC)
        assert error_rows(STATUSES, since=later) == []


class TestFormats:
    """CSV with a header (also when empty) and JSON Lines, UTF-8."""

    def test_csv(self) -> None:
        out = io.BytesIO()
        write_errors(error_rows(STATUSES), out, ExportFormat.CSV)
        lines = out.getvalue().decode("utf-8").splitlines()
        assert lines[0] == ",".join(EXPORT_COLUMNS)
        assert len(lines) == 3

    def test_empty_csv_has_header(self) -> None:
        out = io.BytesIO()
        write_errors([], out, ExportFormat.CSV)
        assert out.getvalue() == (",".join(EXPORT_COLUMNS) + "\n").encode()

    def test_excel(self) -> None:
        """Excel's CSV: a BOM, ';' between fields, CRLF, Czech text intact."""
        out = io.BytesIO()
        write_errors(error_rows(STATUSES, lang=Lang.CS), out, ExportFormat.EXCEL)
        data = out.getvalue()
        assert data.startswith(b"\xef\xbb\xbf" + ";".join(EXPORT_COLUMNS).encode() + b"\r\n")
        lines = data[3:].decode("utf-8").split("\r\n")
        assert len(lines) == 4 and lines[-1] == ""  # header, two rows, final line end
        assert "Adresa neexistuje." in data.decode("utf-8-sig")

    def test_jsonl(self) -> None:
        out = io.BytesIO()
        write_errors(error_rows(STATUSES, lang=Lang.CS), out, ExportFormat.JSONL)
        records = [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()]
        assert {record["address"] for record in records} == {"jan@seznam.cz", "eva@email.cz"}
        assert "Adresa neexistuje." in {record["explanation"] for record in records}


class TestOptions:
    """--since and --kind are read strictly."""

    def test_since(self) -> None:
        now = datetime(2026, 11, 24, tzinfo=UTC)
        assert parse_since("60d", now) == datetime(2026, 9, 25, tzinfo=UTC)
        assert parse_since("2w", now) == datetime(2026, 11, 10, tzinfo=UTC)
        assert parse_since("2026-10-01") == datetime(2026, 10, 1, tzinfo=UTC)
        with pytest.raises(ContactsError, match="--since 'soon'"):
            parse_since("soon")

    def test_kinds(self) -> None:
        assert parse_kinds("hard, complaint") == {Kind.HARD, Kind.COMPLAINT}
        assert parse_kinds("") == {Kind.HARD, Kind.SOFT, Kind.COMPLAINT}
        with pytest.raises(ContactsError, match="--kind 'delivered'"):
            parse_kinds("hard,delivered")
