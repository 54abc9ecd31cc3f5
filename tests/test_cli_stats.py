"""`bouncetool stats` run as a user would, on a real ledger file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncetool.model import Blame, Bounce, Kind, Record, Verdict
from bouncetool.render import OutputFormat
from bouncetool.state import Ledger
from tests.support import run_cli, run_python

NOW = datetime.now(UTC).replace(microsecond=0)

_VERDICTS = {
    Kind.HARD: Verdict(
        Kind.HARD, "userunknown", "invalid-recipient", Blame.RECIPIENT, "t-user", "5.1.1",
        "Adresa neexistuje.", "The address does not exist.",
    ),
    Kind.SOFT: Verdict(
        Kind.SOFT, "mailboxfull", "mailbox-full", Blame.RECIPIENT, "t-full", "4.2.2",
        "Schránka je plná.", "The mailbox is full.",
    ),
}  # fmt: skip


def record(number: int, recipient: str, kind: Kind, days_ago: int, campaign: str) -> Record:
    bounce = Bounce(
        kind=kind,
        recipient=recipient,
        action="failed",
        status="5.1.1" if kind is Kind.HARD else "4.2.2",
        reply_code="550" if kind is Kind.HARD else "452",
        diagnostic=f"550 5.1.1 <{recipient}>: no such user",
        date=(NOW - timedelta(days=days_ago)).isoformat(),
        original_message_id=f"<m{number}@sender.example>",
        campaign=campaign,
        source="bounces.mbox",
        message=number,
    )
    return Record(bounce, _VERDICTS[kind])


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with 25 hard bounces at seznam.cz (campaign nov), 3 soft at gmail.com (dec)."""
    path = tmp_path_factory.mktemp("state") / "ledger.sqlite"
    records = [record(i, f"user{i}@seznam.cz", Kind.HARD, 2, "nov") for i in range(25)]
    records += [record(100 + i, f"user{i}@gmail.com", Kind.SOFT, 20, "dec") for i in range(3)]
    with Ledger.open(path) as opened:
        opened.ingest(records, now=NOW)
    return path


