"""Messages that cannot be parsed are kept aside, byte for byte, once; never lost, never doubled."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest

from bouncetool.config import load_config
from bouncetool.errors import OutputError
from bouncetool.model import Lang, Problem
from bouncetool.pipeline import SMALL_INPUT, iter_encoded, iter_records
from bouncetool.quarantine import Quarantine, file_name, source_label
from bouncetool.render import LineEncoder, OutputFormat
from bouncetool.runner import run, sweep_leftovers
from tests.imapserver import PASSWORD, DovecotServer
from tests.mailfactory import dsn
from tests.runsetup import make_workspace
from tests.support import run_cli

GOOD = (dsn("jan.novak@example.cz"), dsn("petr@seznam.cz"))
# A zip given as a mailbox: every byte value, no header field, so the extractor refuses it.
NOT_MAIL = b"PK\x03\x04\x14\x00\x08\x00" + bytes(range(256)) + b"\n"
# What reaches an IMAP bounce mailbox that is not mail: text, Czech, CRLF (Dovecot stores it as is).
NOT_MAIL_IMAP = "Tohle není e-mail,\r\nale text uložený do schránky.\r\n".encode()
REFUSED = "not an email message: it does not start with header fields"


def digest(data: bytes) -> str:
    """The short hash a kept file's name ends with."""
    return hashlib.sha256(data).hexdigest()[:12]


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    """`messages` as an LF mbox (each has LF line ends and no ``From `` line start)."""
    with path.open("wb") as out:
        for message in messages:
            body = message.replace(b"\r\n", b"\n")
            out.write(b"From MAILER-DAEMON Fri Nov 20 08:30:00 2026\n" + body + b"\n")
    return path


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


class TestQuarantineFolder:
    """`Quarantine.keep` writes a message's bytes once, under a name saying where it came from."""

    def test_bytes_and_name(self, tmp_path: Path) -> None:
        kept = Quarantine(tmp_path / "q").keep(Problem("/in/bounces.mbox", 17, "bad", NOT_MAIL))
        assert kept.new
        assert kept.path == tmp_path / "q" / f"bounces.mbox.msg17.{digest(NOT_MAIL)}.eml"
        assert kept.path.read_bytes() == NOT_MAIL
        assert [p.name for p in kept.path.parent.iterdir()] == [kept.path.name]  # no temp left

    def test_same_bytes_kept_once_whatever_their_number(self, tmp_path: Path) -> None:
        first = Quarantine(tmp_path).keep(Problem("a.mbox", 2, "bad", NOT_MAIL))
        # A later run (a new Quarantine) meets the same message, renumbered.
        again = Quarantine(tmp_path).keep(Problem("a.mbox", 5, "bad", NOT_MAIL))
        assert (again.path, again.new) == (first.path, False)
        other = Quarantine(tmp_path).keep(Problem("a.mbox", 2, "bad", NOT_MAIL + b"x"))
        assert other.new
        assert len(list(tmp_path.iterdir())) == 2

    def test_a_deleted_file_is_written_again(self, tmp_path: Path) -> None:
        quarantine = Quarantine(tmp_path)
        first = quarantine.keep(Problem("a.mbox", 2, "bad", NOT_MAIL))
        first.path.unlink()
        assert quarantine.keep(Problem("a.mbox", 2, "bad", NOT_MAIL)).new
        assert first.path.read_bytes() == NOT_MAIL

    @pytest.mark.parametrize(
        ("source", "number", "expected"),
        [
            ("-", 1, "stdin.msg1"),
            (
                "imaps://bounces@mail.example.cz/INBOX",
                4711,
                "bounces@mail.example.cz-INBOX.uid4711",
            ),
            (
                "imap://bounces@127.0.0.1:1143/Bounces/2026",
                3,
                "bounces@127.0.0.1-Bounces_2026.uid3",
            ),
            ("/home/x/Maildir/.Bounces/cur/1700.M1P2.host:2,S", 1, "1700.M1P2.host_2_S.msg1"),
            ("/home/x/.hidden mbox", 9, "hidden_mbox.msg9"),
        ],
    )
    def test_names_say_where(self, source: str, number: int, expected: str) -> None:
        assert file_name(source, number, "0123456789ab") == f"{expected}.0123456789ab.eml"

    def test_label_is_short(self) -> None:
        assert len(source_label("/x/" + "a" * 300)) == 80

    def test_folder_that_cannot_be_made(self, tmp_path: Path) -> None:
        (tmp_path / "afile").write_text("not a folder")
        with pytest.raises(OutputError, match=r"cannot write .*afile/a\.mbox\.msg1\..*\.eml"):
            Quarantine(tmp_path / "afile").keep(Problem("a.mbox", 1, "bad", NOT_MAIL))

    def test_nothing_to_keep(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="nothing to keep aside"):
            Quarantine(tmp_path).keep(Problem("a.mbox", None, "cannot open"))


