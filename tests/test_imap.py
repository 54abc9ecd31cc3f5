"""IMAP mailboxes: URLs, passwords, reading without a trace, and settling after the ledger."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bouncetool import imap
from bouncetool.errors import ConfigError, SourceError
from bouncetool.imap import (
    AfterRead,
    AfterReadAction,
    ImapLocation,
    ImapMailbox,
    ImapSettings,
    encode_modified_utf7,
    is_imap_url,
    iter_imap,
    parse_imap_url,
    read_password,
    sequence_set,
)
from bouncetool.model import Problem, RawMessage
from bouncetool.sources import iter_messages
from tests.imapserver import PASSWORD, DovecotServer
from tests.mailfactory import dsn, plain_message
from tests.support import PROJECT, run_cli


def settings_for(
    server: DovecotServer, folder: str = "INBOX", *, secure: bool = False, **changes: object
) -> ImapSettings:
    """Settings that reach the test server; the password travels in an env variable."""
    location = parse_imap_url(server.url(folder, secure=secure))
    base = ImapSettings(location, password_env="BT_PW")  # noqa: S106  (a variable's name)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server's password in BT_PW and BOUNCETOOL_IMAP_PASSWORD."""
    monkeypatch.setenv("BT_PW", PASSWORD)
    monkeypatch.setenv("BOUNCETOOL_IMAP_PASSWORD", PASSWORD)


class TestUrls:
    """IMAP URLs name server, user, port and folder; the canonical form carries no secret."""

    def test_full_url(self) -> None:
        where = parse_imap_url("imaps://bounce%40example.cz@mail.example.cz:1993/Bounces/2026")
        assert where == ImapLocation(
            True, "bounce@example.cz", "mail.example.cz", 1993, "Bounces/2026"
        )

    def test_defaults(self) -> None:
        assert parse_imap_url("imap://bounces@localhost") == ImapLocation(
            False, "bounces", "localhost", 143, "INBOX"
        )
        assert parse_imap_url("imaps://u@h/INBOX").port == 993

    def test_url_round_trip_omits_default_port(self) -> None:
        assert parse_imap_url("imaps://u@h:993/X").url == "imaps://u@h/X"
        assert parse_imap_url("imap://u@h:1143/X").url == "imap://u@h:1143/X"

    def test_percent_encoded_folder(self) -> None:
        assert parse_imap_url("imap://u@h/Nedoru%C4%8Diteln%C3%A9").folder == "Nedoručitelné"

    @pytest.mark.parametrize("spec", ["imap://u@h/X", "IMAPS://u@h", "imaps://u@h:1/"])
    def test_recognised(self, spec: str) -> None:
        assert is_imap_url(spec)

    @pytest.mark.parametrize("spec", ["bounces.mbox", "imap.mbox", "-", "http://x/y", "imap:x"])
    def test_not_imap(self, spec: str) -> None:
        assert not is_imap_url(spec)


class TestUrlRefusals:
    """A URL with a password, a missing user or host, or a foreign scheme is refused clearly."""

    def test_password_in_url_is_refused_without_echoing_it(self) -> None:
        with pytest.raises(SourceError) as caught:
            parse_imap_url("imaps://bounces:Hunter2secret@mail.example.cz/INBOX")
        assert "Hunter2secret" not in str(caught.value)
        assert "BOUNCETOOL_IMAP_PASSWORD" in str(caught.value)

    @pytest.mark.parametrize("url", ["imap://mail.example.cz/INBOX", "imap://u@/INBOX"])
    def test_user_and_host_needed(self, url: str) -> None:
        with pytest.raises(SourceError, match="needs a user and a host"):
            parse_imap_url(url)

    def test_other_scheme(self) -> None:
        with pytest.raises(SourceError, match="not an IMAP URL"):
            parse_imap_url("pop3://u@h/INBOX")


