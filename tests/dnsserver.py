"""A tiny authoritative DNS server on 127.0.0.1 for tests: real packets, real resolver code.

The server answers over UDP from a `Zone` you define: records per owner name,
names that never answer (to test timeouts), names that answer SERVFAIL, and
NXDOMAIN for every other name. It records every query it receives, so a test
can count them, and the peak number of queries it held at once, so a test can
see concurrency. Use it as a context manager::

    zone = Zone(records={"seznam.cz": ["MX 10 mx1.seznam.cz."]})
    with DnsServer(zone) as server:
        statuses = check_domains(["seznam.cz"], resolver=server.resolver())
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

_SOA = "ns.test. hostmaster.test. 1 3600 600 86400 60"


@dataclass(frozen=True)
class Zone:
    """What the server knows.

    `records` maps an owner name (no trailing dot) to zone-file style lines
    without the owner, e.g. ``"MX 10 mx.example.cz."``, ``"A 192.0.2.1"`` or
    ``"CNAME other.cz."``; an owner with an empty list exists but has no data.
    Queries for `silent` names are dropped (``"name"`` for every type,
    ``"name A"`` for one type); `servfail` names answer SERVFAIL;
    every other unknown name is NXDOMAIN. Each answer waits `delay` seconds.
    """

    records: Mapping[str, Sequence[str]] = field(default_factory=dict)
    silent: frozenset[str] = frozenset()
    servfail: frozenset[str] = frozenset()
    delay: float = 0.0


@dataclass(frozen=True)
class Query:
    """One question the server received."""

    name: str  # lower case, no trailing dot
    rdtype: str  # "MX", "A", ...


class DnsServer:
    """An authoritative UDP server for `zone` on 127.0.0.1 and a random port, in a thread."""

    def __init__(self, zone: Zone) -> None:
        """Bind the socket; the server starts answering on `start` (or entering `with`)."""
        self.zone = zone
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._queries: list[Query] = []
        self._in_flight = 0
        self.peak_in_flight = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)
        self._timers: list[threading.Timer] = []

    def __enter__(self) -> DnsServer:
        """Start serving."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving and close the socket."""
        self.stop()

    def start(self) -> None:
        """Answer queries from now on."""
        self._thread.start()

    def stop(self) -> None:
        """Stop answering, wait for the thread, close the socket."""
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()
        self._socket.close()

    @property
    def queries(self) -> list[Query]:
        """Every query received so far, in order of arrival."""
        with self._lock:
            return list(self._queries)

    def resolver(self, *, timeout: float = 2.0) -> dns.resolver.Resolver:
        """A resolver that asks only this server (no system configuration)."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.timeout = timeout
        resolver.lifetime = timeout
        return resolver

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._socket.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._handle(wire, peer)

    def _handle(self, wire: bytes, peer: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return  # not DNS: a real server drops it too
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self._queries.append(Query(name, rdtype))
        if name in self.zone.silent or f"{name} {rdtype}" in self.zone.silent:
            return
        response = self._answer(query, name, question.rdtype)
        if self.zone.delay <= 0:
            self._send(response, peer)
            return
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            timer = threading.Timer(self.zone.delay, self._send_later, (response, peer))
            self._timers.append(timer)
        timer.start()

    def _send_later(self, response: dns.message.Message, peer: tuple[str, int]) -> None:
        with self._lock:
            self._in_flight -= 1
        self._send(response, peer)

    def _send(self, response: dns.message.Message, peer: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # the socket closed while a delayed answer waited
            self._socket.sendto(response.to_wire(), peer)

    def _answer(
        self, query: dns.message.Message, name: str, rdtype: dns.rdatatype.RdataType
    ) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.zone.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        # Follow CNAMEs inside the zone, as an authoritative server does.
        for _hop in range(8):
            lines = self.zone.records.get(name)
            if lines is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(_soa())
                return response
            cname = [line for line in lines if line.split()[0].upper() == "CNAME"]
            if cname and rdtype != dns.rdatatype.CNAME:
                response.answer.append(_rrset(name, cname))
                name = cname[0].split()[1].rstrip(".").lower()
                continue
            wanted = [line for line in lines if line.split()[0].upper() == rdtype.name]
            if wanted:
                response.answer.append(_rrset(name, wanted))
            else:
                response.authority.append(_soa())  # NOERROR, no data (RFC 2308)
            return response
        response.set_rcode(dns.rcode.SERVFAIL)  # a CNAME loop
        return response


def _rrset(name: str, lines: Sequence[str]) -> dns.rrset.RRset:
    rdtype = lines[0].split()[0]
    rdatas = [line.split(maxsplit=1)[1] for line in lines]
    return dns.rrset.from_text_list(name + ".", 60, "IN", rdtype, rdatas)


def _soa() -> dns.rrset.RRset:
    return dns.rrset.from_text("test.", 60, "IN", "SOA", _SOA)
