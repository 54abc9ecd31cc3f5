"""The shipped rule table decides the way the issue and README say."""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

import pytest
from benchmarks.rules_accuracy import bounce_of, measure

from bouncetool.errors import RuleError
from bouncetool.model import Blame, Bounce, Kind
from bouncetool.rulefile import CATEGORIES, REASONS, parse_rules
from bouncetool.rules import MAX_TEXT, RuleTable, load_table, shipped_rules, shipped_source
from tests.rule_samples import Sample, read_samples

SAMPLES = read_samples()


@pytest.fixture(scope="module")
def table() -> RuleTable:
    """The shipped table."""
    return load_table()


class TestSamples:
    """Each hand-written provider line gets the verdict written beside it."""

    @pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"line{s.line}-{s.rule}")
    def test_sample(self, table: RuleTable, sample: Sample) -> None:
        verdict = table.classify(sample.bounce)
        got = (verdict.rule, verdict.kind, verdict.reason, verdict.blame)
        assert got == (sample.rule, sample.kind, sample.reason, sample.blame)


class TestNoDeadRules:
    """Every shipped rule decides at least one sample: ours or a corpus truth line."""

    def test_every_rule_is_exercised(self, table: RuleTable, truth: list[dict[str, Any]]) -> None:
        used = {table.classify(sample.bounce).rule for sample in SAMPLES}
        used |= {table.classify(bounce_of(row)).rule for row in truth if row["is_bounce"]}
        unused = [rule.id for rule in shipped_rules() if rule.id not in used]
        assert unused == []

    def test_our_samples_alone_cover_every_rule(self) -> None:
        assert {rule.id for rule in shipped_rules()} <= {sample.rule for sample in SAMPLES}


class TestPrecedence:
    """Specific text beats a generic or contradicting code; codes decide when text does not."""

    def test_mailbox_full_text_beats_5_1_1(self, table: RuleTable) -> None:
        verdict = table.classify_text(
            "552 5.1.1 5.2.2 sorry, final recipient mailbox is full (chkuser)"
        )
        assert (verdict.reason, verdict.kind, verdict.blame) == (
            "mailboxfull",
            Kind.SOFT,
            Blame.RECIPIENT,
        )

    def test_blacklisted_sender_beats_5_1_1(self, table: RuleTable) -> None:
        verdict = table.classify_text("550 5.1.1 <x@example.cz> sender is blacklisted")
        assert verdict.blame is Blame.SENDER
        assert verdict.kind is Kind.SOFT

    def test_code_decides_without_known_text(self, table: RuleTable) -> None:
        verdict = table.classify(Bounce(kind=Kind.HARD, status="5.1.1", diagnostic="nope"))
        assert (verdict.rule, verdict.kind) == ("status-bad-mailbox", Kind.HARD)

    def test_narrow_code_before_wide(self, table: RuleTable) -> None:
        order = [rule.id for rule in table.evaluation_order()]
        assert order.index("status-mailbox-full") < order.index("status-mailbox-other")
        assert order.index("status-mailbox-other") < order.index("reply-552")
        assert order.index("reply-552") < order.index("status-permanent")
        assert order.index("status-permanent") < order.index("reply-permanent")
        assert order[-1] == "undetermined"

    def test_complaint_kind_beats_its_text(self, table: RuleTable) -> None:
        bounce = Bounce(kind=Kind.COMPLAINT, diagnostic="550 5.1.1 user unknown")
        assert table.classify(bounce).kind is Kind.COMPLAINT

    def test_temporary_code_never_hard(self, table: RuleTable) -> None:
        verdict = table.classify_text(
            "450 4.1.1 <a@b.cz>: Recipient address rejected: User unknown"
        )
        assert (verdict.reason, verdict.kind) == ("userunknown", Kind.SOFT)

    def test_delayed_stays_delayed(self, table: RuleTable) -> None:
        bounce = Bounce(kind=Kind.DELAYED, diagnostic="452 4.2.2 Mailbox full", status="4.2.2")
        verdict = table.classify(bounce)
        assert (verdict.kind, verdict.reason) == (Kind.DELAYED, "mailboxfull")

    def test_same_template_same_verdict_for_other_addresses(self, table: RuleTable) -> None:
        first = table.classify_text(
            "550 5.1.1 <jan@seznam.cz>: Recipient address rejected: User unknown"
        )
        second = table.classify_text(
            "550 5.1.1 <eva@email.cz>: Recipient address rejected: User unknown"
        )
        assert first == second


