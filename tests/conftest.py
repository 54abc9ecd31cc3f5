"""Shared fixtures: the corpus of real bounces and the expected results."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.imapserver import dovecot, imap_server  # noqa: F401  (a real Dovecot for IMAP tests)
from tests.support import corpus_dir

# CI explores the same examples on every run, so a build fails for a change and
# never for a dice roll; on a developer's machine Hypothesis keeps exploring.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The corpus folder; tests that need it are skipped, with the reason, when it is absent."""
    path = corpus_dir()
    if path is None:
        pytest.skip(
            "the bounce corpus is absent: set BOUNCETOOL_CORPUS or put it at ../shared/corpus"
        )
    return path


@pytest.fixture(scope="session")
def truth(corpus: Path) -> list[dict[str, Any]]:
    """The expected results, one dict per line of truth.jsonl."""
    lines = (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]
