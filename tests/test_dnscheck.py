"""`check_domains` against a real authoritative DNS server on loopback (tests/dnsserver.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import dns.resolver
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bouncetool.dnscheck import DnsStatus, DomainChecker, DomainStatus, check_domains
from bouncetool.errors import ConfigError
from bouncetool.model import Lang
from tests.dnsserver import DnsServer, Query, Zone

ZONE = Zone(
    records={
        "seznam.cz": ["MX 10 mx1.seznam.cz.", "MX 20 mx2.seznam.cz."],
        "jen-a.cz": ["A 192.0.2.10"],
        "jen-aaaa.cz": ["AAAA 2001:db8::25"],
        "nullmx.cz": ["MX 0 ."],
        "nullmx-a-presto.cz": ["MX 0 .", "A 192.0.2.11"],  # RFC 7505: the null MX wins
        "smisene-mx.cz": ["MX 0 .", "MX 10 mx.smisene-mx.cz."],  # breaks RFC 7505 3
        "prazdna.cz": [],  # exists, but has no data at all
        "txt-jen.cz": ['TXT "v=spf1 -all"'],
        "alias.cz": ["CNAME seznam.cz."],
        "xn--hkyrky-ptac70bc.cz": ["MX 10 mx.xn--hkyrky-ptac70bc.cz."],
        "mlci-a.cz": [],  # MX says NOERROR, the A fallback never answers
    },
    silent=frozenset({"mlci.cz", "mlci-a.cz A", "mlci-a.cz AAAA"}),
    servfail=frozenset({"rozbita.cz"}),
)

FIRMS = [f"firma{number}.cz" for number in range(32)]
SLOW_ZONE = Zone(records={domain: ["MX 10 mx.firma.cz."] for domain in FIRMS}, delay=0.25)


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    """One server for the module: the tests that count queries use their own."""
    with DnsServer(ZONE) as running:
        yield running


def mx_queries(queries: list[Query]) -> list[str]:
    """The names asked for MX, in order."""
    return [query.name for query in queries if query.rdtype == "MX"]


class TestStatuses:
    """Each kind of DNS answer gives its status; only nxdomain and null-mx remove."""

    @pytest.mark.parametrize(
        ("domain", "status", "removes"),
        [
            ("seznam.cz", DnsStatus.OK, False),
            ("jen-a.cz", DnsStatus.OK, False),  # implicit MX, RFC 5321 5.1
            ("jen-aaaa.cz", DnsStatus.OK, False),
            ("alias.cz", DnsStatus.OK, False),  # CNAME to a domain with MX
            ("háčkyčárky.cz", DnsStatus.OK, False),  # IDN, asked as A-labels
            ("smisene-mx.cz", DnsStatus.OK, False),
            ("neexistuje.cz", DnsStatus.NXDOMAIN, True),
            ("nullmx.cz", DnsStatus.NULL_MX, True),
            ("nullmx-a-presto.cz", DnsStatus.NULL_MX, True),
            ("prazdna.cz", DnsStatus.NO_MAIL_HOST, False),
            ("txt-jen.cz", DnsStatus.NO_MAIL_HOST, False),
            ("rozbita.cz", DnsStatus.SERVFAIL, False),
            ("mlci.cz", DnsStatus.TIMEOUT, False),
            ("mlci-a.cz", DnsStatus.TIMEOUT, False),
            ("a..cz", DnsStatus.BAD_NAME, False),
            ("", DnsStatus.BAD_NAME, False),
            ("sezn am.cz", DnsStatus.BAD_NAME, False),
            ("x" * 64 + ".cz", DnsStatus.BAD_NAME, False),
        ],
    )
    def test_status(self, server: DnsServer, domain: str, status: DnsStatus, removes: bool) -> None:
        result = check_domains([domain], resolver=server.resolver(), timeout=0.3)
        assert result[domain].status is status
        assert result[domain].removes is removes

    def test_details_name_the_answer(self, server: DnsServer) -> None:
        result = check_domains(
            ["seznam.cz", "jen-a.cz", "rozbita.cz"], resolver=server.resolver(), timeout=1
        )
        assert result["seznam.cz"].detail == "MX 10 mx1.seznam.cz, 20 mx2.seznam.cz"
        assert "192.0.2.10" in result["jen-a.cz"].detail
        assert "SERVFAIL" in result["rozbita.cz"].detail

    def test_no_bad_name_is_sent_to_the_server(self) -> None:
        with DnsServer(ZONE) as server:
            check_domains(["a..cz", "", "x" * 70 + ".cz"], resolver=server.resolver())
            assert server.queries == []


class TestReasons:
    """Every status explains itself in Czech and English; unknown states are not 'known'."""

    @pytest.mark.parametrize("status", list(DnsStatus))
    def test_both_languages(self, status: DnsStatus) -> None:
        verdict = DomainStatus("firma.cz", status)
        assert verdict.reason(Lang.CS) == verdict.reason_cs
        assert verdict.reason(Lang.EN) == verdict.reason_en
        assert verdict.reason_cs != verdict.reason_en
        assert verdict.reason_cs.endswith(".")
        assert verdict.reason_en.endswith(".")

    @pytest.mark.parametrize("status", list(DnsStatus))
    def test_removal_needs_a_known_answer(self, status: DnsStatus) -> None:
        verdict = DomainStatus("firma.cz", status)
        assert verdict.known == (
            status not in {DnsStatus.TIMEOUT, DnsStatus.SERVFAIL, DnsStatus.BAD_NAME}
        )
        assert not verdict.removes or verdict.known

    @pytest.mark.parametrize("status", list(DnsStatus))
    def test_text_is_the_status_word(self, status: DnsStatus) -> None:
        # The domain never leaks into the text: "nullpointer.cz" is not a null MX.
        assert str(DomainStatus("nullpointer-nxdomain.cz", status)) == status.value

    def test_czech_reason_for_nxdomain(self) -> None:
        assert "neexistuje" in DomainStatus("x.cz", DnsStatus.NXDOMAIN).reason_cs


class TestOneQueryPerDomain:
    """A domain is asked once per run, however many times and however it is spelt."""

    def test_repeats_and_spellings(self) -> None:
        spellings = ["seznam.cz", "Seznam.CZ", "seznam.cz.", " SEZNAM.cz "]
        with DnsServer(ZONE) as server:
            result = check_domains(spellings * 250, resolver=server.resolver())
            assert mx_queries(server.queries) == ["seznam.cz"]
        assert set(result) == set(spellings)
        assert {status.status for status in result.values()} == {DnsStatus.OK}

    def test_idn_in_both_forms(self) -> None:
        with DnsServer(ZONE) as server:
            result = check_domains(
                ["háčkyčárky.cz", "HÁČKYČÁRKY.CZ", "xn--hkyrky-ptac70bc.cz"],
                resolver=server.resolver(),
            )
            assert mx_queries(server.queries) == ["xn--hkyrky-ptac70bc.cz"]
        assert len({id(status) for status in result.values()}) == 1

    def test_a_checker_remembers_between_batches(self) -> None:
        with DnsServer(ZONE) as server:
            checker = DomainChecker(resolver=server.resolver())
            first = checker.check(["seznam.cz", "neexistuje.cz"])
            second = checker.check(["neexistuje.cz", "jen-a.cz", "seznam.cz"])
            assert sorted(mx_queries(server.queries)) == ["jen-a.cz", "neexistuje.cz", "seznam.cz"]
        assert second["seznam.cz"] is first["seznam.cz"]

    def test_fallback_asks_a_before_aaaa_and_stops_when_found(self) -> None:
        with DnsServer(ZONE) as server:
            check_domains(["jen-a.cz", "jen-aaaa.cz"], resolver=server.resolver())
            asked = sorted((query.name, query.rdtype) for query in server.queries)
        assert asked == [
            ("jen-a.cz", "A"),
            ("jen-a.cz", "MX"),
            ("jen-aaaa.cz", "A"),
            ("jen-aaaa.cz", "AAAA"),
            ("jen-aaaa.cz", "MX"),
        ]


class TestConcurrency:
    """Domains are asked in parallel, never more than `concurrency` at once."""

    def test_parallel(self) -> None:
        with DnsServer(SLOW_ZONE) as server:
            started = time.monotonic()
            result = check_domains(FIRMS, resolver=server.resolver(), concurrency=32)
            elapsed = time.monotonic() - started
            assert server.peak_in_flight >= 8
        assert all(status.status is DnsStatus.OK for status in result.values())
        assert elapsed < 32 * 0.25 / 4  # one after another would take 8 s

    @pytest.mark.parametrize(("limit", "lowest_peak"), [(1, 1), (4, 2)])
    def test_limit(self, limit: int, lowest_peak: int) -> None:
        zone = Zone(records=SLOW_ZONE.records, delay=0.1)
        with DnsServer(zone) as server:
            check_domains(FIRMS[:8], resolver=server.resolver(), concurrency=limit)
            assert lowest_peak <= server.peak_in_flight <= limit
            assert len(server.queries) == 8


class TestTimeouts:
    """A silent server costs each domain at most `timeout` seconds, in parallel."""

    def test_one_domain_is_bounded(self, server: DnsServer) -> None:
        started = time.monotonic()
        result = check_domains(["mlci.cz"], resolver=server.resolver(), timeout=0.4)
        elapsed = time.monotonic() - started
        assert result["mlci.cz"].status is DnsStatus.TIMEOUT
        assert 0.35 < elapsed < 1.5

    def test_the_fallback_shares_the_budget(self, server: DnsServer) -> None:
        started = time.monotonic()
        result = check_domains(["mlci-a.cz"], resolver=server.resolver(), timeout=0.4)
        assert result["mlci-a.cz"].status is DnsStatus.TIMEOUT
        assert time.monotonic() - started < 0.75  # A and AAAA with 0.4 s each would take 0.8 s

    def test_many_silent_domains_time_out_together(self) -> None:
        silent = [f"ticho{number}.cz" for number in range(20)]
        with DnsServer(Zone(silent=frozenset(silent))) as server:
            started = time.monotonic()
            result = check_domains(silent, resolver=server.resolver(), timeout=0.4, concurrency=20)
            elapsed = time.monotonic() - started
        assert {status.status for status in result.values()} == {DnsStatus.TIMEOUT}
        assert elapsed < 2.0  # one after another would take 8 s


class TestArguments:
    """Nonsense limits and a missing resolver configuration fail before anything is asked."""

    @pytest.mark.parametrize(("timeout", "concurrency"), [(0, 4), (-1, 4), (1, 0)])
    def test_refused(self, server: DnsServer, timeout: float, concurrency: int) -> None:
        with pytest.raises(ValueError, match="must be"):
            check_domains(
                ["seznam.cz"],
                resolver=server.resolver(),
                timeout=timeout,
                concurrency=concurrency,
            )

    def test_no_system_resolver(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def unconfigured() -> None:
            raise dns.resolver.NoResolverConfiguration("no nameservers")

        monkeypatch.setattr(dns.resolver, "Resolver", unconfigured)
        with pytest.raises(ConfigError, match="DNS check: no usable resolver configuration"):
            check_domains(["seznam.cz"])

    def test_nothing_to_ask(self, server: DnsServer) -> None:
        assert check_domains([], resolver=server.resolver()) == {}


class TestNeverRaises:
    """Any domain text gets a status and nothing escapes."""

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.text(max_size=30), max_size=5))
    def test_any_text(self, server: DnsServer, domains: list[str]) -> None:
        result = check_domains(domains, resolver=server.resolver(), timeout=0.3)
        assert set(result) == set(domains)
        for status in result.values():
            assert status.status in {DnsStatus.NXDOMAIN, DnsStatus.BAD_NAME, DnsStatus.TIMEOUT}


class TestNoServer:
    """A resolver with nobody listening gives an unknown status, never a removal."""

    def test_closed_port(self) -> None:
        with DnsServer(ZONE) as server:
            resolver = server.resolver()
        # The server is stopped and its port closed: the kernel refuses the packets.
        result = check_domains(["seznam.cz", "neexistuje.cz"], resolver=resolver, timeout=0.3)
        assert {status.status for status in result.values()} <= {
            DnsStatus.TIMEOUT,
            DnsStatus.SERVFAIL,
        }
        assert not any(status.removes for status in result.values())


def empty_ledger(folder: Path) -> Path:
    """A ledger that exists but holds no bounce: clean then decides by DNS alone."""
    from bouncetool.state import Ledger

    path = folder / "ledger.sqlite3"
    with Ledger.open(path):
        pass
    return path


class TestCleanAsksTheConfiguredResolver:
    """`clean --check-dns` removes contacts at dead domains, asking BOUNCETOOL_NAMESERVER."""

    def test_cli_removes_only_dead_domains(self, server: DnsServer, tmp_path) -> None:
        from tests.support import run_cli

        contacts = tmp_path / "kontakty.csv"
        rows = ["email;jmeno", "jan@seznam.cz;Jan", "eva@neexistuje.cz;Eva"]
        rows += ["petr@nullmx.cz;Petr", "ota@rozbita.cz;Ota"]
        contacts.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1250"))
        result = run_cli(
            ["clean", contacts, "--check-dns", "--state", empty_ledger(tmp_path)],
            env={"BOUNCETOOL_NAMESERVER": f"127.0.0.1:{server.port}"},
        )
        assert result.exit_code == 0, result.stderr
        kept = contacts.read_bytes().decode("cp1250").splitlines()
        assert kept == ["email;jmeno", "jan@seznam.cz;Jan", "ota@rozbita.cz;Ota"]
        removed = (tmp_path / "kontakty.removed.csv").read_bytes().decode("cp1250")
        assert "eva@neexistuje.cz" in removed
        assert "petr@nullmx.cz" in removed
        assert "ota@rozbita.cz" not in removed  # SERVFAIL may pass: the contact stays

    def test_bad_nameserver_setting_is_one_clear_error(self, tmp_path) -> None:
        from tests.support import run_cli

        contacts = tmp_path / "c.csv"
        contacts.write_text("email\njan@seznam.cz\n", encoding="utf-8")
        result = run_cli(
            ["clean", contacts, "--check-dns", "--state", empty_ledger(tmp_path)],
            env={"BOUNCETOOL_NAMESERVER": "127.0.0.1:dns"},
        )
        assert result.exit_code == 2
        assert "BOUNCETOOL_NAMESERVER" in result.stderr
        assert "Traceback" not in result.stderr