class TestAfterRead:
    """The after-read setting is one of seen, move:FOLDER, delete or keep."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("seen", AfterRead(AfterReadAction.SEEN)),
            ("keep", AfterRead(AfterReadAction.KEEP)),
            ("delete", AfterRead(AfterReadAction.DELETE)),
            ("move:Processed/Bounces", AfterRead(AfterReadAction.MOVE, "Processed/Bounces")),
            (" MOVE: Done ", AfterRead(AfterReadAction.MOVE, "Done")),
        ],
    )
    def test_parse(self, text: str, expected: AfterRead) -> None:
        assert AfterRead.parse(text) == expected
        assert AfterRead.parse(str(expected)) == expected

    @pytest.mark.parametrize("text", ["trash", "move", "move:", "seen:Done", ""])
    def test_refused(self, text: str) -> None:
        with pytest.raises(ConfigError, match="after_read"):
            AfterRead.parse(text)


class TestPassword:
    """The password comes from a file when one is named, else from the environment variable."""

    def test_from_named_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MY_PW", "from-env")
        settings = ImapSettings(parse_imap_url("imap://u@h"), password_env="MY_PW")  # noqa: S106
        assert read_password(settings) == "from-env"

    def test_from_file_without_trailing_newline(self, tmp_path: Path) -> None:
        (tmp_path / "pw").write_text("from file \n")
        settings = ImapSettings(parse_imap_url("imap://u@h"), password_file=tmp_path / "pw")
        assert read_password(settings) == "from file "

    def test_missing_variable_names_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BOUNCETOOL_IMAP_PASSWORD", raising=False)
        with pytest.raises(SourceError, match="environment variable BOUNCETOOL_IMAP_PASSWORD"):
            read_password(ImapSettings(parse_imap_url("imap://u@h")))

    def test_missing_file_names_it(self, tmp_path: Path) -> None:
        settings = ImapSettings(parse_imap_url("imap://u@h"), password_file=tmp_path / "nope")
        with pytest.raises(SourceError, match=r"cannot read the password file .*nope"):
            read_password(settings)


class TestSequenceSets:
    """UID lists travel as compact IMAP sequence sets."""

    @pytest.mark.parametrize(
        ("uids", "text"),
        [([1], "1"), ([1, 2, 3], "1:3"), ([1, 2, 4, 6, 7], "1:2,4,6:7"), ([5, 9], "5,9")],
    )
    def test_compact(self, uids: list[int], text: str) -> None:
        assert sequence_set(uids) == text


class TestModifiedUtf7:
    """Folder names outside ASCII are sent in RFC 3501's modified UTF-7."""

    @pytest.mark.parametrize(
        ("name", "encoded"),
        [("INBOX", "INBOX"), ("A&B", "A&-B"), ("Nedoručitelné", "Nedoru&AQ0-iteln&AOk-")],
    )
    def test_encode(self, name: str, encoded: str) -> None:
        assert encode_modified_utf7(name) == encoded


