"""Charts for the dashboard, drawn on the server as SVG: no script, nothing fetched. The
colours are classes of the stylesheet. Each chart is hidden from screen readers; the page
shows the same figures as a table beside it."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
ROW = 28
LABEL = 200


def _svg(height: int, body: str, caption: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" height="{height}"'
        f' aria-hidden="true" focusable="false" data-caption="{escape(caption)}">{body}</svg>'
    )


def bars(items: Sequence[tuple[str, float]], *, caption: str) -> Markup:
    """Horizontal bars, one per item, with its value at the end."""
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - LABEL - 60
    body = []
    for i, (label, value) in enumerate(items):
        y = i * ROW
        length = span * value / top
        body.append(
            f'<text class="chart-label" x="{LABEL - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-bar" x="{LABEL}" y="{y + 5}" width="{length:.1f}" height="{ROW - 10}"/>'
            f'<text class="chart-value" x="{LABEL + length + 6:.1f}" y="{y + 18}">{value:g}</text>'
        )
    return _svg(max(len(items), 1) * ROW, "".join(body), caption)


def stacked_shares(rows: Sequence[tuple[str, Sequence[tuple[str, float]]]], legend: Sequence[str]) -> Markup:
    """One bar per row, split into its shares (0..1) in the order of `legend`."""
    span = WIDTH - LABEL - 20
    body = []
    for i, (label, shares) in enumerate(rows):
        y, x = i * ROW, float(LABEL)
        body.append(f'<text class="chart-label" x="{LABEL - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>')
        by_name = dict(shares)
        for n, name in enumerate(legend):
            width = span * by_name.get(name, 0.0)
            if width > 0:
                body.append(
                    f'<rect class="chart-share chart-share-{n}" x="{x:.1f}" y="{y + 5}"'
                    f' width="{width:.1f}" height="{ROW - 10}"/>'
                )
            x += width
    key_y = len(rows) * ROW + 8
    x = float(LABEL)
    for n, name in enumerate(legend):
        body.append(
            f'<rect class="chart-share chart-share-{n}" x="{x:.1f}" y="{key_y}" width="12" height="12"/>'
            f'<text class="chart-label" x="{x + 16:.1f}" y="{key_y + 11}">{escape(name)}</text>'
        )
        x += 16 + 8 * len(name) + 18
    return _svg(key_y + 24, "".join(body), "Screening per basisvoorwaarde")


def share_columns(items: Sequence[tuple[str, float | None]]) -> Markup:
    """A column per month: the share (0..1) released with ID, income and housing in order;
    a month without releases has no column."""
    height, base = 220, 190
    step = (WIDTH - 60) / max(len(items), 1)
    body = [
        f'<line class="chart-axis" x1="40" y1="{base}" x2="{WIDTH - 10}" y2="{base}"/>',
        f'<text class="chart-label" x="34" y="{base}" text-anchor="end">0%</text>',
        '<text class="chart-label" x="34" y="20" text-anchor="end">100%</text>',
    ]
    for i, (month, share) in enumerate(items):
        x = 50 + i * step
        body.append(
            f'<text class="chart-label" x="{x + step / 2 - 6:.1f}" y="{base + 20}" text-anchor="middle">'
            f"{escape(month)}</text>"
        )
        if share is None:
            continue
        column = (base - 16) * share
        body.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{base - column:.1f}"'
            f' width="{step - 12:.1f}" height="{column:.1f}"/>'
            f'<text class="chart-value" x="{x + step / 2 - 6:.1f}" y="{base - column - 4:.1f}" text-anchor="middle">'
            f"{share:.0%}</text>"
        )
    return _svg(height, "".join(body), "Uitkomst per maand")
