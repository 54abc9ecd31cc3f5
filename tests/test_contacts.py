"""`clean` and `annotate` on real files: every row ends in one place, kept rows byte for byte."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path

import pytest

from bouncetool.contacts import (
    ANNOTATE_COLUMNS,
    REMOVED_COLUMNS,
    AnnotateOptions,
    CleanOptions,
    annotate,
    clean,
)
from bouncetool.dialect import detect_dialect
from bouncetool.errors import ContactsError
from bouncetool.model import Kind, Lang
from tests.statuses import status, statuses
from tests.support import TEST_DATA

DATA = TEST_DATA / "contacts"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
BOUNCED = statuses(
    status("jan.novak@seznam.cz"),
    status("tomas.stastny@centrum.cz", Kind.COMPLAINT, reason="feedback"),
    status("vera@email.cz", Kind.SOFT, suppressed=True, reason="mailboxfull", count=3),
    status("marek.zielinski@onet.pl"),
    status("zaneta@interia.pl"),
    status("borek@post.cz"),
    status("marie@xn--hkyrky-ptac70bc.cz"),
    status("eva.kralova@centrum.cz", Kind.SOFT, reason="mailboxfull"),  # below threshold: stays
)


def copy(name: str, folder: Path) -> Path:
    """A sample file copied into `folder` (tests never change tests/data)."""
    target = folder / name
    shutil.copyfile(DATA / name, target)
    return target


def records(path: Path) -> list[list[str]]:
    """The rows of `path` read with the csv module in the file's own dialect."""
    dialect = detect_dialect(path)
    text = path.read_bytes()[len(dialect.bom) :].decode(dialect.encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter))


def raw_records(path: Path) -> list[bytes]:
    """The raw bytes of each record (header first), split where csv says a record ends."""
    data = path.read_bytes()
    dialect = detect_dialect(path)
    text = data[len(dialect.bom) :].decode(dialect.encoding)
    pieces, current = [], ""
    for line in text.split("\n")[:-1]:
        current += line + "\n"
        if current.count('"') % 2 == 0:
            pieces.append(current.encode(dialect.encoding))
            current = ""
    return pieces


