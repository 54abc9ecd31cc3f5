"""`bouncetool rules ...` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli


class TestRulesTest:
    """`rules test` explains lines; with `-` and jsonl it prints one verdict per input line."""

    def test_jsonl_one_verdict_per_line(self) -> None:
        lines = ["552 5.1.1 5.2.2 sorry, final recipient mailbox is full (chkuser)", "", "nic"]
        result = run_cli(
            ["rules", "test", "-", "--format", "jsonl"], input="\n".join(lines).encode()
        )
        assert result.exit_code == 0
        verdicts = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(verdicts) == 3
        assert set(verdicts[0]) == {
            "kind",
            "reason",
            "category",
            "blame",
            "rule",
            "matched",
            "explanation",
        }
        assert (verdicts[0]["reason"], verdicts[0]["kind"]) == ("mailboxfull", "soft")

    def test_text_in_czech(self) -> None:
        result = run_cli(["rules", "test", "550 5.1.1 Uživatel neexistuje", "--lang", "cs"])
        assert result.exit_code == 0
        assert "rule user-unknown" in result.stdout
        assert "Adresa příjemce neexistuje" in result.stdout


class TestRulesListShowCheck:
    """`list`, `show` and `check` name rules, files and lines."""

    def test_list_ends_with_catch_all(self) -> None:
        result = run_cli(["rules", "list"])
        assert result.exit_code == 0
        assert result.stdout.splitlines()[-1].startswith("undetermined\t")

    def test_show_unknown_id(self) -> None:
        result = run_cli(["rules", "show", "no-such-rule"])
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            "bouncetool: error: no rule with id 'no-such-rule' (see `bouncetool rules list`)"
        )

    def test_check_reports_file_and_line(self, tmp_path: Path) -> None:
        path = tmp_path / "mine.toml"
        path.write_text(
            '[[rule]]\nid = "a"\nkind = "soft"\nreason = "blocked"\ncategory = "mail-block"\n'
            'blame = "sender"\ncs = "a"\nen = "b"\n\n[[rule]]\nid = "b"\nkind = "hard"\n'
            'reason = "blocked"\ncategory = "mail-block"\nblame = "sender"\ncs = "a"\nen = "b"\n',
            encoding="utf-8",
        )
        result = run_cli(["rules", "check", path])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"bouncetool: error: {path}:10: rule 'b':")

    def test_check_valid_file_and_use_it(self, tmp_path: Path) -> None:
        path = tmp_path / "mine.toml"
        path.write_text(
            '[[rule]]\nid = "shop-says-gone"\ntext = "zakaznik zrusen"\nkind = "hard"\n'
            'reason = "userunknown"\ncategory = "invalid-recipient"\nblame = "recipient"\n'
            'cs = "Zákazník zrušen."\nen = "Customer closed."\n',
            encoding="utf-8",
        )
        assert run_cli(["rules", "check", path]).exit_code == 0
        result = run_cli(
            ["rules", "test", "--rules", path, "550 Zákazník zrušen", "--format", "jsonl"]
        )
        assert json.loads(result.stdout)["rule"] == "shop-says-gone"


class TestCheckSyntax:
    """A rule file that is not TOML at all is named with its line, like any other mistake."""

    def test_syntax_error_line(self, tmp_path: Path) -> None:
        path = tmp_path / "mine.toml"
        path.write_text('[[rule]]\nid = "a"\n[[rule]\n', encoding="utf-8")
        result = run_cli(["rules", "check", path])
        assert result.exit_code == 2
        assert result.stderr == (
            f"bouncetool: error: {path}:3: not valid TOML: "
            "Expected ']]' at the end of an array declaration (column 7)\n"
        )

    def test_missing_and_not_utf8(self, tmp_path: Path) -> None:
        missing = run_cli(["rules", "check", tmp_path / "gone.toml"])
        assert (missing.exit_code, missing.stderr) == (
            2,
            f"bouncetool: error: {tmp_path / 'gone.toml'}: cannot read rule file: "
            "No such file or directory\n",
        )
        latin = tmp_path / "latin.toml"
        latin.write_bytes(b"# ok\n\n\xe9 = 1\n")
        result = run_cli(["rules", "check", latin])
        assert result.stderr == f"bouncetool: error: {latin}:3: not UTF-8 text (byte 0xe9)\n"
