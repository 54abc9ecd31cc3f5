"""README documents `run`, `config check` and every key of bouncetool.toml."""

from __future__ import annotations

import re

from tests.support import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


class TestDocumented:
    """The commands table and the "Unattended runs" section cover what users configure."""

    def test_commands_rows(self) -> None:
        commands = section("Commands")
        assert "| `bouncetool run --config FILE" in commands
        assert "| `bouncetool config check FILE`" in commands

    def test_every_example_key_is_documented(self) -> None:
        example = (PROJECT / "examples" / "bouncetool.toml").read_text(encoding="utf-8")
        keys = set(re.findall(r"^#?\s*([a-z_]+)\s*=", example, flags=re.MULTILINE))
        documented = set(re.findall(r"`([a-z_]+)`", section("Unattended runs")))
        assert keys, "the example names no keys"
        assert keys <= documented, sorted(keys - documented)

    def test_exit_statuses(self) -> None:
        text = section("Unattended runs")
        for status in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
            assert status in text