class TestShippedFile:
    """The shipped file passes every check a user's file gets; at run time it is compiled once."""

    def test_passes_the_full_checks(self) -> None:
        checked = parse_rules(shipped_source(), "rules.toml")
        assert tuple(checked) == shipped_rules()

    def test_only_compiling_is_skipped(self) -> None:
        source = (
            '[[rule]]\nid = "x"\ntext = \'{pattern}\'\nkind = "soft"\nreason = "blocked"\n'
            'category = "mail-block"\nblame = "sender"\ncs = "a"\nen = "b"\n'
        )
        with pytest.raises(RuleError, match="missing \\)"):
            parse_rules(source.format(pattern="user (unknown"), "mine.toml")
        assert parse_rules(source.format(pattern="user (unknown"), "x", compile_patterns=False)
        with pytest.raises(RuleError, match="backtracking"):
            parse_rules(source.format(pattern="(a+)+b"), "x", compile_patterns=False)


class TestSemantics:
    """Hard means gone for good; sender-side failures never remove a contact."""

    def test_sender_blame_never_hard(self) -> None:
        assert all(r.kind is not Kind.HARD for r in shipped_rules() if r.blame is Blame.SENDER)

    def test_hard_only_for_gone_addresses(self) -> None:
        hard = {r.reason for r in shipped_rules() if r.kind is Kind.HARD}
        assert hard <= {"userunknown", "hostunknown", "hasmoved", "notaccept"}

    def test_vocabularies(self) -> None:
        assert all(r.reason in REASONS and r.category in CATEGORIES for r in shipped_rules())

    def test_every_rule_explains_itself_in_both_languages(self) -> None:
        for rule in shipped_rules():
            assert rule.cs.strip() and rule.en.strip() and rule.cs != rule.en


class TestRuleFiles:
    """User files load first, override by id, and bad files fail with file and line."""

    def test_user_rule_overrides_shipped_id(self, tmp_path: Path) -> None:
        path = tmp_path / "mine.toml"
        path.write_text(
            '[[rule]]\nid = "user-unknown"\ntext = "user unknown"\nkind = "soft"\n'
            'reason = "userunknown"\ncategory = "invalid-recipient"\nblame = "recipient"\n'
            'cs = "Moje vysvětlení."\nen = "My explanation."\n',
            encoding="utf-8",
        )
        table = load_table([path])
        verdict = table.classify_text("550 5.1.1 User unknown")
        assert (verdict.kind, verdict.explanation_en) == (Kind.SOFT, "My explanation.")
        assert len([r for r in table.rules if r.id == "user-unknown"]) == 1

    def test_semantic_error_names_line(self) -> None:
        source = '# a comment\n\n[[rule]]\nid = "ok"\nkind = "soft"\nreason = "nonsense"\n'
        with pytest.raises(RuleError, match=r"^mine\.toml:3: rule 'ok': reason 'nonsense'"):
            parse_rules(source, "mine.toml")

    def test_syntax_error_names_line(self) -> None:
        with pytest.raises(RuleError, match=r"^mine\.toml:2: not valid TOML: "):
            parse_rules('[[rule]]\nid = "x\n', "mine.toml")

    def test_unknown_field(self) -> None:
        source = '[[rule]]\nid = "x"\ntxt = "a"\n'
        with pytest.raises(RuleError, match="unknown field 'txt'"):
            parse_rules(source, "mine.toml")

    @pytest.mark.parametrize("pattern", ["(a+)+b", "(x*)*", "user.*unknown", r"\S+@"])
    def test_dangerous_patterns_refused(self, pattern: str) -> None:
        source = (
            f'[[rule]]\nid = "x"\ntext = \'{pattern}\'\nkind = "soft"\nreason = "blocked"\n'
            'category = "mail-block"\nblame = "sender"\ncs = "a"\nen = "b"\n'
        )
        with pytest.raises(RuleError, match=r"mine\.toml:1"):
            parse_rules(source, "mine.toml")

    def test_table_without_catch_all_refused(self) -> None:
        rules = [r for r in shipped_rules() if not r.is_catch_all]
        with pytest.raises(RuleError, match="catch-all"):
            RuleTable(rules)

    def test_table_pickles(self, table: RuleTable) -> None:
        copy = pickle.loads(pickle.dumps(table))  # noqa: S301  (our own bytes, as the pipeline does)
        line = "550 5.7.1 Skrzynka odbiorcy jest pełna"
        assert copy.classify_text(line) == table.classify_text(line)


