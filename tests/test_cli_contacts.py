"""`bouncetool clean`, `annotate` and `export-errors` as a user runs them, on a real ledger."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncetool.model import Kind
from bouncetool.state import Ledger
from tests.ledger_records import record
from tests.support import TEST_DATA, run_cli

DATA = TEST_DATA / "contacts"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A ledger with a hard bounce, a complaint, one soft bounce and a hard bounce at a typo."""
    path = tmp_path / "state" / "ledger.sqlite"
    recent = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    with Ledger.open(path) as ledger:
        ledger.ingest(
            [
                record("jan.novak@seznam.cz", Kind.HARD, recent, "<a@x>", message=1),
                record("Tomas.Stastny@centrum.cz", Kind.COMPLAINT, recent, "<b@x>", message=2),
                record("eva.kralova@centrum.cz", Kind.SOFT, recent, "<c@x>", message=3),
                record("ludmila@gmial.com", Kind.HARD, recent, "<d@x>", message=4),
            ]
        )
    return path


def contacts(folder: Path) -> Path:
    """The Czech Excel sample plus a row at a mistyped domain, in a folder of its own."""
    lists = folder / "lists"
    lists.mkdir()
    path = lists / "kontakty.csv"
    shutil.copyfile(DATA / "excel-cs-cp1250.csv", path)
    with path.open("ab") as handle:
        handle.write("Ludmila;Malá;ludmila@gmial.com;Brno;1.11.2026\r\n".encode("cp1250"))
    return path


def rows(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("cp1250")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


class TestClean:
    """clean removes what the ledger suppresses, reports on stderr, keeps a backup."""

    def test_in_place(self, tmp_path: Path, state: Path) -> None:
        path = contacts(tmp_path)
        original = path.read_bytes()
        result = run_cli(["clean", path, "--state", state, "--lang", "cs"])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
        assert "Windows-1250, semicolon, CRLF" in result.stderr
        assert "removed: hard / userunknown" in result.stderr
        assert "removed: complaint / feedback" in result.stderr
        assert (path.parent / "kontakty.bak").read_bytes() == original
        kept = [row[2] for row in rows(path)[1:]]
        assert kept == [
            "sarka.zdarska@email.cz",
            "eva.kralova@centrum.cz",
            "jiri.dvorak@firma-priklad.cz",
            "ludmila@post.cz",
        ]
        removed = rows(path.parent / "kontakty.removed.csv")
        assert [(row[2], row[-1]) for row in removed[1:]] == [
            ("jan.novak@seznam.cz", ""),
            ("Tomas.Stastny@Centrum.CZ", ""),
            ("ludmila@gmial.com", "ludmila@gmail.com"),
        ]
        assert removed[1][8] == "Adresa neexistuje."

    def test_dry_run(self, tmp_path: Path, state: Path) -> None:
        path = contacts(tmp_path)
        result = run_cli(["clean", path, "--state", state, "--dry-run"])
        assert result.exit_code == 0, result.stderr
        assert "first rows that would go" in result.stderr
        assert "ludmila@gmail.com" in result.stderr
        assert sorted(p.name for p in path.parent.iterdir()) == ["kontakty.csv"]

    def test_twice_changes_nothing(self, tmp_path: Path, state: Path) -> None:
        path = contacts(tmp_path)
        assert run_cli(["clean", path, "--state", state]).exit_code == 0
        before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
        again = run_cli(["clean", path, "--state", state])
        assert again.exit_code == 0
        assert "nothing to change" in again.stderr
        assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before

    def test_check_syntax(self, tmp_path: Path, state: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"email,name\nok@seznam.cz,A\nbroken..dots@seznam.cz,B\n,C\n")
        result = run_cli(["clean", path, "--state", state, "--check-syntax", "-o", tmp_path / "o"])
        assert result.exit_code == 0, result.stderr
        assert (tmp_path / "o").read_bytes() == b"email,name\nok@seznam.cz,A\n"
        removed = (tmp_path / "list.removed.csv").read_bytes()
        assert b"broken..dots@seznam.cz,B,syntax,invalid" in removed
        assert b"\n,C,syntax,invalid,invalid-recipient,The address is not valid: empty" in removed


class TestBadInput:
    """Bad files: exit status 2, one line naming file and line, nothing written."""

    @pytest.mark.parametrize("name", sorted(EXPECTED["bad"]))
    def test_one_line(self, tmp_path: Path, state: Path, name: str) -> None:
        folder = tmp_path / "lists"
        folder.mkdir()
        path = folder / name
        shutil.copyfile(DATA / name, path)
        result = run_cli(["clean", path, "--state", state])
        want = EXPECTED["bad"][name]
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"bouncetool: error: {path}, line {want['line']}:")
        assert [p.name for p in folder.iterdir()] == [name]

    def test_missing_file(self, tmp_path: Path, state: Path) -> None:
        result = run_cli(["clean", tmp_path / "nope.csv", "--state", state])
        assert result.exit_code == 2
        assert "nope.csv: no such file" in result.stderr


