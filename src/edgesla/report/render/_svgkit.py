"""SVG primitives for the report's charts: escaped text, lines, rectangles, text widths.

Layout decisions (does a label fit? where does a line wrap?) need the width of a string
before any browser has drawn it. :func:`text_width` estimates it from DejaVu Sans advance
widths (the font the report asks for, and the widest of its fallbacks: Arial and Helvetica
are narrower), so an estimate that fits also fits when the page is drawn. The in-browser
tests (tests/report/render/test_charts_in_browser.py) check that claim on real layout.
"""

from __future__ import annotations

from html import escape

__all__ = [
    "BAD",
    "GOOD",
    "GRID",
    "INK",
    "LINE",
    "MUTED",
    "frame",
    "line",
    "rect",
    "text",
    "text_width",
    "wrap",
]

INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
GOOD, BAD, LINE = "#2563eb", "#dc2626", "#b45309"

# DejaVu Sans advance widths in em (units per em 2048), for what the charts write.
_NARROW = dict.fromkeys(" ,.:;'|!", 0.318) | dict.fromkeys("ijl", 0.278) | {"f": 0.352}
_WIDE = dict.fromkeys("mw", 0.974) | dict.fromkeys("MW", 1.0) | {"%": 0.950, "→": 0.838}
_SYMBOLS = dict.fromkeys("+<>=≤≥", 0.838) | {
    "-": 0.361,
    "/": 0.337,
    "·": 0.318,
    "…": 1.0,
    "—": 1.0,
    "–": 0.5,
    "µ": 0.636,
}
_ADVANCE = _NARROW | _WIDE | _SYMBOLS | {"r": 0.411, "t": 0.392, "(": 0.390, ")": 0.390}
_SAFETY = 1.04  # kerning and hinting differences between renderers
_BOLD = 1.12  # DejaVu Sans Bold is ~9 % wider (digits 0.696 em against 0.636)


def text_width(value: str, size: float, *, bold: bool = False) -> float:
    """Estimated width in px of ``value`` at font size ``size`` (DejaVu Sans)."""
    em = 0.0
    for char in value:
        if char in _ADVANCE:
            em += _ADVANCE[char]
        elif char.isupper():
            em += 0.72
        else:
            em += 0.636  # digits are 0.636 em; most lowercase letters are 0.6-0.63
    return em * size * _SAFETY * (_BOLD if bold else 1.0)


def wrap(value: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """``value`` broken at spaces into lines no wider than ``width`` px (a word never splits)."""
    lines: list[str] = []
    current = ""
    for word in value.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, bold=bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def frame(width: float, height: float, title: str, body: list[str], kind: str) -> str:
    """The ``<svg>`` element: a viewBox (it scales to its figure), a title, the parts."""
    return (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def text(
    x: float,
    y: float,
    value: str,
    *,
    anchor: str = "start",
    fill: str = INK,
    size: float | None = None,
    weight: str | None = None,
    cls: str | None = None,
) -> str:
    """One ``<text>`` (``value`` escaped); ``y`` is the baseline."""
    extra = f' font-size="{size:g}"' if size is not None else ""
    extra += f' font-weight="{weight}"' if weight else ""
    extra += f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>'
        f"{escape(value)}</text>"
    )


def line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    stroke: str,
    *,
    width: float = 1.0,
    dash: str | None = None,
    cls: str | None = None,
) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    extra += f' class="{cls}"' if cls else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width:g}"{extra}/>'
    )


def rect(
    x: float,
    y: float,
    width: float,
    height: float,
    fill: str,
    *,
    opacity: float | None = None,
    stroke: str | None = None,
    attrs: str = "",
) -> str:
    extra = f' fill-opacity="{opacity:g}"' if opacity is not None else ""
    extra += f' stroke="{stroke}"' if stroke else ""
    extra += f" {attrs}" if attrs else ""
    return (
        f'<rect x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{height:.2f}" '
        f'fill="{fill}"{extra}/>'
    )
