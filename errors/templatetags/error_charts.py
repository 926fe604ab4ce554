"""The error pages' charts as template tags: the selectors give data (errors.selectors.pies.Pie,
trend series, log parts) and these turn it into escaped markup through errors/charts.py,
with links by reverse()."""

from functools import cache
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .. import charts
from ..selectors.explanations import split_matches

register = template.Library()
SWATCH_CLASSES = {f"s{slot}" for slot in range(charts.PALETTE_SIZE)} | {charts.OTHERS_CLASS}


@cache
def _path(url_name: str) -> str:
    # A page holds hundreds of pies leading to the same page: resolve its path once.
    return reverse(url_name)


def pie_href(pie) -> str:
    """The escaped link of a pie ("/" kept as is, as Django's |urlencode does)."""
    if not pie.url_name:
        return ""
    return escape(f"{_path(pie.url_name)}?{urlencode(pie.link, safe='/')}")


def _pie_markup(pie) -> str:
    svg = charts.pie_svg(pie.title, list(pie.slices), pie.total, more=pie.more, colours=pie.colours)
    href = pie_href(pie)
    return f'<a href="{href}">{svg}</a>' if href else svg


@register.simple_tag
def pie_cells(pies) -> SafeString:
    """One <td> per pie of a table row (an empty one where a pie is None)."""
    return mark_safe(  # noqa: S308 -- pie_svg and pie_href escape
        "".join(f'<td class="pc">{_pie_markup(pie)}</td>' if pie else "<td></td>" for pie in pies)
    )


@register.simple_tag
def pie(pie) -> SafeString:
    """One linked pie, without its cell (the sites page)."""
    return mark_safe(_pie_markup(pie)) if pie else mark_safe("")  # noqa: S308 -- escaped


@register.simple_tag
def pie_legend(legend, palette) -> SafeString:
    """The legend of a page's pies: `legend` [(label, CSS class)] from the selector
    (errors.selectors.pies.legend_of), naming what the colours of `palette` stand for ("" without pies)."""
    if not legend:
        return mark_safe("")
    where = "on this page" if palette.from_page else "in the snapshot (the same colour on every page)"
    caption = (
        f"Colours: the {charts.PALETTE_SIZE} {palette.what}s with most errors {where}; grey: all others."
    )
    return charts.legend_html(legend, caption)


@register.simple_tag
def swatch(css: str) -> SafeString:
    """A small square in the colour of CSS class `css` (a selector's colour: s0..s6, or the
    grey "so"), so a value looks the same in a table as in the pies."""
    css = css if css in SWATCH_CLASSES else charts.OTHERS_CLASS
    return mark_safe(  # noqa: S308 -- the class is one of SWATCH_CLASSES
        f'<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
        f'<rect width="10" height="10" class="{css}"/></svg>'
    )


@register.simple_tag
def trend_chart(days, series) -> SafeString:
    """The line chart of one trends series {"series", "rest"} over `days` ("" without days)."""
    if not days:
        return mark_safe("")
    return charts.line_chart(days, series["series"], rest=series["rest"])


@register.simple_tag
def marked_log(parts) -> SafeString:
    """A log sample with its procedure's matches in <mark> (parts from the selector)."""
    return mark_safe(charts.marked_text(parts))  # noqa: S308 -- marked_text escapes


def highlight(text: str, pattern) -> tuple[str, list[str]]:
    """Escaped `text` with each match of `pattern` in <mark>, and the group(1) values found."""
    parts, found = split_matches(text, pattern)
    return charts.marked_text(parts), found