class TestAnnotate:
    """annotate writes <name>.annotated.csv with the bounce columns in the file's dialect."""

    def test_annotate(self, tmp_path: Path, state: Path) -> None:
        path = contacts(tmp_path)
        result = run_cli(["annotate", path, "--state", state, "--lang", "en"])
        assert result.exit_code == 0, result.stderr
        out = rows(path.parent / "kontakty.annotated.csv")
        assert out[0][-7:] == [
            "bounce_status",
            "bounce_kind",
            "bounce_reason",
            "bounce_category",
            "bounce_count",
            "last_bounce_at",
            "bounce_explanation",
        ]
        by_address = {row[2]: row[5:] for row in out[1:]}
        assert by_address["jan.novak@seznam.cz"][:5] == [
            "suppressed",
            "hard",
            "userunknown",
            "invalid-recipient",
            "1",
        ]
        assert by_address["eva.kralova@centrum.cz"][0] == "watch"
        assert by_address["ludmila@post.cz"] == ["ok", "", "", "", "0", "", ""]


class TestExportErrors:
    """export-errors: one row per error address, CSV or JSON Lines, filtered by kind."""

    def test_csv(self, state: Path) -> None:
        result = run_cli(["export-errors", "--state", state, "--csv", "--lang", "cs"])
        assert result.exit_code == 0, result.stderr
        table = list(csv.DictReader(io.StringIO(result.stdout)))
        assert sorted(row["address"] for row in table) == [
            "eva.kralova@centrum.cz",
            "jan.novak@seznam.cz",
            "ludmila@gmial.com",
            "tomas.stastny@centrum.cz",
        ]
        jan = next(row for row in table if row["address"] == "jan.novak@seznam.cz")
        assert (jan["status"], jan["kind"], jan["count"]) == ("suppressed", "hard", "1")
        assert jan["explanation"] == "Adresa neexistuje."
        assert jan["campaign"] == "jaro-2026"

    def test_jsonl_kind_and_file(self, tmp_path: Path, state: Path) -> None:
        out = tmp_path / "errors.jsonl"
        result = run_cli(
            ["export-errors", "--state", state, "--format", "jsonl", "--kind", "soft", "-o", out]
        )
        assert result.exit_code == 0, result.stderr
        lines = out.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["address"] for line in lines] == ["eva.kralova@centrum.cz"]

    def test_excel_file_reads_back_as_semicolon_csv(self, tmp_path: Path, state: Path) -> None:
        out = tmp_path / "chyby.csv"
        result = run_cli(
            ["export-errors", "--state", state, "--format", "excel", "--lang", "cs", "-o", out]
        )
        assert result.exit_code == 0, result.stderr
        data = out.read_bytes()
        assert data.startswith(b"\xef\xbb\xbfaddress;domain;") and b"\r\n" in data
        table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
        jan = next(row for row in table if row["address"] == "jan.novak@seznam.cz")
        assert jan["explanation"] == "Adresa neexistuje."

    def test_since_excludes_old(self, state: Path) -> None:
        result = run_cli(["export-errors", "--state", state, "--since", "1d", "--kind", "hard"])
        assert result.exit_code == 0
        assert result.stdout.splitlines()[1:] == []

    def test_bad_kind(self, state: Path) -> None:
        result = run_cli(["export-errors", "--state", state, "--kind", "delayed"])
        assert result.exit_code == 2
        assert "--kind 'delayed'" in result.stderr
