"""The HTML report: one self-contained file, hostile text escaped, charts drawn."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bouncetool.model import Event, Kind, Lang
from bouncetool.report_html import render_html, write_html
from bouncetool.stats import SentCounts, summarise
from tests.png import read_pixels
from tests.stats_events import event
from tests.test_stats import small_ledger

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "section",
    "div", "b", "span", "ul", "li", "i", "svg", "line", "text", "rect", "table", "tr", "th",
    "td", "br", "code", "footer",
}  # fmt: skip
HARD_RED = (0xC6, 0x28, 0x28)


class Page(HTMLParser):
    """The tags, attributes and text of a page, as a browser's tokenizer sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.chart: str | None = None
        self.segments: Counter[str] = Counter()
        self.bars: dict[str, int] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "svg":
            self.chart = attributes.get("data-chart")
            self.bars[self.chart or "?"] = int(attributes.get("data-bars") or 0)
        if tag == "rect" and "seg" in (attributes.get("class") or "").split():
            self.segments[self.chart or "?"] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def hostile_ledger() -> list[Event]:
    """Events whose every text field tries to break out of the page."""
    nasty = event(
        'x@"><script>alert(1)</script>.cz',
        campaign="</title><img src=x onerror=alert(2)>",
        reason="<b>reason</b>",
        diagnostic='550 <svg onload=alert(3)> & "quoted" </td></table>',
    )
    return [
        dataclasses.replace(nasty, explanation_cs="<iframe src=//evil>", explanation_en="&amp;"),
        event("y@example.cz", category="<style>body{display:none}</style>"),
    ]


class TestEscaping:
    """Text from bounce mail and rule files appears as text, never as markup."""

    def test_only_known_tags_and_no_handlers(self) -> None:
        page = Page(render_html(summarise(hostile_ledger()), Lang.EN))
        assert {tag for tag, _attrs in page.tags} <= ALLOWED_TAGS
        attributes = {name for _tag, attrs in page.tags for name in attrs}
        assert not {name for name in attributes if name.startswith("on")}
        assert not attributes & {"src", "href", "xlink:href", "srcset", "action"}

    def test_hostile_text_shown_literally(self) -> None:
        text = "".join(Page(render_html(summarise(hostile_ledger()), Lang.CS)).text)
        assert '"><script>alert(1)</script>.cz' in text
        assert "</title><img src=x onerror=alert(2)>" in text
        assert '550 <svg onload=alert(3)> & "quoted" </td></table>' in text
        assert "<iframe src=//evil>" in text
        assert "<style>body{display:none}</style>" in text


class TestSelfContained:
    """The file loads nothing: no URL, no external reference, a policy that forbids any."""

    def test_nothing_to_load(self) -> None:
        text = render_html(summarise(small_ledger(), sent=SentCounts(total=100)), Lang.EN)
        for needle in ("http:", "https:", "//", "url(", "@import", "<script", "<link"):
            assert needle not in text.replace("</", ""), needle
        page = Page(text)
        policy = [a.get("content") for t, a in page.tags if a.get("http-equiv")]
        assert policy == ["default-src 'none'; style-src 'unsafe-inline'"]

    def test_write_is_one_file(self, tmp_path: Path) -> None:
        target = tmp_path / "report.html"
        write_html(target, summarise(small_ledger()), Lang.CS)
        assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
        assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


