"""Is an address fit to send to? A syntax check with email-validator, made fast.

`check_syntax` answers with None (valid) or a short reason ``"key: message"``:
a stable English key a program can match (``no-at-sign``, ``invalid-characters``,
...) and email-validator's own sentence for a person.

What counts as valid is email-validator's judgement with these options:
internationalised addresses allowed (SMTPUTF8, RFC 6531) and IDN domains, no
quoted local parts, no display names, no ``[1.2.3.4]`` literals, no special-use
domains (``.local``, ``.test``, ``localhost``), the RFC 5321 limits of 64
characters before the ``@`` and 254 in all, and no DNS lookups (that is
`bouncetool.dnscheck`'s job). Whitespace around the address is ignored:
spreadsheets leave trailing spaces and no-break spaces in cells, and a mail
system trims them before sending.

Speed: email-validator spends two thirds of its time on the domain (IDNA
mapping, per-character checks), and a contact list repeats a few thousand
domains over millions of rows. So a plain local part (RFC 5322 dot-atom of
ASCII characters and precomposed Latin letters such as ``ř``, the shape of
nearly every real address) is checked with one regular expression, and the
domain's verdict is computed once by email-validator and cached. Everything
else goes through email-validator whole. Both paths agree:
``tests/test_syntax.py`` checks it on generated addresses.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from email_validator import EmailNotValidError, validate_email

# The options, bound once: email-validator otherwise re-reads its module
# defaults on every call.
_validate = functools.partial(
    validate_email,
    allow_smtputf8=True,
    allow_empty_local=False,
    allow_quoted_local=False,
    allow_domain_literal=False,
    allow_display_name=False,
    strict=True,  # adds the 64-character local-part limit of RFC 5321 4.5.3.1.1
    check_deliverability=False,
    globally_deliverable=True,
    test_environment=False,
)

_ADDRESS_MAX: Final = 254  # RFC 5321 4.5.3.1.3 (path less the angle brackets)
_LOCAL_MAX: Final = 64  # RFC 5321 4.5.3.1.1

# RFC 5322 3.2.3 dot-atom over ASCII atext (email-validator's DOT_ATOM_TEXT)
# plus U+00C0-U+024F, the precomposed Latin letters of Czech, Slovak, Polish,
# German...: RFC 6531 allows them, and every one of them is a letter or a
# math symbol, which email-validator's Unicode safety check lets through.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u00c0-\u024f"
_PLAIN_LOCAL = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")

# email-validator's messages are sentences; these patterns give each a key.
# Order matters: the first match wins.
_KEYS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (key, re.compile(pattern, re.IGNORECASE))
    for key, pattern in (
        ("no-at-sign", r"must have an @-sign|at-sign \(|small commercial at"),
        ("empty-local-part", r"something before the @-sign"),
        ("empty-domain", r"something after the @-sign"),
        ("too-long", r"too long|separated by so many characters"),
        ("display-name", r"display name|angle bracket"),
        ("trailing-text", r"anything after the email address|after close quote"),
        ("quoted-local-part", r"quot"),
        ("domain-literal", r"bracket"),
        ("domain-without-dot", r"should have a period"),
        ("misplaced-hyphen", r"hyphen|two dashes"),
        ("misplaced-period", r"period"),
        ("reserved-domain", r"special-use or reserved"),
        ("invalid-tld", r"top-level domain"),
        ("invalid-idna", r"IDNA"),
        ("invalid-characters", r"character"),
    )
)


@dataclass(frozen=True, slots=True)
class _DomainVerdict:
    """What the domain alone decides: its problem, or its longest byte length."""

    reason: str | None
    longest: int  # bytes of the longest form email-validator length-checks
    ascii: str | None  # the IDNA A-label form, when valid


def check_syntax(address: str) -> str | None:
    """None when `address` is valid for sending, else ``"key: message"`` saying why not."""
    text = address.strip()
    if not text:
        return "empty: The address is empty."
    local, at, domain = text.rpartition("@")
    if at and len(local) <= _LOCAL_MAX and _is_plain(local):
        verdict = _domain_verdict(domain)
        if verdict.reason is not None:
            return verdict.reason
        if len(local.encode("utf-8")) + 1 + verdict.longest <= _ADDRESS_MAX:
            return None
    return _full_check(text)


def ascii_domain(domain: str) -> str | None:
    """`domain` in IDNA A-labels (``háčkyčárky.cz`` -> ``xn--hkyrky-ptac70bc.cz``), lower case.

    None when `domain` could not stand after the ``@`` of a valid address
    (see `check_syntax`). IDNA 2008 with UTS #46 mapping, as email-validator does.
    """
    return _domain_verdict(domain.strip()).ascii


def reason_key(reason: str) -> str:
    """The key of a reason returned by `check_syntax` (the text before the first colon)."""
    return reason.partition(":")[0]


def _is_plain(local: str) -> bool:
    # email-validator checks the NFC form (RFC 6532 3.1); a plain local part
    # must already be in it to be judged by the regular expression alone.
    return _PLAIN_LOCAL.match(local) is not None and (
        local.isascii() or unicodedata.is_normalized("NFC", local)
    )


@functools.lru_cache(maxsize=1 << 16)
def _domain_verdict(domain: str) -> _DomainVerdict:
    # A one-letter local part cannot make a domain valid or invalid, so the
    # probe's verdict is the domain's; only the total length still depends on
    # the real local part, hence `longest`.
    try:
        valid = _validate("a@" + domain)
    except EmailNotValidError as error:
        return _DomainVerdict(_reason(error), 0, None)
    forms = (domain, valid.domain, valid.ascii_domain)
    longest = max(len(form.encode("utf-8")) for form in forms)
    return _DomainVerdict(None, longest, valid.ascii_domain)


def _full_check(text: str) -> str | None:
    try:
        _validate(text)
    except EmailNotValidError as error:
        return _reason(error)
    return None


def _reason(error: EmailNotValidError) -> str:
    message = str(error)
    for key, pattern in _KEYS:
        if pattern.search(message):
            return f"{key}: {message}"
    return f"invalid-syntax: {message}"
