"""Server-side SVG charts (pies for the global view, lines for trends): no JavaScript,
no network. Every text that reaches the markup goes through `html.escape` here, so
callers may mark the result safe."""

import html
import math
from urllib.parse import urlencode

from django.utils.safestring import SafeString, mark_safe

# Pies colour a value the same way wherever it appears: the page's palette
# (errors.selectors.pies.Palette) gives its PALETTE_SIZE biggest values the classes .s0 ..
# .s6 of errors.css, in this order (Okabe & Ito's colour-blind safe set), and every other value
# the grey .so. A pie without a palette is coloured by rank with the same classes.
MAX_SLICES = 5
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7", "#f0e442"]
PALETTE_SIZE = len(PALETTE)
OTHERS_CLASS = "so"
OTHER_COLOUR = "#9aa5b1"
# The trend lines keep their own colours: they are ranked series, not values of a page.
RANK_COLOURS = ["#c0392b", "#1f5fa8", "#e0a100", "#2e8b57", "#8e44ad"]


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def link(path: str, **params) -> str:
    """An escaped href for `path?params` (values are URL-encoded, then HTML-escaped; "/"
    is left as is, as Django's |urlencode does: step paths stay short and readable)."""
    return esc(f"{path}?{urlencode(params, safe='/')}")


def radius_fraction(total: int) -> float:
    """Pie radius relative to the cell: r/r_max = n/(n+10)."""
    return total / (total + 10) if total > 0 else 0.0


def top_slices(split: dict, limit: int = MAX_SLICES) -> list[tuple[str, int]]:
    """The biggest parts (ties by label): all of them if they are at most `limit`, else
    the biggest `limit` - 1 and one "others" part for the rest."""
    ordered = sorted(split.items(), key=lambda item: (-item[1], str(item[0])))
    if len(ordered) <= limit:
        return [(str(label), count) for label, count in ordered]
    shown = [(str(label), count) for label, count in ordered[: limit - 1]]
    shown.append((f"{len(ordered) - limit + 1} others", sum(count for _, count in ordered[limit - 1 :])))
    return shown


def _point(angle: float, r: float) -> str:
    return f"{r * math.sin(angle):.2f},{-r * math.cos(angle):.2f}"


def pie_svg(title: str, slices: list[tuple[str, int]], total: int, *, more: bool = False, colours=()) -> str:
    """Markup (a string of escaped HTML) for one pie: radius from `total`, slices in the
    order given (biggest first), an SVG <title> with the total and the split. `colours`
    gives each slice its CSS class; without, slices are coloured by rank and `more` means
    the last slice stands for "others"."""
    if not colours:
        colours = [
            OTHERS_CLASS if more and rank == len(slices) - 1 else f"s{rank}" for rank in range(len(slices))
        ]
    r = radius_fraction(total)
    lines = [f"{title}: {total} errors"] + [
        f"{label}: {count} ({100 * count / total:.0f}%)" for label, count in slices
    ]
    # Kept terse: a page holds hundreds of these (styled through `.pc svg` in errors.css).
    parts = [f'<svg viewBox="-1 -1 2 2"><title>{esc(chr(10).join(lines))}</title>']
    if len(slices) == 1:
        parts.append(f'<circle r="{r:.2f}" class="{colours[0]}"/>')
    else:
        angle = 0.0
        for css, (_, count) in zip(colours, slices, strict=True):
            sweep = 2 * math.pi * count / total
            large = 1 if sweep > math.pi else 0
            parts.append(
                f'<path class="{css}" d="M0,0L{_point(angle, r)}'
                f'A{r:.2f},{r:.2f} 0 {large} 1 {_point(angle + sweep, r)}Z"/>'
            )
            angle += sweep
    parts.append("</svg>")
    return "".join(parts)


def pie_cell(title: str, split: dict, href: str | None) -> str:
    """A table cell holding the pie for `split` {label: count}, linked to `href` (escaped)."""
    total = sum(split.values())
    if not total:
        return "<td></td>"
    slices = top_slices(split)
    svg = pie_svg(title, slices, total, more=len(split) > MAX_SLICES)
    if href:
        return f'<td class="pc"><a href="{href}">{svg}</a></td>'
    return f'<td class="pc">{svg}</td>'


def legend_html(entries: list[tuple[str, str]], caption: str = "") -> SafeString:
    """The legend of a page's pies: [(label, CSS class)] as readable text with a swatch each,
    after `caption` (escaped)."""
    items = "".join(
        f'<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
        f'<rect width="10" height="10" class="{esc(css)}"/></svg>{esc(label)}</li>'
        for label, css in entries
    )
    head = f'<li class="legend-caption">{esc(caption)}</li>' if caption else ""
    return mark_safe(f'<ul class="legend">{head}{items}</ul>')  # noqa: S308 -- built from escaped text


def line_chart(
    days: list,
    series: list[tuple[str, list[int]]],
    *,
    rest: tuple[str, list[int]] | None = None,
    width: int = 760,
    height: int = 260,
) -> SafeString:
    """A line chart of `series` [(label, one value per day)] over `days`, with axes,
    a legend and a <title> tooltip per point. `rest` (the sum of everything else) is named
    in the legend with its last value but not drawn: summed over dozens of codes or sites
    it dwarfs every line worth reading."""
    left, right, top, bottom = 48, 170, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(values) for _, values in series if values), default=0) or 1
    n = len(days)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / peak

    parts = [
        f'<svg class="trend" viewBox="0 0 {width} {height}" role="img" '
        f'preserveAspectRatio="xMinYMin meet" style="max-width:{width}px">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" class="axis"/>',
    ]
    for fraction in (0, 0.5, 1):
        value = round(peak * fraction)
        parts.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">{value}</text>'
        )
    step = max(1, n // 8)
    for i, day in enumerate(days):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 10}" class="tick" text-anchor="middle">'
                f"{esc(day.strftime('%m-%d'))}</text>"
            )
    palette = RANK_COLOURS + ["#16a085", "#d35400", "#2c3e50", OTHER_COLOUR]
    for number, (label, values) in enumerate(series):
        colour = palette[number % len(palette)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, value in enumerate(values):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{esc(label)} on {esc(days[i].isoformat())}: {value} errors</title></circle>"
            )
        ly = top + 14 * number + 8
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + plot_w + 27}" y="{ly + 1}" class="tick">{esc(label)}</text>'
        )
    if rest is not None:
        label, values = rest
        ly = top + 14 * len(series) + 8
        parts.append(
            f'<text x="{left + plot_w + 12}" y="{ly + 1}" class="tick muted">'
            f"<title>{esc(label)}, summed: {values[-1] if values else 0} errors on the last day "
            f"(not drawn, it would flatten the lines above)</title>"
            f"+ {esc(label)}: {values[-1] if values else 0}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- built from escaped text


def marked_text(parts: list[tuple[str, bool]]) -> str:
    """Escaped text with the parts that matched (True) in <mark>."""
    return "".join(f"<mark>{esc(text)}</mark>" if hit else esc(text) for text, hit in parts)