class TestBytesTravelWithTheProblem:
    """A parse failure's Problem carries the message's bytes, also out of worker processes."""

    def test_problem_equality_ignores_the_bytes(self) -> None:
        problem = Problem("a.mbox", 1, "bad", NOT_MAIL)
        assert problem == Problem("a.mbox", 1, "bad")
        assert pickle.loads(pickle.dumps(problem)).data == NOT_MAIL  # noqa: S301  (our own bytes)
        assert "PK" not in repr(problem)

    def test_from_workers(self, tmp_path: Path) -> None:
        count = SMALL_INPUT // min(map(len, GOOD)) + 200
        messages = [GOOD[n % 2] for n in range(count)]
        messages[1234] = NOT_MAIL
        mbox = write_mbox(tmp_path / "large.mbox", messages)
        assert mbox.stat().st_size > SMALL_INPUT  # parsed in worker processes, not here
        encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
        for items in (
            list(iter_records([str(mbox)], workers=2)),
            list(iter_encoded([str(mbox)], encoder, workers=2)),
        ):
            (problem,) = [item for item in items if isinstance(item, Problem)]
            assert (problem.message, problem.error, problem.data) == (1235, REFUSED, NOT_MAIL)
            assert len(items) == count

    def test_unreadable_sources_carry_nothing(self, tmp_path: Path) -> None:
        (problem,) = iter_records([str(tmp_path / "missing.mbox")], workers=1)
        assert isinstance(problem, Problem)
        assert problem.data is None


class TestClassify:
    """``classify --quarantine DIR`` keeps bad messages aside; by default it writes nothing."""

    def test_good_bad_good(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "bounces.mbox", [GOOD[0], NOT_MAIL, GOOD[1]])
        aside = tmp_path / "aside"
        command = ["classify", "--format", "jsonl", "--quarantine", aside, mbox]
        result = run_cli(command)
        assert result.exit_code == 1
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(row["message"], row["recipient"]) for row in rows] == [
            (1, "jan.novak@example.cz"),
            (3, "petr@seznam.cz"),
        ]
        kept = aside / f"bounces.mbox.msg2.{digest(NOT_MAIL)}.eml"
        assert kept.read_bytes() == NOT_MAIL
        assert result.stderr == f"bouncetool: {mbox}, message 2: {REFUSED} (kept aside as {kept})\n"
        again = run_cli(command)
        assert (again.exit_code, again.stdout, again.stderr) == (1, result.stdout, result.stderr)
        assert list(aside.iterdir()) == [kept]

    def test_standard_input(self, tmp_path: Path) -> None:
        result = run_cli(["classify", "--quarantine", tmp_path, "-"], input=NOT_MAIL)
        assert result.exit_code == 1
        kept = tmp_path / f"stdin.msg1.{digest(NOT_MAIL)}.eml"
        assert kept.read_bytes() == NOT_MAIL
        assert f"(kept aside as {kept})" in result.stderr

    def test_read_only_by_default(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "bounces.mbox", [GOOD[0], NOT_MAIL, GOOD[1]])
        result = run_cli(["classify", "--format", "jsonl", mbox], cwd=tmp_path)
        assert result.exit_code == 1
        assert result.stderr == f"bouncetool: {mbox}, message 2: {REFUSED}\n"
        assert list(tmp_path.iterdir()) == [mbox]

    def test_folder_that_cannot_be_written(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "bounces.mbox", [GOOD[0], NOT_MAIL])
        (tmp_path / "afile").write_text("not a folder")
        result = run_cli(["classify", "--quarantine", tmp_path / "afile" / "q", mbox])
        assert result.exit_code == 1
        assert f"message 2: {REFUSED} (not kept aside: cannot write {tmp_path}/afile/q/" in (
            result.stderr
        )
        assert len(lines(result.stdout)) == 1


