"""What every browser test shares: Debian's Chromium driven by Playwright (which never downloads a browser),
where screenshots go, and the skips when either is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the skip below says why
    expect = sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

#: a browser test module's ``pytestmark``
NEEDS_CHROMIUM = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
    pytest.mark.skipif(sync_playwright is None, reason="the playwright Python package is not installed"),
]


__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "NEEDS_CHROMIUM", "expect", "sync_playwright"]