class TestCharts:
    """Each chart has one bar segment per non-zero count in the data."""

    def test_segment_counts(self) -> None:
        page = Page(render_html(summarise(small_ledger()), Lang.EN))
        # days 20: hard+soft, 21: hard, 22: other, 27: soft+complaint
        assert page.segments == {"timeline": 6, "categories": 4, "domains": 5}

    def test_quiet_days_are_gaps(self) -> None:
        page = Page(render_html(summarise(small_ledger()), Lang.EN))
        labels = [t for t in page.text if t.startswith("2026-11-") and "·" not in t]
        assert labels == [f"2026-11-{day}" for day in range(20, 28)]

    def test_long_periods_by_week(self) -> None:
        start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, ISO week 2
        events = [
            event(f"u{i}@a.cz", when=(start + timedelta(days=7 * i)).isoformat()) for i in range(10)
        ]
        page = Page(render_html(summarise(events), Lang.CS))
        assert page.segments["timeline"] == 10
        weeks = [t for t in page.text if t.startswith("2026-W") and "·" not in t]
        assert weeks == [f"2026-W{w:02d}" for w in range(2, 12)]
        assert "Nedoručené zprávy po týdnech podle druhu" in page.text

    @pytest.mark.parametrize(
        ("days", "unit", "bars"),
        [
            (62, "dnech", 63),  # 62 days apart: still one bar per day
            (3 * 365, "měsících", 36),  # 2027-01 .. 2029-12
            (20 * 365, "letech", 20),  # 2027 .. 2046
        ],
    )
    def test_longer_periods_coarser_bars(self, days: int, unit: str, bars: int) -> None:
        start = datetime(2027, 1, 1, 12, tzinfo=UTC)
        events = [event("a@x.cz", when=start.isoformat())]
        events.append(event("b@x.cz", Kind.SOFT, when=(start + timedelta(days=days)).isoformat()))
        page = Page(render_html(summarise(events), Lang.CS))
        assert f"Nedoručené zprávy po {unit} podle druhu" in page.text
        assert page.bars["timeline"] == bars
        assert page.segments["timeline"] == 2

    def test_top_limits_rankings(self) -> None:
        events = [event(f"u@d{i}.cz") for i in range(15)]
        page = Page(render_html(summarise(events), Lang.EN, top=10))
        assert page.segments["domains"] == 10

    def test_empty_ledger(self) -> None:
        page = Page(render_html(summarise([]), Lang.EN))
        assert "No events in this period." in page.text
        assert not page.segments


class TestCampaigns:
    """The campaigns table shows rates only when known, and never hides a campaign with them."""

    def test_rates_shown_for_known_campaigns(self) -> None:
        events = [event(f"u{i}@x.cz", campaign=f"c{i:02d}") for i in range(30)]
        report = summarise(events, sent=SentCounts(campaigns={"quiet": 100, "c05": 20}))
        text = render_html(report, Lang.EN)
        campaigns = text.split('id="campaigns"')[1]
        assert ">Bounce rate<" in campaigns
        assert '<td class="name">quiet</td>' in campaigns  # 0 events, but its rate is known
        assert "5.0%" in campaigns  # c05: 1 of 20
        assert campaigns.count("<tr>") == 1 + 20  # header + the 20-row limit

    def test_no_rate_columns_without_sent(self) -> None:
        campaigns = render_html(summarise(small_ledger()), Lang.EN).split('id="campaigns"')[1]
        assert "Bounce rate" not in campaigns
        assert ">Sent<" not in campaigns


class TestLanguage:
    """Headings follow --lang: Czech when cs."""

    def test_czech(self) -> None:
        text = render_html(summarise(small_ledger()), Lang.CS)
        assert '<html lang="cs">' in text
        for heading in ("Přehled nedoručených zpráv", "Kategorie", "Nejčastější důvody"):
            assert f">{heading}<" in text
        assert "Adresa neexistuje." in text

    def test_english(self) -> None:
        text = render_html(summarise(small_ledger()), Lang.EN)
        assert '<html lang="en">' in text
        assert ">Top receiving domains<" in text
        assert "The address does not exist." in text


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[bytes]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'): cannot render HTML")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]  # fmt: skip
    return subprocess.run([executable, *flags, *args], capture_output=True, timeout=90, check=True)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Czech report of the small ledger, written once for the browser tests."""
    path = tmp_path_factory.mktemp("html") / "report.html"
    write_html(path, summarise(small_ledger(), sent=SentCounts(total=100)), Lang.CS)
    return path


class TestInChromium:
    """A real browser parses the report into the same charts and paints them."""

    def test_dom_has_the_charts(self, report_file: Path, tmp_path: Path) -> None:
        done = chromium(["--dump-dom", report_file.as_uri()], tmp_path / "profile")
        page = Page(done.stdout.decode("utf-8"))
        assert page.segments == {"timeline": 6, "categories": 4, "domains": 5}

    def test_screenshot_is_painted(self, report_file: Path, tmp_path: Path) -> None:
        shot = tmp_path / "shot.png"
        args = ["--window-size=800,1100", f"--screenshot={shot}", report_file.as_uri()]
        chromium(args, tmp_path / "profile")
        width, height, pixels = read_pixels(shot)
        assert (width, height) == (800, 1100)
        colours = Counter(p[:3] for p in pixels)
        assert len(colours) > 50  # text, tiles and bars: not a blank page
        assert colours[HARD_RED] > 200  # the hard-bounce bars are painted