HOSTILE = (
    "a" * 100_000,
    " " * 100_000,
    "user " * 20_000,
    "5.1.1 " * 16_000,
    "@" * 100_000,
    "ř" * 100_000,
    "spam" * 25_000 + "!",
    "<" + "x" * 99_998 + ">",
    "mailbox " + "over " * 20_000,
    "192.0.2.1 " * 10_000,
    "a1" * 50_000,
)


class TestHostileInput:
    """No pattern backtracks badly: 100 kB hostile lines classify within a time limit."""

    @pytest.mark.parametrize("line", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
    def test_each_rule_is_fast_on_hostile_lines(self, table: RuleTable, line: str) -> None:
        started = time.perf_counter()
        table.classify(Bounce(kind=Kind.HARD, diagnostic=line))
        assert time.perf_counter() - started < 0.5

    def test_each_rule_alone_is_fast(self) -> None:
        for rule in shipped_rules():
            single = RuleTable([rule, *[r for r in shipped_rules() if r.is_catch_all]])
            for line in HOSTILE:
                started = time.perf_counter()
                single.classify(Bounce(kind=Kind.HARD, diagnostic=line + rule.id))
                assert time.perf_counter() - started < 0.1, rule.id

    def test_matched_text_is_capped(self, table: RuleTable) -> None:
        line = "x" * (MAX_TEXT + 10) + " user unknown"
        assert table.classify_text(line).rule != "user-unknown"


class TestAccuracy:
    """Agreement with the corpus' curated truth does not fall below what it reached."""

    def test_agreement(self, table: RuleTable, truth: list[dict[str, Any]]) -> None:
        result = measure(truth, table)
        assert result.complaints_agree == result.complaints == 25
        assert result.auto_replies_as_bounce == 0
        # Measured 91.8 % / 94.4 %; the bar (92 % / 98 %) is not met, see README.
        assert result.reason_rate >= 0.913
        assert result.hard_rate >= 0.939


def _provider_lines() -> list[tuple[str, str, str, str]]:
    path = Path(__file__).parent / "data" / "provider_lines.tsv"
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw and not raw.startswith("#"):
            kind, blame, reason, line = raw.split("\t")
            rows.append((kind, blame, reason, line))
    return rows


class TestProviderLines:
    """Real-world reply lines get the kind, blame and reason a postmaster would give them."""

    @pytest.mark.parametrize(("kind", "blame", "reason", "line"), _provider_lines())
    def test_line(self, table: RuleTable, kind: str, blame: str, reason: str, line: str) -> None:
        verdict = table.classify_text(line)
        got = (verdict.kind.value, verdict.blame.value, verdict.reason)
        want = tuple(w if w != "*" else g for w, g in zip((kind, blame, reason), got, strict=True))
        assert got == want, f"{line!r} decided by rule {verdict.rule}"
