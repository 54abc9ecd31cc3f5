"""Option values that need no checking skip typer's pydantic adapters, with typer's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from bouncetool.cli import app, quickparams
from tests.support import TEST_DATA, run_python

pytestmark = pytest.mark.skipif(
    not quickparams.install(), reason="this typer checks values without pydantic adapters"
)

# (command, parameter, value): good values, bad ones, and values at the edges.
CASES: list[tuple[str, str, Any]] = [
    ("classify", "sources", ("a.mbox", "-", "b/")),
    ("classify", "sources", ()),
    ("classify", "output_format", "jsonl"),
    ("classify", "output_format", "csv"),
    ("classify", "output_format", "JSONL"),
    ("classify", "output_format", "json"),
    ("classify", "lang", "cs"),
    ("classify", "lang", "de"),
    ("classify", "workers", "2"),
    ("classify", "workers", "0"),
    ("classify", "workers", "-1"),
    ("classify", "workers", "two"),
    ("classify", "workers", "007"),
    ("classify", "workers", " 3"),
    ("classify", "workers", "99999999999999999999"),
    ("classify", "output", "out.csv"),
    ("classify", "output", "."),
    ("classify", "rule_files", ()),
    ("classify", "rule_files", [str(TEST_DATA / "dsn-postfix.eml")]),
    ("classify", "rule_files", ["/no/such/file.toml"]),
    ("classify", "state", "ledger.sqlite"),
    ("classify", "save", "yes"),
]


def _coerce(runtime: Any, param: Any, ctx: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("value", runtime.coerce(value, param=param, ctx=ctx))
    except Exception as error:  # noqa: BLE001  (the error itself is compared)
        return ("error", (type(error).__name__, str(error)))


class TestSameAsTyper:
    """Every value gives what typer's own adapter gives: the value, or the same error."""

    @pytest.mark.parametrize(("command", "name", "value"), CASES)
    def test_value_or_error(self, command: str, name: str, value: Any) -> None:
        from typer._coercion import build_runtime_param

        click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
        param = next(p for p in click_command.params if p.name == name)
        ctx = click_command.make_context(command, [], resilient_parsing=True)
        quick = _coerce(param.get_runtime_param(), param, ctx, value)
        real = _coerce(build_runtime_param(param.type_descriptor), param, ctx, value)
        assert quick == real


class TestQuick:
    """Plain values are taken without building typer's adapter."""

    @pytest.mark.parametrize(
        ("name", "value"),
        [("sources", ("a.mbox",)), ("output_format", "jsonl"), ("lang", "cs"), ("workers", "2")],
    )
    def test_no_adapter_built(self, name: str, value: Any) -> None:
        click_command = typer.main.get_command(app).commands["classify"]  # type: ignore[attr-defined]
        param = next(p for p in click_command.params if p.name == name)
        ctx = click_command.make_context("classify", [], resilient_parsing=True)
        runtime = param.get_runtime_param()
        runtime.coerce(value, param=param, ctx=ctx)
        assert runtime._real == []


class TestNoPydantic:
    """A usual classify run does not import pydantic at all."""

    def test_classify_jsonl(self, tmp_path: Path) -> None:
        # main() ends the process; what is imported by then is told at exit.
        script = (
            "import atexit, sys\n"
            "atexit.register(lambda: print('pydantic' in sys.modules, file=sys.stderr))\n"
            "from bouncetool.cli import main\n"
            f"sys.argv = ['bouncetool', 'classify', '--format', 'jsonl', '--workers', '1',"
            f" {str(TEST_DATA / 'dsn-postfix.eml')!r}]\n"
            "main()\n"
        )
        done = run_python(script, cwd=tmp_path)
        assert '"recipient"' in done.stdout
        assert done.stderr.strip().splitlines()[-1] == "False"
