"""bouncetool.toml: settings become frozen dataclasses; mistakes are named by file and line."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from bouncetool.config import (
    Config,
    ContactFile,
    ContactsAction,
    ExportConfig,
    ExportFormat,
    InvalidConfigError,
    PolicySettings,
    SourceConfig,
    TomlLines,
    load_config,
)
from bouncetool.imap import AfterRead, AfterReadAction
from bouncetool.model import Kind, Lang
from tests.support import PROJECT

FULL = """\
state = "state/ledger.sqlite"
language = "cs"
rules = ["rules/mine.toml"]
log_file = "/var/log/bouncetool.log"
summary_file = "out/summary.json"
lock_file = "run.lock"

[policy]
soft_threshold = 4
window_days = 20
retention_days = 90

[[sources]]
path = "bounces.mbox"

[[sources]]
imap = "imaps://bounces@mail.example.cz/Bounces"
password_file = "secret/imap-pw"
after_read = "move:Processed"
read = "all"

[[contacts]]
path = "contacts.csv"
action = "clean"
removed = "removed.csv"
backup = false
check_syntax = true
check_dns = true
email_column = "E-mail"

[[contacts]]
path = "shop.csv"
action = "annotate"

[[exports]]
path = "errors.jsonl"
format = "jsonl"
kinds = ["hard", "complaint"]
since = "60d"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bouncetool.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value.problems


class TestFullConfig:
    """Every key lands in its dataclass field, with paths relative to the file's folder."""

    def test_everything(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, FULL))
        assert config.state == tmp_path / "state/ledger.sqlite"
        assert config.language is Lang.CS
        assert config.rules == (tmp_path / "rules/mine.toml",)
        assert config.log_file == Path("/var/log/bouncetool.log")
        assert config.summary_file == tmp_path / "out/summary.json"
        assert config.lock_file == tmp_path / "run.lock"
        assert config.policy == PolicySettings(4, 20, 90)
        assert config.sources[0] == SourceConfig(str(tmp_path / "bounces.mbox"))
        mailbox = config.sources[1]
        assert mailbox.spec == "imaps://bounces@mail.example.cz/Bounces"
        assert mailbox.imap is not None
        assert mailbox.imap.password_file == tmp_path / "secret/imap-pw"
        assert mailbox.imap.after_read == AfterRead(AfterReadAction.MOVE, "Processed")
        assert mailbox.imap.unseen_only is False
        assert config.contacts == (
            ContactFile(
                tmp_path / "contacts.csv",
                ContactsAction.CLEAN,
                removed=tmp_path / "removed.csv",
                backup=False,
                check_syntax=True,
                check_dns=True,
                email_column="E-mail",
            ),
            ContactFile(tmp_path / "shop.csv", ContactsAction.ANNOTATE),
        )
        assert config.exports == (
            ExportConfig(
                tmp_path / "errors.jsonl", ExportFormat.JSONL, (Kind.HARD, Kind.COMPLAINT), "60d"
            ),
        )

    def test_frozen(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, FULL))
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.state = None  # type: ignore[misc]

    def test_defaults(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, '[[sources]]\nimap = "imap://u@h"\n'))
        assert config == Config(
            path=tmp_path / "bouncetool.toml", sources=config.sources, policy=PolicySettings()
        )
        assert config.sources[0].imap is not None
        settings = config.sources[0].imap
        assert settings.password_env == "BOUNCETOOL_IMAP_PASSWORD"  # noqa: S105
        assert settings.unseen_only is True
        assert settings.after_read == AfterRead(AfterReadAction.SEEN)
        assert settings.allow_plaintext is False

    def test_allow_plaintext_on_an_imap_source(self, tmp_path: Path) -> None:
        text = '[[sources]]\nimap = "imap://u@h"\nallow_plaintext = true\n'
        settings = load_config(write(tmp_path, text)).sources[0].imap
        assert settings is not None
        assert settings.allow_plaintext is True

    def test_shipped_example_is_valid(self) -> None:
        config = load_config(PROJECT / "examples" / "bouncetool.toml")
        assert config.sources[0].spec == str(PROJECT / "examples" / "bounces.mbox")
        assert config.contacts[0].path == PROJECT / "examples" / "contacts.csv"
        # Everything the example writes stays under examples/out/.
        written = [config.state, config.log_file, config.summary_file, config.lock_file]
        written += [c.output for c in config.contacts] + [e.path for e in config.exports]
        assert all(path and path.parent == PROJECT / "examples" / "out" for path in written)


