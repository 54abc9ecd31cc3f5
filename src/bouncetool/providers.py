"""Which mailbox provider runs a receiving domain.

A provider blocks a sender across all its domains at once (Seznam's block hits
``email.cz`` as well as ``seznam.cz``), so sender-side blocks are counted per
provider. The table lists the providers Czech and Polish senders meet most;
any other domain is its own provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_FAMILIES: dict[str, tuple[str, ...]] = {
    # seznam.cz help pages list these as Seznam's own mail domains
    "Seznam": ("seznam.cz", "email.cz", "post.cz", "spoluzaci.cz", "stream.cz", "firmy.cz"),
    # Centrum Holdings runs Centrum, Atlas and Volný on one mail platform
    "Centrum": ("centrum.cz", "centrum.sk", "atlas.cz", "atlas.sk", "volny.cz"),
    "Google": ("gmail.com", "googlemail.com"),
    "Microsoft": ("outlook.com", "hotmail.com", "live.com", "msn.com", "outlook.cz", "hotmail.cz"),
    "Yahoo": ("yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "aol.com"),
    "Apple": ("icloud.com", "me.com", "mac.com"),
    # Polish portals from the seed pages
    "WP": ("wp.pl", "o2.pl", "tlen.pl"),
    "Onet": ("onet.pl", "op.pl", "vp.pl", "onet.eu", "poczta.onet.pl"),
    "Interia": ("interia.pl", "interia.eu", "poczta.fm"),
}

PROVIDERS: Mapping[str, str] = MappingProxyType(
    {domain: name for name, domains in _FAMILIES.items() for domain in domains}
)
"""Receiving domain -> provider name, for the providers that run several domains."""


def provider_of(domain: str) -> str:
    """The provider that runs `domain` (normalised), or the domain itself when unknown."""
    return PROVIDERS.get(domain, domain)
