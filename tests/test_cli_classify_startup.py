"""`bouncetool classify` start-up: a helper process reads the rules and plans the tasks.

Whatever did the planning, the output is the same: a large mbox given as a
file (planned by the helper) and the same mbox on standard input (planned
by the main process) give the same bytes, problems and exit status.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_cli
from tests.test_pipeline import dsn, large_messages, write_mbox

RULE = """
[[rule]]
id = "test-bounce-is-soft"
status = ["5.1.1"]
kind = "soft"
reason = "mailboxfull"
category = "mailbox-full"
blame = "recipient"
cs = "Testovací pravidlo."
en = "A test rule."
"""


class TestSameOutputWhoeverPlans:
    """A large mbox read as a file gives byte for byte what it gives on standard input."""

    @pytest.fixture(scope="class")
    @classmethod
    def large(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return write_mbox(tmp_path_factory.mktemp("large") / "large.mbox", large_messages(2500))

    @pytest.mark.parametrize("form", ["jsonl", "csv"])
    def test_file_and_stdin(self, large: Path, form: str) -> None:
        from_file = run_cli(["classify", "--format", form, "--workers", "2", large])
        from_stdin = run_cli(
            ["classify", "--format", form, "--workers", "2", "-"], input=large.read_bytes()
        )
        assert from_file.exit_code == from_stdin.exit_code
        assert from_file.stdout.count("\n") > 2500
        # Standard input is named "-" in the output; everything else is the same.
        assert (
            from_file.stdout
            == from_stdin.stdout.replace('"-"', f'"{large}"').replace("-,", f"{large},")
            or from_file.stdout.replace(str(large), "-") == from_stdin.stdout
        )
        assert from_file.stderr.replace(str(large), "-") == from_stdin.stderr


class TestUserRules:
    """User rule files read by the helper apply; a bad one is one line naming it."""

    def test_user_rule_applies(self, tmp_path: Path) -> None:
        rules = tmp_path / "mine.toml"
        rules.write_text(RULE, encoding="utf-8")
        mbox = write_mbox(tmp_path / "b.mbox", [dsn("dead@example.cz")])
        done = run_cli(["classify", "--format", "jsonl", "--rules", rules, mbox])
        assert done.exit_code == 0, done.stderr
        assert '"rule": "test-bounce-is-soft"' in done.stdout

    def test_bad_rule_file_is_one_line(self, tmp_path: Path) -> None:
        rules = tmp_path / "bad.toml"
        rules.write_text("[[rule]]\nid = 'x'\n", encoding="utf-8")
        mbox = write_mbox(tmp_path / "b.mbox", [dsn("dead@example.cz")])
        done = run_cli(["classify", "--format", "jsonl", "--rules", rules, mbox])
        assert done.exit_code != 0
        assert done.stdout == ""
        assert len(done.stderr.splitlines()) == 1
        assert "bad.toml" in done.stderr
        assert "Traceback" not in done.stderr