class TestMistakes:
    """Each mistake is one line naming the file, the line and the key; all are reported at once."""

    def test_syntax_error_names_the_line(self, tmp_path: Path) -> None:
        (problem,) = problems_of(tmp_path, '[[sources]]\npath = "a.mbox\n')
        assert problem.startswith(f"{tmp_path / 'bouncetool.toml'}, line 2: not valid TOML")

    def test_unknown_key_in_a_table_array(self, tmp_path: Path) -> None:
        text = """\
        [[sources]]
        path = "a.mbox"

        [[contacts]]
        path = "a.csv"
        action = "clean"

        [[contacts]]
        path = "b.csv"
        actoin = "clean"
        """
        problems = problems_of(tmp_path, text)
        assert f"{tmp_path / 'bouncetool.toml'}, line 10: [[contacts]] #2 unknown key 'actoin'" in (
            problems[0] + problems[1]
        )

    def test_wrong_types(self, tmp_path: Path) -> None:
        text = """\
        state = 7
        [policy]
        window_days = "30"
        retention_days = true
        [[sources]]
        path = "a.mbox"
        """
        problems = problems_of(tmp_path, text)
        where = tmp_path / "bouncetool.toml"
        assert problems == (
            f"{where}, line 1: 'state' must be a string, not a number",
            f"{where}, line 3: [policy] 'window_days' must be a whole number, not a string",
            f"{where}, line 4: [policy] 'retention_days' must be a whole number, not true/false",
        )

    def test_bad_values(self, tmp_path: Path) -> None:
        text = """\
        language = "de"
        [[sources]]
        imap = "imap://u:secret-pw@h/INBOX"
        [[sources]]
        imap = "imap://u@h/INBOX"
        after_read = "trash"
        [[exports]]
        path = "x.csv"
        kinds = ["hard", "bounced"]
        since = "last week"
        """
        text = "\n".join(problems_of(tmp_path, text))
        assert "line 1: 'language' must be one of 'cs', 'en', not 'de'" in text
        assert "line 3: [[sources]] #1 imap://u@h: a password in the URL" in text
        assert "line 6: [[sources]] #2 after_read 'trash'" in text
        assert "line 9: [[exports]] #1 kind 'bounced' in 'kinds' is not one of hard" in text
        assert "line 10: [[exports]] #1 'since' must be like 60d" in text
        assert "secret-pw" not in text

    def test_source_needs_exactly_one_of_path_and_imap(self, tmp_path: Path) -> None:
        text = '[[sources]]\npath = "a"\nimap = "imap://u@h"\n'
        assert (
            "line 1: [[sources]] #1 give exactly one of 'path' or 'imap'"
            in problems_of(tmp_path, text)[0]
        )

    def test_imap_keys_on_a_path_source(self, tmp_path: Path) -> None:
        text = '[[sources]]\npath = "a"\npassword_env = "X"\n'
        (problem,) = problems_of(tmp_path, text)
        assert "line 3: [[sources]] #1 'password_env' applies to 'imap' sources only" in problem

    def test_allow_plaintext_is_refused_where_it_cannot_apply(self, tmp_path: Path) -> None:
        text = """\
        [[sources]]
        path = "a"
        allow_plaintext = true
        [[sources]]
        imap = "imaps://u@h"
        allow_plaintext = true
        [[sources]]
        imap = "imap://u@h"
        allow_plaintext = "yes"
        """
        assert problems_of(tmp_path, text) == tuple(
            f"{tmp_path / 'bouncetool.toml'}, line {line}: [[sources]] {message}"
            for line, message in [
                (3, "#1 'allow_plaintext' applies to 'imap' sources only"),
                (6, "#2 'allow_plaintext' applies to imap:// only: imaps:// is always TLS"),
                (9, "#3 'allow_plaintext' must be true or false, not a string"),
            ]
        )

    def test_contacts_need_path_and_action(self, tmp_path: Path) -> None:
        text = '[[sources]]\npath = "a"\n[[contacts]]\nemail_column = "mail"\n'
        problems = problems_of(tmp_path, text)
        assert any("line 3: [[contacts]] #1 'path' is required" in p for p in problems)
        assert any("line 3: [[contacts]] #1 'action' is required" in p for p in problems)

    def test_no_sources(self, tmp_path: Path) -> None:
        (problem,) = problems_of(tmp_path, 'state = "x"\n')
        assert "no [[sources]]" in problem

    def test_sources_written_as_a_table(self, tmp_path: Path) -> None:
        problems = problems_of(tmp_path, '[sources]\npath = "a"\n')
        assert any("line 1: 'sources' must be an array of tables" in p for p in problems)

    def test_message_counts_the_rest(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidConfigError, match=r"\(and 1 more\)$"):
            load_config(write(tmp_path, 'state = 1\nlog_file = 2\n[[sources]]\npath = "a"\n'))

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(Exception, match="no such configuration file"):
            load_config(tmp_path / "nope.toml")


class TestTomlLines:
    """Keys are found in the table (or the n-th array item) they belong to."""

    TEXT = 'a = 1\n[t]\na = 2\n[[arr]]\nb = 3\n[[arr]]\n"b" = 4\n'

    @pytest.mark.parametrize(
        ("table", "index", "key", "line"),
        [
            (None, None, "a", 1),
            ("t", None, "a", 3),
            ("arr", 0, "b", 5),
            ("arr", 1, "b", 7),
            ("arr", 1, "zzz", 6),
            (None, None, "t", 2),
            ("nope", None, "a", None),
        ],
    )
    def test_line_of(
        self, table: str | None, index: int | None, key: str, line: int | None
    ) -> None:
        assert TomlLines(self.TEXT).line_of(table, index, key) == line
