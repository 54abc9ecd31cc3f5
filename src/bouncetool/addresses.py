"""One spelling per mailbox, so a bounce and a contact row meet.

The domain is case-insensitive by RFC 5321 and may arrive as A-labels
(``xn--...``) or U-labels; the local part is compared case-insensitively too,
because practically no provider tells ``Jan.Novak`` from ``jan.novak``.
"""

from __future__ import annotations


def normalise_address(address: str) -> str:
    """The canonical form of `address`: trimmed, ``<>`` removed, case-folded, domain IDNA-decoded.

    Text without exactly one ``@`` is returned trimmed and case-folded.
    """
    text = address.strip().strip("<>").strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return text.casefold()
    return f"{local.casefold()}@{normalise_domain(domain)}"


def normalise_domain(domain: str) -> str:
    """`domain` lower-cased, without a trailing dot, with A-labels decoded to Unicode."""
    labels = domain.strip().rstrip(".").casefold().split(".")
    return ".".join(_decode_label(label) for label in labels)


def domain_of(address: str) -> str:
    """The normalised domain of `address` (empty when it has none)."""
    _local, at, domain = normalise_address(address).rpartition("@")
    return domain if at else ""


def _decode_label(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return label.encode("ascii").decode("idna")
        except UnicodeError:
            return label
    return label