@pytest.mark.usefixtures("password_env")
class TestReading:
    """Reading yields unseen messages numbered by UID and leaves the mailbox exactly as it was."""

    def test_reads_only_unseen_and_marks_nothing(self, imap_server: DovecotServer) -> None:
        imap_server.append(dsn("old@example.cz"), seen=True)
        first = imap_server.append(dsn("jan@example.cz"))
        second = imap_server.append(plain_message())
        with ImapMailbox(settings_for(imap_server)) as box:
            messages = list(box.iter_messages())
        assert [m.number for m in messages] == [first, second]
        assert messages[0].data == dsn("jan@example.cz")
        assert {m.source for m in messages} == {imap_server.url()}
        assert imap_server.uids(criteria="UNSEEN") == [first, second]

    def test_reads_all_when_asked(self, imap_server: DovecotServer) -> None:
        imap_server.append(dsn("old@example.cz"), seen=True)
        imap_server.append(dsn("jan@example.cz"))
        with ImapMailbox(settings_for(imap_server, unseen_only=False)) as box:
            assert len(list(box.iter_messages())) == 2

    def test_many_messages_in_batches(self, imap_server: DovecotServer) -> None:
        uids = imap_server.append_all(dsn(f"u{n}@example.cz") for n in range(120))
        with ImapMailbox(settings_for(imap_server)) as box:
            assert [m.number for m in box.iter_messages()] == uids

    def test_oversized_message_is_a_problem_and_never_fetched(
        self, imap_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        small = imap_server.append(dsn("jan@example.cz"))
        big = imap_server.append(
            dsn("eva@example.cz", also=[f"x{n}@example.cz" for n in range(30)])
        )
        limit = len(dsn("jan@example.cz")) + 10
        monkeypatch.setattr(imap, "MAX_MESSAGE_BYTES", limit)
        with ImapMailbox(settings_for(imap_server)) as box:
            got = list(box.iter_messages())
        assert [type(item) for item in got] == [RawMessage, Problem], got
        assert got[0].number == small
        assert isinstance(got[1], Problem)
        expected = f"message larger than {limit:,} bytes: skipped"
        assert (got[1].message, got[1].error) == (big, expected)

    def test_batches_are_bounded_by_bytes(
        self, imap_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        uids = imap_server.append_all(dsn(f"u{n}@example.cz") for n in range(7))
        monkeypatch.setattr(imap, "FETCH_BYTES", 3 * len(dsn("u0@example.cz")))
        fetched: list[int] = []
        real = ImapMailbox._fetch

        def spy(self: ImapMailbox, batch: list[int]) -> object:
            fetched.append(len(batch))
            return real(self, batch)

        monkeypatch.setattr(ImapMailbox, "_fetch", spy)
        with ImapMailbox(settings_for(imap_server)) as box:
            assert [m.number for m in box.iter_messages()] == uids
        assert fetched == [3, 3, 1]

    def test_iter_imap_reads_a_bare_url(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        assert [m.number for m in iter_imap(imap_server.url())] == [uid]
        assert imap_server.uids(criteria="UNSEEN") == [uid]

    def test_folder_with_czech_name(self, imap_server: DovecotServer) -> None:
        imap_server.append(dsn("jan@example.cz"), folder="Nedoru&AQ0-iteln&AOk-")
        with ImapMailbox(settings_for(imap_server, "Nedoručitelné")) as box:
            assert len(list(box.iter_messages())) == 1

    def test_imaps_with_the_servers_certificate(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        settings = settings_for(imap_server, secure=True, ca_file=imap_server.cafile)
        with ImapMailbox(settings) as box:
            assert [m.number for m in box.iter_messages()] == [uid]


@pytest.mark.usefixtures("password_env")
class TestReadFailures:
    """An unreachable server, a wrong password or an untrusted certificate is one clear error."""

    def test_wrong_password(
        self, imap_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BT_PW", "Wrong-Pw-42")
        with pytest.raises(SourceError, match="login refused for bounces") as caught:
            ImapMailbox(settings_for(imap_server)).__enter__()
        assert "Wrong-Pw-42" not in str(caught.value)

    def test_untrusted_certificate(self, imap_server: DovecotServer) -> None:
        with pytest.raises(SourceError, match="TLS failed"):
            ImapMailbox(settings_for(imap_server, secure=True)).__enter__()

    def test_connection_refused(self, imap_server: DovecotServer) -> None:
        settings = dataclasses.replace(
            settings_for(imap_server), location=parse_imap_url("imap://u@127.0.0.1:1/INBOX")
        )
        with pytest.raises(SourceError, match=r"imap://u@127\.0\.0\.1:1/INBOX: cannot connect"):
            ImapMailbox(settings).__enter__()

    def test_missing_folder(self, imap_server: DovecotServer) -> None:
        with pytest.raises(SourceError, match="cannot open folder 'Nope'"):
            ImapMailbox(settings_for(imap_server, "Nope")).__enter__()


@pytest.mark.usefixtures("password_env")
class TestSettle:
    """After the ledger commit, exactly the messages read are marked seen, moved or deleted."""

    def read(self, server: DovecotServer, after: str) -> tuple[ImapSettings, int, list[int]]:
        settings = settings_for(server, after_read=AfterRead.parse(after))
        with ImapMailbox(settings) as box:
            return settings, box.uidvalidity, [m.number for m in box.iter_messages()]

    def test_seen_marks_only_what_was_read(self, imap_server: DovecotServer) -> None:
        read_uid = imap_server.append(dsn("jan@example.cz"))
        settings, validity, uids = self.read(imap_server, "seen")
        later = imap_server.append(dsn("eva@example.cz"))  # arrived after the read
        with ImapMailbox(settings, writable=True) as box:
            assert box.settle(uids, validity) == 1
        assert imap_server.uids(criteria="UNSEEN") == [later]
        assert imap_server.uids(criteria="SEEN") == [read_uid]

    def test_move_to_a_new_folder(self, imap_server: DovecotServer) -> None:
        imap_server.append(dsn("jan@example.cz"))
        imap_server.append(dsn("eva@example.cz"))
        settings, validity, uids = self.read(imap_server, "move:Processed/Bounces")
        with ImapMailbox(settings, writable=True) as box:
            box.settle(uids, validity)
        assert imap_server.uids() == []
        assert len(imap_server.uids("Processed/Bounces", "SEEN")) == 2

    def test_delete_only_when_asked_and_only_those(self, imap_server: DovecotServer) -> None:
        imap_server.append(dsn("jan@example.cz"))
        settings, validity, uids = self.read(imap_server, "delete")
        later = imap_server.append(dsn("eva@example.cz"))
        with ImapMailbox(settings, writable=True) as box:
            box.settle(uids, validity)
        assert imap_server.uids() == [later]

    def test_keep_changes_nothing(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        settings, validity, uids = self.read(imap_server, "keep")
        with ImapMailbox(settings, writable=True) as box:
            assert box.settle(uids, validity) == 0
        assert imap_server.uids(criteria="UNSEEN") == [uid]

    def test_changed_uidvalidity_changes_nothing(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        settings, validity, uids = self.read(imap_server, "seen")
        with ImapMailbox(settings, writable=True) as box:
            assert box.settle(uids, validity + 1) == 0
        assert imap_server.uids(criteria="UNSEEN") == [uid]


@pytest.mark.usefixtures("password_env")
class TestAsASource:
    """An IMAP URL works wherever a source does: `iter_messages` and `bouncetool classify`."""

    def test_iter_messages_dispatches_on_the_scheme(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        (message,) = iter_messages(imap_server.url())
        assert isinstance(message, RawMessage)
        assert (message.source, message.number) == (imap_server.url(), uid)

    def test_unreachable_mailbox_is_a_problem(self, imap_server: DovecotServer) -> None:
        (problem,) = iter_messages("imap://u@127.0.0.1:1/INBOX")
        assert isinstance(problem, Problem)
        assert problem.describe().startswith("imap://u@127.0.0.1:1/INBOX: cannot connect")

    def test_same_records_as_from_the_file(self, imap_server: DovecotServer) -> None:
        example = PROJECT / "examples" / "bounces.mbox"
        messages = [m for m in iter_messages(str(example)) if isinstance(m, RawMessage)]
        imap_server.append_all(message.data for message in messages)
        env = {"BOUNCETOOL_IMAP_PASSWORD": PASSWORD}
        from_file = run_cli(["classify", example, "--format", "jsonl"], env=env)
        from_imap = run_cli(["classify", imap_server.url(), "--format", "jsonl"], env=env)
        assert from_imap.exit_code == from_file.exit_code == 0, from_imap.stderr

        def records(output: str) -> list[dict[str, object]]:
            found = [json.loads(line) for line in output.splitlines()]
            return [{k: v for k, v in r.items() if k not in ("source", "message")} for r in found]

        assert len(messages) > 5
        assert records(from_imap.stdout) == records(from_file.stdout)

    def test_classify_reads_without_marking(self, imap_server: DovecotServer) -> None:
        uids = imap_server.append_all([dsn("jan@example.cz"), dsn("eva@example.cz")])
        result = run_cli(
            ["classify", imap_server.url(), "--format", "jsonl"],
            env={"BOUNCETOOL_IMAP_PASSWORD": PASSWORD},
        )
        assert result.exit_code == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(r["source"], r["message"], r["recipient"]) for r in records] == [
            (imap_server.url(), uids[0], "jan@example.cz"),
            (imap_server.url(), uids[1], "eva@example.cz"),
        ]
        assert imap_server.uids(criteria="UNSEEN") == uids
        assert PASSWORD not in result.stdout + result.stderr
