"""README keeps up with the code: every command, the two-line start, every exit status."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from typing import Any

import typer

from bouncetool import errors
from bouncetool.cli import app
from tests.support import PROJECT, run_cli

README = (PROJECT / "README.md").read_text(encoding="utf-8")
SOURCE = PROJECT / "src" / "bouncetool"


def section(title: str) -> str:
    """The README section under ``## title``, up to the next ``## `` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command a user can type, as ``bouncetool group sub`` (a group through its subs).

    Typer ships its own copy of click, so a group is known by its `commands`.
    """
    subs = getattr(command, "commands", None)
    if subs is not None:
        for name, sub in subs.items():
            if not sub.hidden:
                yield from command_paths(sub, (*prefix, name))
    else:
        yield " ".join(("bouncetool", *prefix))


def documented_commands() -> set[str]:
    """The command words of each row of README's Commands table (up to the first option)."""
    found = set()
    for cell in re.findall(r"^\| `(bouncetool [^`]*)`", section("Commands"), flags=re.MULTILINE):
        words = []
        for word in cell.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word) and word != "bouncetool":
                break
            words.append(word)
        found.add(" ".join(words))
    return found


def exit_statuses_in_code() -> set[int]:
    """Every literal exit status: `typer.Exit(N)`, `sys.exit(N)`, `exit_code = N` in src/."""
    statuses = {0, 2}  # success, and click's own status for a usage error
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                name = ast.unparse(node.func)
                if name in {"typer.Exit", "sys.exit", "Exit"} and isinstance(
                    node.args[0], ast.Constant
                ):
                    statuses.add(int(node.args[0].value))
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                targets = {ast.unparse(target) for target in node.targets}
                if "exit_code" in targets:
                    statuses.add(int(node.value.value))
    return statuses


class TestCommandsTable:
    """Every command and sub-command the app registers has a row in README's Commands table."""

    def test_every_command_documented(self) -> None:
        registered = set(command_paths(typer.main.get_command(app)))
        assert len(registered) >= 14, sorted(registered)
        missing = registered - documented_commands()
        assert not missing, f"not in README's Commands table: {sorted(missing)}"

    def test_no_row_for_a_command_that_is_gone(self) -> None:
        registered = set(command_paths(typer.main.get_command(app)))
        assert documented_commands() <= registered


class TestQuickStart:
    """README's first code block is exactly the two commands: install and classify, then test."""

    def test_two_lines(self) -> None:
        block = re.search(r"^```[a-z]*\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
        assert block is not None
        lines = block.group(1).strip("\n").split("\n")
        assert len(lines) == 2, lines
        assert "bouncetool classify examples/bounces.mbox" in lines[0]
        assert "pytest" in lines[1]


class TestExitStatuses:
    """Every exit status the code can return is explained in README's exit-status table."""

    def test_table_covers_the_code(self) -> None:
        table = section("Exit statuses")
        documented = {int(n) for n in re.findall(r"^\| (\d) \|", table, flags=re.MULTILINE)}
        assert exit_statuses_in_code() <= documented

    def test_every_error_class_has_a_documented_status(self) -> None:
        table = section("Exit statuses")
        for _name, kind in inspect.getmembers(errors, inspect.isclass):
            if issubclass(kind, errors.BounceToolError):
                assert f"| {kind.exit_code} |" in table


class TestExampleConfig:
    """The commented example configuration passes `config check`."""

    def test_config_check(self) -> None:
        result = run_cli(["config", "check", PROJECT / "examples" / "bouncetool.toml"])
        assert result.exit_code == 0, result.stderr
        assert "valid" in result.stderr


class TestHelpOrder:
    """`bouncetool --help` lists the commands in the order a user meets them."""

    def test_order(self) -> None:
        result = run_cli(["--help"])
        assert result.exit_code == 0
        names = re.findall(r"^│ ([a-z-]+) ", result.stdout, flags=re.MULTILINE)
        wanted = ["classify", "ingest", "clean", "annotate", "export-errors", "stats", "run"]
        assert [name for name in names if name in wanted] == wanted
        assert names.index("run") < names.index("prune") < names.index("rules")


class TestOptionsInTable:
    """Each command's row in the Commands table names every option the command takes."""

    def test_every_option(self) -> None:
        table = section("Commands").splitlines()
        root = typer.main.get_command(app)
        missing = []
        for path in command_paths(root):
            command = root
            for word in path.split()[1:]:
                command = command.commands[word]  # type: ignore[attr-defined]
            row = next(line for line in table if line.startswith(f"| `{path}"))
            options = [o for p in command.params for o in p.opts if o.startswith("--")]
            missing += [f"{path} {o}" for o in options if o != "--help" and o not in row]
        assert not missing, missing
