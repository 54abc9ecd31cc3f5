"""Properties that hold for any events: groups add up, and any text stays text in the report."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bouncetool.model import Blame, Event, Kind, Lang
from bouncetool.report_html import render_html
from bouncetool.stats import KIND_COLUMNS, Dimension, summarise
from tests.stats_events import event
from tests.test_report_html import ALLOWED_TAGS, Page

texts = st.text(min_size=1, max_size=40)
words = st.sampled_from(["a", "b", "<b>", "x&y", '"q"', "seznam.cz", "'", "</svg>"])


@st.composite
def events(draw: st.DrawFn) -> Event:
    """An event with arbitrary kind, blame, date, domain, campaign and text."""
    made = event(
        f"{draw(st.sampled_from(['a', 'b', 'c', 'd']))}@{draw(words)}",
        draw(st.sampled_from(list(Kind))),
        when=(
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 24 * 400)))
        ).isoformat(),
        campaign=draw(st.none() | texts),
        blame=draw(st.sampled_from(list(Blame))),
        diagnostic=draw(st.none() | texts),
    )
    return dataclasses.replace(
        made, reason=draw(st.none() | words), category=draw(st.none() | texts)
    )


class TestGroupsAddUp:
    """On every axis the groups' events sum to the total, and kinds sum to events."""

    @given(st.lists(events(), max_size=40))
    @settings(max_examples=60, deadline=None)
    def test_sums(self, made: list[Event]) -> None:
        report = summarise(made)
        total = report.total
        assert sum(total.count(c) for c in KIND_COLUMNS) == total.events == len(made)
        assert total.addresses == len({e.address for e in made})
        for dim in Dimension:
            groups = report.groups[dim]
            assert sum(g.events for g in groups) == total.events
            assert all(g.addresses <= g.events for g in groups)
            assert all(g.dead_addresses <= g.hard_addresses <= g.bounced_addresses for g in groups)


class TestAnyTextStaysText:
    """Whatever text the events carry, the page has only its own tags and no handlers."""

    @given(st.lists(events(), min_size=1, max_size=12), st.sampled_from(list(Lang)))
    @settings(max_examples=60, deadline=None)
    def test_tags(self, made: list[Event], lang: Lang) -> None:
        page = Page(render_html(summarise(made), lang))
        assert {tag for tag, _attrs in page.tags} <= ALLOWED_TAGS
        assert not [n for _t, attrs in page.tags for n in attrs if n.startswith("on")]
        shown = "".join(page.text)
        for item in made:
            if item.campaign and item.campaign.strip():
                assert item.campaign[:20] in shown or item.campaign.strip()[:20] in shown
