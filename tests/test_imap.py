"""IMAP mailboxes: URLs, passwords, reading without a trace, and settling after the ledger."""

from __future__ import annotations

import dataclasses
import imaplib
import json
import time
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
    is_loopback,
    iter_imap,
    parse_imap_url,
    read_password,
    sequence_set,
)
from bouncetool.model import Problem, RawMessage
from bouncetool.sources import iter_messages
from tests.imapserver import PASSWORD, TLS_HOST, DovecotServer
from tests.mailfactory import dsn, plain_message
from tests.runsetup import make_workspace
from tests.support import PROJECT, run_cli


def settings_for(
    server: DovecotServer, folder: str = "INBOX", *, secure: bool = False, **changes: object
) -> ImapSettings:
    """Settings that reach the test server; the password travels in an env variable."""
    return settings_at(server.url(folder, secure=secure), **changes)


def settings_at(url: str, **changes: object) -> ImapSettings:
    """Settings for `url` with the password in BT_PW, changed by `changes`."""
    base = ImapSettings(parse_imap_url(url), password_env="BT_PW")  # noqa: S106  (a variable's name)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def log_lines_after(server: DovecotServer, start: int, needle: str) -> list[str]:
    """Dovecot's log lines after offset `start` that contain `needle`, waiting up to 5 s.

    Dovecot's log process writes a little after the connection is over.
    """
    deadline = time.monotonic() + 5
    while True:
        found = [line for line in server.log()[start:].splitlines() if needle in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


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
        with pytest.raises(SourceError) as caught:
            ImapMailbox(settings_for(imap_server, secure=True)).__enter__()
        assert str(caught.value) == (
            f"{imap_server.url(secure=True)}: TLS failed: certificate not trusted: "
            "self-signed certificate; name the CA that signed it in ca_file"
        )

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


class TestLoopbackDecision:
    """Only loopback addresses (and the name localhost) count as never leaving the machine."""

    @pytest.mark.parametrize(
        "address",
        ["127.0.0.1", "127.8.9.10", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost"],
    )
    def test_loopback(self, address: str) -> None:
        assert is_loopback(address)

    @pytest.mark.parametrize(
        "address",
        [
            "192.0.2.2",  # an address of this very machine is still on a network
            "10.0.0.1",
            "77.75.79.222",
            "2001:db8::1",
            "fe80::1%eth0",
            "::ffff:192.0.2.2",
            "imap.seznam.cz",
            "localhost.example.cz",
            "127.0.0.1.example.cz",
            "",
        ],
    )
    def test_not_loopback(self, address: str) -> None:
        assert not is_loopback(address)


@pytest.mark.usefixtures("password_env")
class TestStartTls:
    """imap:// upgrades with STARTTLS whenever offered and verifies as imaps:// does."""

    def test_the_server_lets_nobody_log_in_before_starttls(
        self, imap_server: DovecotServer
    ) -> None:
        # What makes the next tests a proof: on this address a login without TLS fails.
        imap = imaplib.IMAP4(TLS_HOST, imap_server.port, timeout=10)
        try:
            assert "STARTTLS" in imap.capabilities
            assert "LOGINDISABLED" in imap.capabilities
        finally:
            imap.shutdown()

    def test_reads_after_the_upgrade(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        start = len(imap_server.log())
        settings = settings_at(imap_server.starttls_url(), ca_file=imap_server.cafile)
        with ImapMailbox(settings) as box:
            assert [m.number for m in box.iter_messages()] == [uid]
        (login,) = log_lines_after(imap_server, start, f"Login: user=<{imap_server.user}>")
        assert f"lip={TLS_HOST}" in login
        assert ", TLS," in login

    def test_allow_plaintext_never_skips_an_offered_starttls(
        self, imap_server: DovecotServer
    ) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        settings = settings_at(
            imap_server.starttls_url(), ca_file=imap_server.cafile, allow_plaintext=True
        )
        with ImapMailbox(settings) as box:
            assert [m.number for m in box.iter_messages()] == [uid]

    def test_untrusted_certificate_is_one_clear_line(self, imap_server: DovecotServer) -> None:
        start = len(imap_server.log())
        with pytest.raises(SourceError) as caught:
            ImapMailbox(settings_at(imap_server.starttls_url())).__enter__()
        assert str(caught.value) == (
            f"{imap_server.starttls_url()}: TLS failed after STARTTLS: certificate not trusted: "
            "self-signed certificate; name the CA that signed it in ca_file"
        )
        # The server saw the certificate rejected, and nothing was tried in the clear instead.
        rejected = log_lines_after(imap_server, start, "alert unknown ca")
        assert rejected, imap_server.log()[start:]
        assert all(f"lip={TLS_HOST}" in line and "no auth attempts" in line for line in rejected)

    def test_missing_ca_file_is_named(self, imap_server: DovecotServer, tmp_path: Path) -> None:
        settings = settings_at(imap_server.starttls_url(), ca_file=tmp_path / "nope.pem")
        with pytest.raises(SourceError, match=r"cannot use the ca_file .*nope\.pem: No such file"):
            ImapMailbox(settings).__enter__()

    def test_ca_file_without_a_certificate_is_named(
        self, imap_server: DovecotServer, tmp_path: Path
    ) -> None:
        (tmp_path / "empty.pem").write_text("not a certificate\n")
        settings = settings_at(imap_server.url(secure=True), ca_file=tmp_path / "empty.pem")
        with pytest.raises(SourceError, match=r"cannot use the ca_file .*empty\.pem"):
            ImapMailbox(settings).__enter__()

    def test_classify_trusts_the_system_store(self, imap_server: DovecotServer) -> None:
        # A bare URL has no ca_file: the system store decides, as for imaps://.
        uid = imap_server.append(dsn("jan@example.cz"))
        url = imap_server.starttls_url()
        env = {"BOUNCETOOL_IMAP_PASSWORD": PASSWORD}
        refused = run_cli(["classify", url, "--format", "jsonl"], env=env)
        assert refused.exit_code == 1
        assert refused.stderr.strip().splitlines() == [
            f"bouncetool: {url}: TLS failed after STARTTLS: certificate not trusted: "
            "self-signed certificate; name the CA that signed it in ca_file"
        ]
        env["SSL_CERT_FILE"] = str(imap_server.cafile)
        trusted = run_cli(["classify", url, "--format", "jsonl"], env=env)
        assert trusted.exit_code == 0, trusted.stderr
        assert [json.loads(line)["message"] for line in trusted.stdout.splitlines()] == [uid]
        assert PASSWORD not in refused.stderr + trusted.stderr + trusted.stdout


@pytest.mark.usefixtures("password_env")
class TestPlainText:
    """Without STARTTLS the password goes only to loopback, unless plain text is allowed."""

    def test_loopback_without_starttls_logs_in(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        with ImapMailbox(settings_for(imap_server)) as box:
            assert "STARTTLS" not in box._require().capabilities
            assert [m.number for m in box.iter_messages()] == [uid]

    def test_other_address_is_refused_before_login(self, imap_server: DovecotServer) -> None:
        url = imap_server.remote_url()
        start = len(imap_server.log())
        with pytest.raises(SourceError) as caught:
            ImapMailbox(settings_at(url)).__enter__()
        assert str(caught.value) == (
            f"{url}: the server offers no STARTTLS and {imap_server.remote_host} is not a "
            "loopback address, so the password would cross the network unencrypted: login "
            "refused; use imaps:// or, on a network you trust, set allow_plaintext = true for "
            "this source"
        )
        # The server saw a connection and no login: the password was never sent.
        seen = log_lines_after(imap_server, start, f"lip={imap_server.remote_host}")
        assert any("no auth attempts" in line for line in seen), imap_server.log()[start:]
        assert not any("Login:" in line or "auth failed" in line for line in seen)

    def test_allowed_plaintext_logs_in(self, imap_server: DovecotServer) -> None:
        uid = imap_server.append(dsn("jan@example.cz"))
        with ImapMailbox(settings_at(imap_server.remote_url(), allow_plaintext=True)) as box:
            assert [m.number for m in box.iter_messages()] == [uid]

    def test_classify_says_it_in_one_line(self, imap_server: DovecotServer) -> None:
        url = imap_server.remote_url()
        result = run_cli(["classify", url], env={"BOUNCETOOL_IMAP_PASSWORD": PASSWORD})
        assert result.exit_code == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"bouncetool: {url}: the server offers no STARTTLS")
        assert PASSWORD not in result.stderr + result.stdout


class TestRunConfiguration:
    """`ca_file` and `allow_plaintext` in bouncetool.toml reach the mailbox a run reads."""

    def test_starttls_with_ca_file_and_plaintext_when_allowed(
        self, imap_server: DovecotServer, tmp_path: Path
    ) -> None:
        remote = imap_server.remote_url()  # skips first when this machine has no such address
        imap_server.append(dsn("jan.novak@example.cz"))
        common = 'password_env = "BT_TEST_PW"\nafter_read = "keep"'
        starttls = make_workspace(
            tmp_path / "starttls",
            sources=[
                f'imap = "{imap_server.starttls_url()}"\nca_file = "{imap_server.cafile}"\n{common}'
            ],
        )
        plain = make_workspace(
            tmp_path / "plain", sources=[f'imap = "{remote}"\nallow_plaintext = true\n{common}']
        )
        for workspace in (starttls, plain):
            result = run_cli(["run", "-c", workspace.config], env={"BT_TEST_PW": PASSWORD})
            assert result.exit_code == 0, result.stderr
            assert result.stderr.startswith("bouncetool run: 1 messages read;"), result.stderr
