"""bouncetool: read bounces, classify them, keep contact lists clean."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from bouncetool.extract import parse_message

__all__ = ["__version__", "parse_message"]


def __getattr__(name: str) -> Any:
    # `import bouncetool` stays light: the extractor loads on first use of parse_message.
    if name == "parse_message":
        from bouncetool.extract import parse_message  # noqa: PLC0415 (lazy on purpose)

        return parse_message
    raise AttributeError(f"module 'bouncetool' has no attribute {name!r}")