class TestIngest:
    """``ingest --quarantine DIR`` keeps bad messages aside too; the good ones reach the ledger."""

    def test_good_bad_good(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "bounces.mbox", [GOOD[0], NOT_MAIL, GOOD[1]])
        aside, ledger = tmp_path / "aside", tmp_path / "ledger.sqlite"
        command = ["ingest", "--state", ledger, "--quarantine", aside, mbox]
        result = run_cli(command)
        assert result.exit_code == 1
        kept = aside / f"bounces.mbox.msg2.{digest(NOT_MAIL)}.eml"
        assert kept.read_bytes() == NOT_MAIL
        first, summary = lines(result.stderr)
        assert first == f"bouncetool: {mbox}, message 2: {REFUSED} (kept aside as {kept})"
        assert summary.startswith(f"read 2 records into {ledger}: 2 new, 0 already in the ledger")
        assert summary.endswith("; 1 problem (see above)")
        again = run_cli(command)
        assert lines(again.stderr)[0] == first
        assert "0 new, 2 already in the ledger" in again.stderr
        assert list(aside.iterdir()) == [kept]

    def test_read_only_by_default(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "bounces.mbox", [GOOD[0], NOT_MAIL])
        result = run_cli(["ingest", "--state", tmp_path / "ledger.sqlite", mbox], cwd=tmp_path)
        assert result.exit_code == 1
        assert lines(result.stderr)[0] == f"bouncetool: {mbox}, message 2: {REFUSED}"
        assert sorted(path.name for path in tmp_path.iterdir()) == ["bounces.mbox", "ledger.sqlite"]


class TestRunFromFiles:
    """``run`` keeps a bad message aside beside the ledger, reports it once, counts it."""

    def test_good_bad_good_then_again(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path)
        write_mbox(tmp_path / "bounces.mbox", [GOOD[0], NOT_MAIL, GOOD[1]])
        folder = tmp_path / "state" / "quarantine"
        kept = folder / f"bounces.mbox.msg2.{digest(NOT_MAIL)}.eml"
        first = run_cli(["run", "-c", workspace.config])
        assert first.exit_code == 1
        assert lines(first.stderr)[0] == (
            f"bouncetool: {tmp_path / 'bounces.mbox'}, message 2: {REFUSED} (kept aside as {kept})"
        )
        assert f"; 1 unparseable message kept aside in {folder}; 1 problem; " in first.stderr
        assert kept.read_bytes() == NOT_MAIL
        summary = json.loads(workspace.summary.read_text(encoding="utf-8"))
        assert (summary["messages"], summary["bounces"], summary["exit_code"]) == (
            3,
            {"hard": 2},
            1,
        )
        assert (summary["quarantine"], summary["quarantined"]) == (str(folder), 1)
        assert f"(kept aside as {kept})" in workspace.log.read_text(encoding="utf-8")
        # The next night reads the same mbox: nothing new to report, nothing doubled.
        second = run_cli(["run", "-c", workspace.config])
        assert second.exit_code == 0, second.stderr
        assert lines(second.stderr) == [lines(second.stderr)[-1]]
        assert f"1 unparseable message kept aside in {folder} (1 already there)" in second.stderr
        assert list(folder.iterdir()) == [kept]
        again = json.loads(workspace.summary.read_text(encoding="utf-8"))
        assert (again["quarantined"], again["already_quarantined"], again["problems"]) == (0, 1, [])

    def test_configured_folder(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path, extra='quarantine = "aside"')
        write_mbox(tmp_path / "bounces.mbox", [NOT_MAIL])
        summary = run(load_config(workspace.config))
        (kept,) = (tmp_path / "aside").iterdir()
        assert kept.read_bytes() == NOT_MAIL
        assert summary.quarantine == str(tmp_path / "aside")
        assert not (tmp_path / "state" / "quarantine").exists()

    def test_no_folder_without_bad_messages(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path)
        summary = run(load_config(workspace.config))
        assert (summary.exit_code, summary.quarantined) == (0, 0)
        assert "kept aside" not in summary.line()
        assert not (tmp_path / "state" / "quarantine").exists()

    def test_half_written_copy_of_a_dead_run_is_swept(self, tmp_path: Path) -> None:
        workspace = make_workspace(tmp_path)
        folder = tmp_path / "state" / "quarantine"
        folder.mkdir(parents=True)
        leftover = folder / ".bounces.mbox.msg2.0123456789ab.eml.k3j4.tmp"
        leftover.write_bytes(NOT_MAIL[:10])
        kept = folder / "bounces.mbox.msg1.0123456789ab.eml"
        kept.write_bytes(NOT_MAIL)
        assert sweep_leftovers(load_config(workspace.config)) == [leftover]
        assert list(folder.iterdir()) == [kept]

    def test_config_check_warns(self, tmp_path: Path) -> None:
        (tmp_path / "afile").write_text("not a folder")
        workspace = make_workspace(tmp_path, extra='quarantine = "afile"')
        result = run_cli(["config", "check", workspace.config])
        assert result.exit_code == 0
        assert (
            f"bouncetool: warning: quarantine folder {tmp_path / 'afile'} cannot be written: "
            "it is a file, not a folder"
        ) in result.stderr


