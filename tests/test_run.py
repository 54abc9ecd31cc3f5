"""`bouncetool run`: one unattended pass from sources to contact files, with its outputs."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from bouncetool import runner
from bouncetool.config import load_config
from bouncetool.lock import RunLock
from bouncetool.model import Bounce
from bouncetool.runner import run
from tests.imapserver import PASSWORD, DovecotServer
from tests.mailfactory import dsn
from tests.runsetup import SOFT, SUPPRESSED, Workspace, bounce_messages, make_workspace
from tests.support import run_cli

SUMMARY_START = (
    "bouncetool run: 7 messages read; bounces: 3 hard, 3 soft, 1 not-bounce (6 new); "
    "contacts: 4 removed, 0 annotated"
)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """Bounces in an mbox, a contact list to clean, and the config naming them."""
    return make_workspace(tmp_path / "work")


def imap_workspace(root: Path, server: DovecotServer, after: str = "seen") -> Workspace:
    """A workspace whose only source is the test server's INBOX."""
    url = server.url()
    source = f'imap = "{url}"\npassword_env = "BT_TEST_PW"\nafter_read = "{after}"'
    return make_workspace(root, sources=[source])


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


class TestFromFiles:
    """A run reads the mbox, cleans the list, writes the export, the summary and the log;
    off a terminal it says one line."""

    def test_one_pass(self, workspace: Workspace) -> None:
        result = run_cli(["run", "--config", workspace.config])
        assert result.exit_code == 0, result.stderr
        # Off a terminal: the summary line alone, no colour, no progress bar, nothing on stdout.
        assert result.stdout == ""
        assert len(lines(result.stderr)) == 1
        assert "\x1b[" not in result.stderr
        assert lines(result.stderr)[-1].startswith(SUMMARY_START)
        kept = workspace.contacts.read_bytes().decode("utf-8-sig")
        assert not any(address in kept for address in SUPPRESSED)
        assert kept.count("\r\n") == 7  # header + 6 good rows, CRLF kept
        removed = workspace.removed.read_text(encoding="utf-8-sig")
        assert all(address in removed for address in SUPPRESSED)
        exported = workspace.export.read_text(encoding="utf-8")
        assert sorted(line.split(",")[0] for line in exported.splitlines()[1:]) == sorted(
            SUPPRESSED
        )
        summary = json.loads(workspace.summary.read_text(encoding="utf-8"))
        assert summary["messages"] == 7
        assert summary["bounces"] == {"hard": 3, "not-bounce": 1, "soft": 3}
        assert summary["contacts"][0]["removed"] == 4
        assert summary["exports"][0]["rows"] == 4
        assert summary["exit_code"] == 0
        log = workspace.log.read_text(encoding="utf-8")
        assert "INFO run started" in log
        assert SUMMARY_START in log

    def test_second_run_changes_nothing(self, workspace: Workspace) -> None:
        config = load_config(workspace.config)
        run(config)
        files = {path: path.read_bytes() for path in (workspace.contacts, workspace.removed)}
        events = workspace.events()
        again = run(config)
        assert again.new_events == 0
        assert sum(outcome.removed for outcome in again.contacts) == 0
        assert {path: path.read_bytes() for path in files} == files
        assert workspace.events() == events

    def test_annotate(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path, action="annotate")
        summary = run(load_config(workspace.config))
        (outcome,) = summary.contacts
        assert (outcome.action, outcome.rows, outcome.annotated, outcome.removed) == (
            "annotate",
            10,
            4,
            0,
        )
        annotated = (tmp_path / "out" / "contacts.annotated.csv").read_text(encoding="utf-8-sig")
        assert len(annotated.splitlines()) == 11
        assert workspace.contacts.read_text(encoding="utf-8-sig").count(SOFT) == 1  # untouched


