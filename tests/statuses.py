"""AddressStatus records for contact tests, as the policy would hand them over."""

from __future__ import annotations

from datetime import UTC, datetime

from bouncetool.addresses import normalise_address
from bouncetool.model import AddressStatus, Kind

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def status(
    address: str,
    kind: Kind = Kind.HARD,
    *,
    suppressed: bool | None = None,
    reason: str = "userunknown",
    count: int = 1,
) -> AddressStatus:
    """A decision for `address`: suppressed unless it is a soft bounce below the threshold."""
    return AddressStatus(
        address=normalise_address(address),
        suppressed=kind is not Kind.SOFT if suppressed is None else suppressed,
        kind=kind,
        reason=reason,
        category="invalid-recipient" if kind is Kind.HARD else "mailbox-full",
        rule="test-rule",
        why=f"{count} {kind} bounce(s)",
        count=count,
        first_at=WHEN,
        last_at=WHEN,
        last_diagnostic="550 5.1.1 user unknown",
        explanation_cs="Adresa neexistuje.",
        explanation_en="The address does not exist.",
        campaign="podzim-2026",
    )


def statuses(*items: AddressStatus) -> dict[str, AddressStatus]:
    """The mapping `clean` takes: normalised address -> status."""
    return {item.address: item for item in items}