@pytest.fixture
def imap_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server's password where the IMAP workspaces look for it."""
    monkeypatch.setenv("BT_TEST_PW", PASSWORD)


def imap_config(root: Path, server: DovecotServer, after: str = "seen") -> Path:
    source = f'imap = "{server.url()}"\npassword_env = "BT_TEST_PW"\nafter_read = "{after}"'
    return make_workspace(root, sources=[source]).config


@pytest.mark.usefixtures("imap_password")
class TestRunFromImap:
    """A bad IMAP message is settled like the others only once its bytes are safely aside."""

    def test_good_bad_good(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        uids = imap_server.append_all([GOOD[0], NOT_MAIL_IMAP, GOOD[1]])
        summary = run(load_config(imap_config(tmp_path, imap_server)))
        folder = tmp_path / "state" / "quarantine"
        kept = folder / f"bounces@127.0.0.1-INBOX.uid{uids[1]}.{digest(NOT_MAIL_IMAP)}.eml"
        assert kept.read_bytes() == NOT_MAIL_IMAP
        assert summary.problems == (
            f"{imap_server.url()}, message {uids[1]}: {REFUSED} (kept aside as {kept})",
        )
        assert (summary.new_events, summary.quarantined, summary.exit_code) == (2, 1, 1)
        assert summary.settled == {"marked read": 3}
        assert imap_server.uids(criteria="UNSEEN") == []
        again = run(load_config(imap_config(tmp_path, imap_server)))
        assert (again.messages, again.exit_code) == (0, 0)
        assert list(folder.iterdir()) == [kept]

    def test_moved_with_the_others(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        imap_server.append_all([GOOD[0], NOT_MAIL_IMAP])
        summary = run(load_config(imap_config(tmp_path, imap_server, "move:Processed")))
        assert summary.settled == {"moved": 2}
        assert len(imap_server.uids("Processed")) == 2
        assert len(list((tmp_path / "state" / "quarantine").iterdir())) == 1

    def test_killed_before_settling(self, tmp_path: Path, imap_server: DovecotServer) -> None:
        # Kept aside, then killed before the mailbox was touched: the next run reads
        # the message again, finds its bytes already aside, and settles it.
        uids = imap_server.append_all([GOOD[0], NOT_MAIL_IMAP])
        config = imap_config(tmp_path, imap_server)
        env = {"BT_TEST_PW": PASSWORD}
        killed = run_cli(["run", "-c", config], env={**env, "BOUNCETOOL_KILL_AT": "settle"})
        assert killed.exit_code == -9
        folder = tmp_path / "state" / "quarantine"
        assert len(list(folder.iterdir())) == 1
        assert imap_server.uids(criteria="UNSEEN") == uids
        rerun = run_cli(["run", "-c", config], env=env)
        assert rerun.exit_code == 0, rerun.stderr
        assert "2 marked read; 1 unparseable message kept aside" in rerun.stderr
        assert imap_server.uids(criteria="UNSEEN") == []
        assert len(list(folder.iterdir())) == 1
