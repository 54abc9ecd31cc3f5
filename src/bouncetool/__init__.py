"""bouncetool: read bounces, classify them, keep contact lists clean."""

from __future__ import annotations

__version__ = "0.1.0"
