"""A real Chromium (Debian's, at /usr/bin/chromium), driven by Playwright, against the
web front served on a port of this machine; axe-core checks every page it opens."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Page

CHROMIUM = "/usr/bin/chromium"
# As the machine's own probe starts it: no sandbox as root, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parents[2] / "web" / "assets" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, as Dutch public bodies must meet.
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Set to a folder, and the tests keep a screenshot of each main page there (docs/screenshots).
SCREENSHOTS = os.environ.get("REENTRY_SCREENSHOTS")


@dataclass
class AxeResults:
    """Per page: the number of violations by impact; printed at the end of the run."""

    pages: dict[str, dict[str, int]] = field(default_factory=dict)

    def report(self) -> str:
        return json.dumps(self.pages, indent=1, sort_keys=True)


RESULTS = AxeResults()


async def check_accessible(page: Page, name: str) -> None:
    """axe-core on the page as it is now: no serious or critical WCAG 2.1 AA violation."""
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    counts: dict[str, int] = {}
    for violation in result["violations"]:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + len(violation["nodes"])
    RESULTS.pages[name] = counts
    grave = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not grave, f"{name}: " + "; ".join(grave)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)