class TestCleanRealFiles:
    """Suppressed rows leave, the rest stays byte for byte, in every sample dialect."""

    @pytest.mark.parametrize("name", sorted(EXPECTED["good"]))
    def test_partition(self, tmp_path: Path, name: str) -> None:
        path = copy(name, tmp_path)
        before = raw_records(path)
        summary = clean(path, BOUNCED, CleanOptions(lang=Lang.CS))
        assert summary.rows == EXPECTED["good"][name]["rows"]
        kept = raw_records(path)
        removed_path = tmp_path / f"{path.stem}.removed{path.suffix}"
        removed = records(removed_path)[1:] if summary.removed else []
        assert summary.kept + summary.removed == summary.rows
        assert len(kept) - 1 == summary.kept
        assert len(removed) == summary.removed
        # Kept records are the original ones, in order, untouched.
        assert kept == [record for record in before if record in kept]
        assert path.read_bytes().startswith(detect_dialect(path).bom)
        assert (tmp_path / f"{path.stem}.bak").read_bytes() == (DATA / name).read_bytes()

    def test_czech_excel(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        summary = clean(path, BOUNCED, CleanOptions(lang=Lang.CS))
        assert summary.removed == 2
        assert {key for key, _count in summary.by_reason.items()} == {
            ("hard", "userunknown"),
            ("complaint", "feedback"),
        }
        text = path.read_bytes().decode("cp1250")
        assert "jan.novak@seznam.cz" not in text
        assert "eva.kralova@centrum.cz" in text  # one soft bounce does not remove
        removed = (tmp_path / "excel-cs-cp1250.removed.csv").read_bytes()
        assert removed.endswith(b"\r\n")
        assert b"\n" not in removed.replace(b"\r\n", b"")
        rows = list(csv.reader(io.StringIO(removed.decode("cp1250"), newline=""), delimiter=";"))
        assert rows[0] == [
            "Jméno",
            "Příjmení",
            "E-mail",
            "Město",
            "Poslední otevření",
            *REMOVED_COLUMNS,
        ]
        assert rows[1][:3] == ["Jan", "Novák", "jan.novak@seznam.cz"]
        assert rows[1][5:] == [
            "userunknown",
            "hard",
            "invalid-recipient",
            "Adresa neexistuje.",
            "2026-11-20T09:30:00+00:00",
            "1",
            "",
        ]
        assert rows[2][2] == "Tomas.Stastny@Centrum.CZ"  # matched without case, kept as written

    def test_quoted_fields_with_delimiters_and_newlines(self, tmp_path: Path) -> None:
        path = copy("quoted-multiline.csv", tmp_path)
        original = path.read_bytes()
        summary = clean(path, BOUNCED, CleanOptions())
        assert (summary.rows, summary.removed) == (5, 2)
        assert [removal.line for removal in summary.preview] == [2, 3]
        expected = original.replace(
            'Jan;"volat; jen ráno";jan.novak@seznam.cz;Praha\r\n'.encode("cp1250"), b""
        ).replace(
            'Věra;"první řádek\ndruhý řádek; se středníkem";vera@email.cz;"Brno"\r\n'.encode(
                "cp1250"
            ),
            b"",
        )
        assert path.read_bytes() == expected
        removed = records(tmp_path / "quoted-multiline.removed.csv")
        assert removed[2][1] == "první řádek\ndruhý řádek; se středníkem"

    def test_idn_domain_matches(self, tmp_path: Path) -> None:
        path = copy("shop-utf8-bom.csv", tmp_path)
        summary = clean(path, BOUNCED, CleanOptions())
        assert {removal.address for removal in summary.preview} == {
            "jan.novak@seznam.cz",
            "marie@háčkyčárky.cz",
        }
        removed = (tmp_path / "shop-utf8-bom.removed.csv").read_bytes()
        assert removed.startswith(
            b'\xef\xbb\xbf"first_name","last_name","Email Address","city","reason"'
        )


class TestCleanOutputs:
    """Where clean writes: --output, --removed, dry run, nothing when nothing changes."""

    def test_new_files_get_the_usual_mode(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        path.chmod(0o640)
        clean(path, BOUNCED, CleanOptions())
        umask = os.umask(0)
        os.umask(umask)
        assert path.stat().st_mode & 0o777 == 0o640
        removed = tmp_path / "excel-cs-cp1250.removed.csv"
        assert removed.stat().st_mode & 0o777 == 0o666 & ~umask

    def test_output_leaves_input(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        out = tmp_path / "clean.csv"
        removed = tmp_path / "gone.csv"
        summary = clean(path, BOUNCED, CleanOptions(output=out, removed=removed))
        assert path.read_bytes() == (DATA / "excel-cs-cp1250.csv").read_bytes()
        assert summary.written == (removed, out)
        assert summary.backup is None
        assert not (tmp_path / "excel-cs-cp1250.bak").exists()

    def test_dry_run_writes_nothing(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        summary = clean(path, BOUNCED, CleanOptions(dry_run=True))
        assert summary.removed == 2
        assert summary.written == ()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["excel-cs-cp1250.csv"]

    def test_second_run_changes_nothing(self, tmp_path: Path) -> None:
        path = copy("quoted-multiline.csv", tmp_path)
        clean(path, BOUNCED, CleanOptions())
        snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        again = clean(path, BOUNCED, CleanOptions())
        assert (again.removed, again.written) == (0, ())
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot

    def test_removed_file_grows(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        clean(path, statuses(status("jan.novak@seznam.cz")), CleanOptions())
        clean(path, statuses(status("ludmila@post.cz")), CleanOptions())
        rows = records(tmp_path / "excel-cs-cp1250.removed.csv")
        assert [row[2] for row in rows[1:]] == ["jan.novak@seznam.cz", "ludmila@post.cz"]


class TestCleanChecks:
    """Syntax, DNS and engagement checks; typo suggestions that are never applied."""

    def test_syntax_and_suggestion(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"name,email\nA,a@gmial.com\nB,not an address\nC,c@seznam.cz\nD,\n")

        def check(address: str) -> str | None:
            return None if "@" in address else "empty" if not address else "no @"

        def suggest(address: str) -> str | None:
            return address.replace("gmial", "gmail") if "gmial" in address else None

        summary = clean(
            path,
            statuses(status("a@gmial.com")),
            CleanOptions(check_syntax=check, suggest=suggest),
        )
        assert path.read_bytes() == b"name,email\nC,c@seznam.cz\n"
        rows = records(tmp_path / "list.removed.csv")
        assert rows[1][1:] == [
            "a@gmial.com",
            "userunknown",
            "hard",
            "invalid-recipient",
            "The address does not exist.",
            "2026-11-20T09:30:00+00:00",
            "1",
            "a@gmail.com",
        ]
        assert rows[2][2:6] == [
            "syntax",
            "invalid",
            "invalid-recipient",
            "The address is not valid: no @",
        ]
        assert rows[3][1:3] == ["", "syntax"]  # an empty cell is no address either
        assert summary.by_reason == {("hard", "userunknown"): 1, ("invalid", "syntax"): 2}

    def test_dns(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"email\nx@gone.example\ny@nomail.example\nz@slow.example\n")
        asked: list[str] = []

        def dead(domains: Collection[str]) -> Mapping[str, str]:
            asked.extend(domains)
            return {"gone.example": "nxdomain", "nomail.example": "null-mx"}

        summary = clean(path, {}, CleanOptions(check_domains=dead, lang=Lang.CS))
        assert sorted(asked) == ["gone.example", "nomail.example", "slow.example"]
        assert path.read_bytes() == b"email\nz@slow.example\n"
        rows = records(tmp_path / "list.removed.csv")
        assert [row[1:4] for row in rows[1:]] == [
            ["hostunknown", "hard", "dns-failure"],
            ["notaccept", "hard", "dns-failure"],
        ]
        assert rows[1][4] == "Doména gone.example neexistuje (DNS: NXDOMAIN)."
        assert summary.removed == 2

    def test_unengaged_go_to_reactivation(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        summary = clean(
            path,
            statuses(status("jan.novak@seznam.cz")),
            CleanOptions(
                unengaged_days=30,
                engagement_column="posledni otevreni",
                today=date(2026, 11, 24),
            ),
        )
        assert (summary.rows, summary.kept, summary.removed, summary.reactivated) == (6, 3, 1, 2)
        moved = records(tmp_path / "excel-cs-cp1250.reactivate.csv")
        assert [row[2] for row in moved[1:]] == [
            "Tomas.Stastny@Centrum.CZ",
            "eva.kralova@centrum.cz",
        ]
        assert moved[0] == records(DATA / "excel-cs-cp1250.csv")[0]

    def test_unparseable_engagement_names_line(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"email;opened\na@b.cz;2026-01-01\nc@d.cz;yesterday\n")
        with pytest.raises(ContactsError, match=r"list.csv, line 3: column opened: not a date"):
            clean(path, {}, CleanOptions(unengaged_days=5, engagement_column="opened"))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv"]


class TestDuplicates:
    """Rows with the same address (after normalisation) are reported, not removed."""

    def test_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(
            b"email\njan@seznam.cz\nEva@Email.cz\n JAN@SEZNAM.CZ \n<eva@email.cz>\nx@y.cz\n"
        )
        summary = clean(path, {}, CleanOptions(dry_run=True))
        assert summary.duplicates == 2
        found = {(d.address, d.line, d.first_line) for d in summary.duplicate_examples}
        assert found == {("JAN@SEZNAM.CZ", 4, 2), ("<eva@email.cz>", 5, 3)}


class TestDuplicatesInPlace:
    """An in-place clean quotes duplicates from the original, not from the cleaned list."""

    def test_quoted_before_replacing(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"email\ngone@seznam.cz\nx@y.cz\neva@email.cz\nEVA@email.cz\n")
        summary = clean(path, statuses(status("gone@seznam.cz")), CleanOptions())
        assert [(d.address, d.line, d.first_line) for d in summary.duplicate_examples] == [
            ("EVA@email.cz", 5, 4)
        ]


class TestBadInput:
    """Bad files raise one error naming file and line, and nothing is written."""

    @pytest.mark.parametrize("name", sorted(EXPECTED["bad"]))
    def test_error(self, tmp_path: Path, name: str) -> None:
        path = copy(name, tmp_path)
        want = EXPECTED["bad"][name]
        with pytest.raises(ContactsError) as caught:
            clean(path, BOUNCED, CleanOptions())
        assert str(caught.value).startswith(f"{path}, line {want['line']}:")
        assert want["says"] in str(caught.value)
        assert [p.name for p in tmp_path.iterdir()] == [name]
        assert path.read_bytes() == (DATA / name).read_bytes()


class TestAnnotate:
    """annotate keeps every row byte for byte and appends the bounce columns."""

    def test_delivery_notice_is_ok(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        delivered = status("jan.novak@seznam.cz", Kind.DELIVERED, suppressed=False, count=0)
        summary = annotate(path, statuses(delivered), AnnotateOptions())
        assert summary.by_status == {"ok": 6}
        row = records(tmp_path / "excel-cs-cp1250.annotated.csv")[1]
        assert row[5:10] == ["ok", "delivered", "userunknown", "mailbox-full", "0"]

    def test_excel(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        summary = annotate(path, BOUNCED, AnnotateOptions(lang=Lang.CS))
        out = tmp_path / "excel-cs-cp1250.annotated.csv"
        assert summary.output == out
        assert summary.by_status == {"ok": 3, "suppressed": 2, "watch": 1}
        original = (DATA / "excel-cs-cp1250.csv").read_bytes().split(b"\r\n")
        annotated = out.read_bytes().split(b"\r\n")
        assert len(original) == len(annotated)
        for before, after in zip(original[:-1], annotated[:-1], strict=True):
            assert after.startswith(before + b";")
        rows = records(out)
        assert rows[0][5:] == list(ANNOTATE_COLUMNS)
        assert rows[4][5:] == [
            "watch",
            "soft",
            "mailboxfull",
            "mailbox-full",
            "1",
            "2026-11-20T09:30:00+00:00",
            "Adresa neexistuje.",
        ]
        assert rows[2][5:] == ["ok", "", "", "", "0", "", ""]

    def test_quote_all_file_gets_quoted_columns(self, tmp_path: Path) -> None:
        path = copy("shop-utf8-bom.csv", tmp_path)
        annotate(path, BOUNCED)
        lines = (tmp_path / "shop-utf8-bom.annotated.csv").read_bytes().split(b"\r\n")
        assert lines[0].startswith(b'\xef\xbb\xbf"first_name"')  # the BOM stays
        assert lines[0].endswith(
            b'"city","bounce_status","bounce_kind","bounce_reason",'
            b'"bounce_category","bounce_count","last_bounce_at",'
            b'"bounce_explanation"'
        )
        assert lines[2].startswith(b'"Zuzana","Hor\xc3\xa1kov\xc3\xa1"')
        assert lines[2].endswith(b',"ok","","","","0","",""')

    @pytest.mark.parametrize(
        "body",
        [
            b"email;n\r\na@b.cz;1\r\njan@seznam.cz;2\r\nc@d.cz;3",  # no line end at the end
            b"email;n\r\na@b.cz;1\njan@seznam.cz;2\r\nc@d.cz;3\n",  # mixed line ends
            b"email;n\na@b.cz;1\n\njan@seznam.cz;2\nc@d.cz;3\n",  # a blank line
        ],
        ids=["no-final-line-end", "mixed-line-ends", "blank-line"],
    )
    def test_line_ends_kept(self, tmp_path: Path, body: bytes) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(body)
        annotate(path, statuses(status("jan@seznam.cz")))
        out = (tmp_path / "list.annotated.csv").read_bytes()
        plain = b";ok;;;;0;;"
        expected = []
        for line in body.splitlines(keepends=True):
            content = line.rstrip(b"\r\n")
            ending = line[len(content) :]
            if not content:
                expected.append(line)
            elif content.startswith(b"email"):
                expected.append(content + b";" + ";".join(ANNOTATE_COLUMNS).encode() + ending)
            elif content.startswith(b"jan@"):
                expected.append(
                    content + b";suppressed;hard;userunknown;invalid-recipient;1;"
                    b"2026-11-20T09:30:00+00:00;The address does not exist." + ending
                )
            else:
                expected.append(content + plain + ending)
        assert out == b"".join(expected)

    def test_already_annotated(self, tmp_path: Path) -> None:
        path = copy("excel-cs-cp1250.csv", tmp_path)
        annotate(path, BOUNCED)
        with pytest.raises(ContactsError, match="already has a bounce_status column"):
            annotate(tmp_path / "excel-cs-cp1250.annotated.csv", BOUNCED)


class TestLateEncodingEvidence:
    """A UTF-8 head is trusted while the rest is checked alongside; a late surprise is handled."""

    @pytest.fixture(autouse=True)
    def _small_head(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import bouncetool.dialect

        monkeypatch.setattr(bouncetool.dialect, "HEAD", 256)

    def _write(self, path: Path, tail: bytes) -> None:
        rows = b"".join(b"Jan;jan%d@seznam.cz\r\n" % n for n in range(100))
        path.write_bytes(b"Jmeno;E-mail\r\n" + rows + tail)

    def test_windows_1250_after_ascii_head(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        self._write(path, "Šárka;sarka@email.cz\r\n".encode("cp1250"))
        summary = clean(path, statuses(status("sarka@email.cz")), CleanOptions(lang=Lang.CS))
        assert summary.dialect.encoding == "cp1250"
        removed = (tmp_path / "list.removed.csv").read_bytes()
        assert "Šárka;sarka@email.cz;userunknown".encode("cp1250") in removed

    def test_no_encoding_fits_late(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        self._write(path, b"Bad\x81;bad@email.cz\r\n")
        with pytest.raises(ContactsError, match=r"list.csv, line 102: byte 0x81"):
            clean(path, statuses(status("jan1@seznam.cz")), CleanOptions())
        assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]

    def test_nul_late(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        self._write(path, b"Bad\x00;bad@email.cz\r\n")
        with pytest.raises(ContactsError, match=r"list.csv, line 102: a NUL byte"):
            clean(path, statuses(status("jan1@seznam.cz")), CleanOptions())
        assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


class TestOddShapes:
    """Blank lines, a header alone, a list without header: handled, nothing lost."""

    def test_blank_lines_stay(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"name;email\r\nA;a@b.cz\r\n\r\nB;jan@seznam.cz\r\nC;c@d.cz\r\n\r\n")
        summary = clean(path, statuses(status("jan@seznam.cz")), CleanOptions())
        assert (summary.rows, summary.kept, summary.removed) == (3, 2, 1)
        assert path.read_bytes() == b"name;email\r\nA;a@b.cz\r\n\r\nC;c@d.cz\r\n\r\n"

    def test_header_only(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"name;email\r\n")
        summary = clean(path, statuses(status("jan@seznam.cz")), CleanOptions())
        assert (summary.rows, summary.written) == (0, ())
        assert path.read_bytes() == b"name;email\r\n"

    def test_no_header_by_number(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"Jan;jan@seznam.cz;Praha\nEva;eva@email.cz;Brno\n")
        summary = clean(path, statuses(status("eva@email.cz")), CleanOptions(email_column="2"))
        assert summary.removed == 1
        assert path.read_bytes() == b"Jan;jan@seznam.cz;Praha\n"
        removed = (tmp_path / "list.removed.csv").read_bytes()
        assert removed.startswith(b"Eva;eva@email.cz;Brno;userunknown;hard;")

    def test_last_line_without_line_end(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"email,name\r\njan@seznam.cz,Jan\r\neva@email.cz,Eva")
        clean(path, statuses(status("jan@seznam.cz")), CleanOptions())
        assert path.read_bytes() == b"email,name\r\neva@email.cz,Eva"


class TestLineNumbersAcrossBlocks:
    """Errors name the right line however the file is cut into blocks."""

    @pytest.mark.parametrize("chunk", [16, 64, 1 << 20])
    def test_ragged_line_after_multiline_record(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
    ) -> None:
        import bouncetool.dialect

        monkeypatch.setattr(bouncetool.dialect, "CHUNK", chunk)
        rows = [b"name;email;note"]
        rows += [b"A%d;a%d@b.cz;x" % (n, n) for n in range(50)]
        rows += [b'Q;q@b.cz;"two\nlines"']  # lines 52-53
        rows += [b"B%d;b%d@b.cz;y" % (n, n) for n in range(50)]  # lines 54-103
        rows += [b"bad;row"]  # line 104
        path = tmp_path / "list.csv"
        path.write_bytes(b"\n".join(rows) + b"\n")
        with pytest.raises(ContactsError, match=r"list.csv, line 104: 2 fields"):
            clean(path, {}, CleanOptions())