@pytest.mark.usefixtures("imap_password")
class TestFromImap:
    """A run reads unseen mail from IMAP and marks it read only once the ledger has it."""

    def test_reads_unseen_and_marks_them(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        old = imap_server.append(dsn("old@example.cz"), seen=True)
        imap_server.append_all(bounce_messages())
        workspace = imap_workspace(tmp_path, imap_server)
        summary = run(load_config(workspace.config))
        assert (summary.messages, summary.new_events, summary.settled) == (7, 6, {"marked read": 7})
        assert "; 7 marked read; " in summary.line()
        assert imap_server.uids(criteria="UNSEEN") == []
        assert old in imap_server.uids()
        assert "old@example.cz" not in workspace.export.read_text()  # read mail is not read again
        again = run(load_config(workspace.config))
        assert (again.messages, again.new_events) == (0, 0)

    def test_new_mail_between_runs(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        imap_server.append_all(bounce_messages())
        workspace = imap_workspace(tmp_path, imap_server)
        run(load_config(workspace.config))
        imap_server.append(dsn("late@example.cz"))
        summary = run(load_config(workspace.config))
        assert (summary.messages, summary.new_events) == (1, 1)

    def test_move_after_read(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        imap_server.append_all(bounce_messages())
        workspace = imap_workspace(tmp_path, imap_server, after="move:Processed")
        summary = run(load_config(workspace.config))
        assert summary.settled == {"moved": 7}
        assert imap_server.uids() == []
        assert len(imap_server.uids("Processed", "SEEN")) == 7

    def test_unparseable_message_not_kept_aside_stays_unread(
        self, tmp_path: Path, imap_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        uids = imap_server.append_all(bounce_messages())
        real_parse = runner.parse_message

        def parse(data: bytes) -> list[Bounce]:
            if b"petr@seznam.cz" in data:
                raise ValueError("simulated extractor bug")
            return real_parse(data)

        monkeypatch.setattr(runner, "parse_message", parse)
        (tmp_path / "afile").write_text("a file where the quarantine folder should be")
        source = f'imap = "{imap_server.url()}"\npassword_env = "BT_TEST_PW"'
        workspace = make_workspace(tmp_path, sources=[source], extra='quarantine = "afile"')
        summary = run(load_config(workspace.config))
        assert summary.exit_code == 1
        (problem,) = summary.problems
        assert problem.startswith(
            f"{imap_server.url()}, message {uids[1]}: cannot parse: simulated extractor bug "
            f"(not kept aside: cannot write {tmp_path / 'afile'}/"
        )
        assert imap_server.uids(criteria="UNSEEN") == [uids[1]]  # kept for the next run

    def test_password_is_never_shown(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        imap_server.append_all(bounce_messages())
        workspace = imap_workspace(tmp_path, imap_server)
        wrong = run_cli(["run", "-c", workspace.config], env={"BT_TEST_PW": "Wrong-Pw-0815"})
        assert wrong.exit_code == 1
        assert f"{imap_server.url()}: login refused for bounces" in wrong.stderr
        right = run_cli(["run", "-c", workspace.config], env={"BT_TEST_PW": PASSWORD})
        assert right.exit_code == 0, right.stderr
        written = [workspace.log, workspace.summary, workspace.export, workspace.removed]
        shown = wrong.stderr + right.stderr + right.stdout
        shown += "".join(path.read_text(encoding="utf-8-sig") for path in written)
        assert "Wrong-Pw-0815" not in shown
        assert PASSWORD not in shown

    def test_unreachable_server_spares_the_other_sources(
        self, tmp_path: Path, imap_server: DovecotServer
    ) -> None:
        sources = ['imap = "imap://bounces@127.0.0.1:1/INBOX"', 'path = "bounces.mbox"']
        workspace = make_workspace(tmp_path, sources=sources)
        result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 1
        assert "bouncetool: imap://bounces@127.0.0.1:1/INBOX: cannot connect" in result.stderr
        assert "7 messages read" in lines(result.stderr)[-1]


class TestExitStatuses:
    """0 all fine, 1 some input bad, 2 configuration error, 3 another run holds the lock."""

    def test_missing_source_is_status_1(self, tmp_path: Path) -> None:
        workspace = make_workspace(
            tmp_path, sources=['path = "bounces.mbox"', 'path = "gone.mbox"']
        )
        result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 1
        assert f"bouncetool: {tmp_path / 'gone.mbox'}: cannot open" in result.stderr
        assert "contacts: 4 removed" in result.stderr  # the rest of the run went on
        assert json.loads(workspace.summary.read_text())["exit_code"] == 1

    def test_config_error_is_status_2_with_file_and_line(self, workspace: Workspace) -> None:
        text = workspace.config.read_text().replace('action = "clean"', 'action = "purge"')
        workspace.config.write_text(text)
        result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 2
        line = next(n for n, s in enumerate(text.splitlines(), 1) if "purge" in s)
        assert lines(result.stderr) == [
            f"bouncetool: error: {workspace.config}, line {line}: [[contacts]] #1 'action' must be "
            "one of 'clean', 'annotate', not 'purge'"
        ]
        assert not workspace.ledger.exists()

    def test_missing_config_is_status_2(self, tmp_path: Path) -> None:
        result = run_cli(["run", "-c", tmp_path / "nope.toml"])
        assert result.exit_code == 2
        assert "no such configuration file" in result.stderr

    def test_lock_held_is_status_3_at_once(self, workspace: Workspace) -> None:
        lock = workspace.root / "state" / "ledger.sqlite3.lock"
        with RunLock(lock):
            result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 3
        assert lines(result.stderr) == [
            f"bouncetool: error: {lock}: another bouncetool run holds the lock (pid "
            f"{os.getpid()}); gave up"
        ]
        assert not workspace.summary.exists()  # the running run's summary is not ours to write
        log = workspace.log.read_text(encoding="utf-8")
        assert "ERROR run stopped: " in log
        assert "holds the lock" in log

    def test_broken_ledger_is_status_2_and_said_everywhere(self, workspace: Workspace) -> None:
        workspace.ledger.parent.mkdir(parents=True)
        workspace.ledger.write_bytes(b"not a database " * 100)
        original = workspace.contacts.read_bytes()
        result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 2
        (line,) = lines(result.stderr)
        assert line.startswith(f"bouncetool: error: {workspace.ledger}: ")
        failure = json.loads(workspace.summary.read_text(encoding="utf-8"))
        assert (failure["exit_code"], failure["error"]) == (
            2,
            line.removeprefix("bouncetool: error: "),
        )
        assert f"ERROR run stopped: {failure['error']}" in workspace.log.read_text(encoding="utf-8")
        assert workspace.contacts.read_bytes() == original

    def test_wait_for_the_lock(self, workspace: Workspace) -> None:
        lock = RunLock(workspace.root / "state" / "ledger.sqlite3.lock")
        lock.acquire()
        threading.Timer(0.5, lock.release).start()
        result = run_cli(["run", "-c", workspace.config, "--wait", "20"])
        assert result.exit_code == 0, result.stderr


class TestConfigCheck:
    """`config check` says what a run would do, warns about likely failures, exits 2 on mistakes."""

    def test_valid(self, workspace: Workspace) -> None:
        result = run_cli(["config", "check", workspace.config], env={"BT_TEST_PW": ""})
        assert result.exit_code == 0
        assert lines(result.stderr) == [
            f"{workspace.config}: valid: 1 source, 1 contact file, 1 export, "
            f"ledger {workspace.root / 'state' / 'ledger.sqlite3'}"
        ]

    def test_warnings(self, tmp_path: Path) -> None:
        source = 'imap = "imaps://b@mail.example.cz/INBOX"\npassword_env = "BT_UNSET_PW"'
        workspace = make_workspace(tmp_path, sources=[source, 'path = "nope.mbox"'])
        result = run_cli(["config", "check", workspace.config], env={"BT_UNSET_PW": ""})
        assert result.exit_code == 0
        assert (
            "bouncetool: warning: imaps://b@mail.example.cz/INBOX: environment variable "
            "BT_UNSET_PW is not set here; make sure cron or systemd sets it"
        ) in result.stderr
        assert f"bouncetool: warning: source {tmp_path / 'nope.mbox'} does not exist" in (
            result.stderr
        )

    def test_outputs_that_cannot_be_written(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path)
        (tmp_path / "afile").write_text("not a folder")
        (tmp_path / "afolder").mkdir()
        text = workspace.config.read_text(encoding="utf-8")
        text += '\n[[exports]]\npath = "afile/errors.csv"\n\n[[exports]]\npath = "afolder"\n'
        workspace.config.write_text(text, encoding="utf-8")
        result = run_cli(["config", "check", workspace.config])
        assert result.exit_code == 0
        assert lines(result.stderr)[:2] == [
            f"bouncetool: warning: export {tmp_path / 'afile' / 'errors.csv'} cannot be "
            f"written: {tmp_path / 'afile'} is a file, not a folder",
            f"bouncetool: warning: export {tmp_path / 'afolder'} cannot be written: it is a folder",
        ]
        assert lines(result.stderr)[-1].startswith(f"{workspace.config}: valid: ")

    def test_password_file_readable_by_others(self, tmp_path: Path) -> None:
        secret = tmp_path / "imap-password"
        secret.write_text("x\n")
        secret.chmod(0o644)
        source = f'imap = "imaps://b@mail.example.cz/INBOX"\npassword_file = "{secret}"'
        workspace = make_workspace(tmp_path, sources=[source])
        result = run_cli(["config", "check", workspace.config])
        assert result.exit_code == 0
        assert f"password file {secret} can be read by others; chmod 600 it" in result.stderr
        secret.chmod(0o600)
        assert "can be read by others" not in run_cli(["config", "check", workspace.config]).stderr

    def test_every_mistake(self, tmp_path: Path) -> None:
        config = tmp_path / "b.toml"
        config.write_text('state = 1\n[[sources]]\npath = "a"\ncolour = "red"\n')
        result = run_cli(["config", "check", config])
        assert result.exit_code == 2
        assert lines(result.stderr) == [
            f"bouncetool: error: {config}, line 1: 'state' must be a string, not a number",
            f"bouncetool: error: {config}, line 4: [[sources]] #1 unknown key 'colour' "
            "(known here: after_read, allow_plaintext, ca_file, imap, password_env, password_file, "
            "path, read, timeout)",
        ]


@pytest.fixture
def imap_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server's password where the IMAP workspaces look for it."""
    monkeypatch.setenv("BT_TEST_PW", PASSWORD)


class TestWithoutLogFile:
    """Without a log file, stderr still has one line per problem and one summary line."""

    def test_one_line_per_problem(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path, sources=['path = "gone.mbox"'])
        text = workspace.config.read_text(encoding="utf-8")
        kept = [line for line in text.splitlines() if not line.startswith("log_file")]
        workspace.config.write_text("\n".join(kept) + "\n", encoding="utf-8")
        result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 1
        assert lines(result.stderr)[0] == f"bouncetool: {tmp_path / 'gone.mbox'}: cannot open: " + (
            "No such file or directory"
        )
        assert len(lines(result.stderr)) == 2
        assert "; 1 problem; " in lines(result.stderr)[1]

    def test_summary_file_that_cannot_be_written(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path)
        (tmp_path / "afile").write_text("not a folder")
        text = workspace.config.read_text(encoding="utf-8")
        kept = [line for line in text.splitlines() if not line.startswith("summary_file")]
        workspace.config.write_text(
            'summary_file = "afile/summary.json"\n' + "\n".join(kept) + "\n", encoding="utf-8"
        )
        result = run_cli(["run", "-c", workspace.config])
        assert result.exit_code == 2
        assert lines(result.stderr) == [
            f"bouncetool: error: {tmp_path / 'afile' / 'summary.json'}: cannot write the "
            "summary file: File exists"
        ]
        assert not workspace.ledger.exists()
