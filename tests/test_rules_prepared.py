"""A rule table built in parts (prepared elsewhere, patterns compiled here) is the same table."""

from __future__ import annotations

import pickle

from bouncetool.model import Bounce, Kind
from bouncetool.rules import (
    PreparedRules,
    RuleTable,
    compile_text_patterns,
    load_table,
    prepare_rules,
    table_rules,
)

BOUNCES = [
    Bounce(
        Kind.HARD, diagnostic="550 5.1.1 <a@b.example>: Recipient address rejected: User unknown"
    ),
    Bounce(Kind.SOFT, diagnostic="452 4.2.2 Mailbox full", status="4.2.2"),
    Bounce(Kind.HARD, diagnostic="554 5.7.1 Service unavailable; Client host blocked using zen"),
    Bounce(Kind.HARD, status="5.1.2"),
    Bounce(Kind.HARD, diagnostic="something nobody wrote a rule for"),
    Bounce(Kind.AUTO_REPLY),
]


class TestPreparedInAnotherProcess:
    """Prepared rules survive pickling; their table classifies as `load_table`'s does."""

    def test_same_verdicts(self) -> None:
        prepared = pickle.loads(pickle.dumps(prepare_rules()))  # noqa: S301  (our own data)
        assert isinstance(prepared, PreparedRules)
        rules = pickle.loads(pickle.dumps(tuple(table_rules())))  # noqa: S301
        table = RuleTable.from_prepared(prepared, compile_text_patterns(rules))
        reference = load_table()
        assert table.evaluation_order() == reference.evaluation_order()
        assert [table.classify(b) for b in BOUNCES] == [reference.classify(b) for b in BOUNCES]


class TestPatternsCompiledBeforehand:
    """The text patterns given to `from_prepared` are the ones the table matches with."""

    def test_given_patterns_are_used(self) -> None:
        compiled = compile_text_patterns(table_rules())
        table = RuleTable.from_prepared(prepare_rules(), compiled)
        used = {id(c.text) for c in table._ordered if c.text is not None}
        assert used == {id(pattern) for pattern in compiled.values()}

    def test_without_them_the_table_compiles_its_own(self) -> None:
        table = RuleTable.from_prepared(prepare_rules())
        assert table.classify(BOUNCES[0]) == load_table().classify(BOUNCES[0])
