"""``bouncetool rules``: list, show, check and try out the rule table."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

import typer

from bouncetool.cli.app import app
from bouncetool.cli.terminal import stderr
from bouncetool.errors import RuleError
from bouncetool.language import resolve_lang
from bouncetool.model import Lang, Verdict

if TYPE_CHECKING:
    from bouncetool.rules import RuleTable

rules_app = typer.Typer(help="List, show, check and try out the rule table.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

_RULES_OPTION = typer.Option(
    None, "--rules", help="A rule file tried before the shipped table (repeatable)."
)
_LANG_OPTION = typer.Option(None, "--lang", help="Language of explanations: cs or en.")


class TestFormat(enum.StrEnum):
    """How `rules test` prints verdicts."""

    TEXT = "text"
    JSONL = "jsonl"


def _table(extra: list[Path] | None) -> RuleTable:
    from bouncetool.rules import load_table

    return load_table(extra or ())


@rules_app.command("list")
def list_rules(rules: list[Path] | None = _RULES_OPTION) -> None:
    """Every rule in evaluation order: id, kind, reason, category, blame."""
    for rule in _table(rules).evaluation_order():
        typer.echo(f"{rule.id}\t{rule.kind}\t{rule.reason}\t{rule.category}\t{rule.blame}")


@rules_app.command("show")
def show_rule(
    rule_id: str = typer.Argument(..., metavar="ID", help="The id of the rule."),
    rules: list[Path] | None = _RULES_OPTION,
    lang: str | None = _LANG_OPTION,
) -> None:
    """One rule in full: where it comes from, what it matches and decides, its explanation."""
    rule = _table(rules).get(rule_id)
    if rule is None:
        raise RuleError(f"no rule with id {rule_id!r} (see `bouncetool rules list`)")
    chosen = resolve_lang(lang)
    lines = [
        f"id:          {rule.id}",
        f"defined at:  {rule.origin}",
        f"kind:        {rule.kind}",
        f"reason:      {rule.reason}",
        f"category:    {rule.category}",
        f"blame:       {rule.blame}",
    ]
    for label, values in (
        ("extracted", tuple(str(k) for k in rule.extracted)),
        ("status", rule.status),
        ("reply", rule.reply),
        ("host", (rule.host,) if rule.host else ()),
        ("text", rule.text),
    ):
        lines.extend(f"{label + ':':12} {value}" for value in values)
    lines.append(f"explanation: {rule.cs if chosen is Lang.CS else rule.en}")
    typer.echo("\n".join(lines))


@rules_app.command("check")
def check_rules(path: Path = typer.Argument(..., help="The rule file to validate.")) -> None:
    """Validate a rule file; errors name the file and line. Exit 0 when it is valid."""
    from bouncetool.rulefile import read_rules
    from bouncetool.rules import load_table

    found = read_rules(path)
    load_table([path])  # the file must also combine with the shipped table
    stderr().print(f"{path}: {len(found)} rules, all valid", markup=False)


@rules_app.command("test")
def test_lines(
    texts: list[str] | None = typer.Argument(
        None, metavar="[TEXT]...", help="Diagnostic lines; '-' reads one per line from stdin."
    ),
    rules: list[Path] | None = _RULES_OPTION,
    lang: str | None = _LANG_OPTION,
    output: TestFormat = typer.Option(TestFormat.TEXT, "--format", help="text or jsonl."),
) -> None:
    """Classify diagnostic lines and say why: the verdict, the rule and what matched."""
    table = _table(rules)
    chosen = resolve_lang(lang)
    for line in _lines(texts or []):
        verdict = table.classify_text(line)
        match output:
            case TestFormat.JSONL:
                typer.echo(json.dumps(_as_json(verdict, chosen), ensure_ascii=False))
            case TestFormat.TEXT:
                typer.echo(_as_text(line, verdict, chosen))
            case _:
                assert_never(output)


def _lines(texts: list[str]) -> list[str]:
    lines: list[str] = []
    for text in texts:
        if text == "-":
            lines.extend(raw.rstrip("\r\n") for raw in sys.stdin)
        else:
            lines.append(text)
    return lines


def _as_json(verdict: Verdict, lang: Lang) -> dict[str, str | None]:
    return {
        "kind": str(verdict.kind),
        "reason": verdict.reason,
        "category": verdict.category,
        "blame": str(verdict.blame),
        "rule": verdict.rule,
        "matched": verdict.matched,
        "explanation": verdict.explanation(lang),
    }


def _as_text(line: str, verdict: Verdict, lang: Lang) -> str:
    why = f"rule {verdict.rule}" + (f", matched {verdict.matched!r}" if verdict.matched else "")
    decided = f"{verdict.kind} · {verdict.reason} · {verdict.category} · blame {verdict.blame}"
    return f"{line}\n  {decided} ({why})\n  {verdict.explanation(lang)}"