def jsonl(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


class TestMachineOutput:
    """JSON Lines and CSV carry exact counts on stdout; warnings stay on stderr."""

    def test_jsonl(self, ledger: Path) -> None:
        result = run_cli(["stats", "--state", ledger, "--by", "domain", "--format", "jsonl"])
        assert result.exit_code == 0, result.stderr
        rows = jsonl(result.stdout)
        assert [(r["dimension"], r["key"], r["events"], r["hard"], r["soft"]) for r in rows] == [
            ("total", None, 28, 25, 3),
            ("domain", "seznam.cz", 25, 25, 0),
            ("domain", "gmail.com", 3, 0, 3),
        ]
        assert "seznam.cz: 25 hard-bounced addresses" in result.stderr

    def test_csv_with_campaign_rates(self, ledger: Path, tmp_path: Path) -> None:
        sent = tmp_path / "sent.csv"
        sent.write_bytes("kampaň;odesláno\r\nnov;1 000\r\ndec;20\r\n".encode("cp1250"))
        args = ["stats", "--state", ledger, "--by", "campaign", "--format", "csv"]
        result = run_cli([*args, "--campaigns", sent, "--lang", "en"])
        assert result.exit_code == 0, result.stderr
        rows = {r["key"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
        assert rows["nov"]["bounce_rate"] == "0.025"
        assert rows["dec"]["bounce_rate"] == "0.15"
        assert "CRITICAL: Campaign dec: bounce rate 15.0%" in result.stderr

    @pytest.mark.parametrize(
        ("since", "events"),
        [
            ("7d", 25),  # the hard bounces are 2 days old, the soft ones 20
            ("1w", 25),
            ("24h", 0),
            ("3w", 28),
            ((NOW - timedelta(days=10)).date().isoformat(), 25),
            ("2000-01-01T00:00:00+01:00", 28),
        ],
    )
    def test_since_filters_by_bounce_date(self, ledger: Path, since: str, events: int) -> None:
        result = run_cli(["stats", "--state", ledger, "--since", since, "--format", "jsonl"])
        assert result.exit_code == 0, result.stderr
        assert jsonl(result.stdout)[0]["events"] == events

    def test_jsonl_is_the_default_off_a_terminal(self, ledger: Path) -> None:
        result = run_cli(["stats", "--state", ledger, "--by", "kind"])
        assert [r["key"] for r in jsonl(result.stdout)] == [None, "hard", "soft"]

    @pytest.mark.parametrize("output", list(OutputFormat))
    def test_every_format(self, ledger: Path, output: OutputFormat) -> None:
        result = run_cli(["stats", "--state", ledger, "--format", output.value, "--lang", "cs"])
        assert result.exit_code == 0, result.stderr
        assert "seznam.cz" in result.stdout
        assert "varování: seznam.cz" in result.stderr


class TestTableAndHtml:
    """People get Czech tables and a report file when they ask."""

    def test_table_and_report(self, ledger: Path, tmp_path: Path) -> None:
        report = tmp_path / "report.html"
        args = ["stats", "--state", ledger, "--sent", "1000", "--html", report, "--lang", "cs"]
        result = run_cli([*args, "--format", "table"])
        assert result.exit_code == 0, result.stderr
        assert "Podle domény příjemce" in result.stdout
        assert "2,8 %" in result.stdout  # 28 bounced addresses of 1,000
        page = report.read_text(encoding="utf-8")
        assert "Přehled nedoručených zpráv" in page
        assert "Adresa neexistuje." in page


class TestBadInput:
    """Bad options and files end with one clear line and exit status 2."""

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (["--by", "domain,planet"], "unknown axis planet"),
            (["--since", "last tuesday"], "neither a duration"),
            (["--sent", "10", "--campaigns", "x.csv"], "not both"),
        ],
    )
    def test_usage(self, ledger: Path, extra: list[str], message: str) -> None:
        result = run_cli(["stats", "--state", ledger, *extra])
        assert result.exit_code == 2
        assert message in result.stderr
        assert result.stdout == ""

    def test_bad_campaigns_file(self, ledger: Path, tmp_path: Path) -> None:
        sent = tmp_path / "sent.csv"
        sent.write_text("campaign,sent\nnov,lots\n", encoding="utf-8")
        result = run_cli(["stats", "--state", ledger, "--campaigns", sent])
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"bouncetool: error: {sent}, line 2: sent must be a whole number, got 'lots'"
        )
        assert result.stdout == ""

    def test_missing_ledger(self, tmp_path: Path) -> None:
        absent = tmp_path / "nowhere.sqlite3"
        result = run_cli(["stats", "--state", absent])
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"bouncetool: error: {absent}: no ledger here yet; read bounces into it first"
        )
        assert not absent.exists()

    def test_ledger_from_environment(self, ledger: Path) -> None:
        result = run_cli(["stats", "--by", "kind"], env={"BOUNCETOOL_STATE": str(ledger)})
        assert jsonl(result.stdout)[0]["events"] == 28

    def test_report_into_missing_folder(self, ledger: Path, tmp_path: Path) -> None:
        target = tmp_path / "absent" / "report.html"
        result = run_cli(["stats", "--state", ledger, "--html", target])
        assert result.exit_code == 2
        assert f"{target}: cannot write the report: No such file or directory" in result.stderr


class TestWithTheRuleTable:
    """Bounces classified by the shipped rule table reach the report with its explanations."""

    def test_explanations_from_rules(self, tmp_path: Path) -> None:
        from html import escape

        from bouncetool.rules import load_table

        table = load_table()
        bounce = record(1, "jan@seznam.cz", Kind.HARD, 1, "nov").bounce
        verdict = table.classify(bounce)
        state = tmp_path / "ledger.sqlite3"
        with Ledger.open(state) as opened:
            opened.ingest([Record(bounce, verdict)], now=NOW)
        report = tmp_path / "report.html"
        result = run_cli(["stats", "--state", state, "--html", report, "--lang", "cs"])
        assert result.exit_code == 0, result.stderr
        page = report.read_text(encoding="utf-8")
        assert f"<b>{escape(verdict.reason)}</b>" in page
        assert escape(verdict.explanation_cs) in page


class TestStartUp:
    """Only `stats` loads the statistics; its help still names every axis."""

    def test_help_names_every_axis(self) -> None:
        from bouncetool.cli.stats import AXES
        from bouncetool.stats import Dimension

        assert AXES.split(",") == [dimension.value for dimension in Dimension]
        done = run_cli(["stats", "--help"])
        assert done.exit_code == 0
        assert "week" in done.stdout

    def test_loading_the_cli_leaves_the_statistics_unloaded(self) -> None:
        script = (
            "import sys\n"
            "import bouncetool.cli\n"
            "names = ('bouncetool.stats', 'bouncetool.alerts')\n"
            "print(sorted(name for name in names if name in sys.modules))\n"
        )
        done = run_python(script)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
