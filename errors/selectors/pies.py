"""The data of one pie (what errors/templatetags/error_charts.py draws and links) and the
palette that gives a value the same colour in every pie of a page."""

from dataclasses import dataclass

from workflows.exit_codes import exit_code_label

from ..charts import MAX_SLICES, OTHERS_CLASS, PALETTE_SIZE, top_slices
from .site_context import SnapshotSites, snapshot_sites


@dataclass(frozen=True)
class Palette:
    """The values that have a colour, most errors first: value i is drawn with CSS class
    "s{i}" (errors.css); every other value is grey (OTHERS_CLASS). `what` names the values
    ("exit code", "site", "step") for the legend; `from_page`: made from one page's values
    (steps), not the whole snapshot's."""

    what: str
    values: tuple[str, ...]
    from_page: bool = False

    def colour(self, label: str) -> str | None:
        """The CSS class of `label`, or None when it shares the grey."""
        try:
            return f"s{self.values.index(label)}"
        except ValueError:
            return None


def palette_of(what: str, totals: dict, size: int = PALETTE_SIZE, *, from_page: bool = False) -> Palette:
    """The palette of the `size` biggest of `totals` {label: errors} (ties by label)."""
    ordered = sorted(totals.items(), key=lambda item: (-item[1], str(item[0])))
    return Palette(what, tuple(str(label) for label, count in ordered[:size] if count), from_page)


def snapshot_palettes(found: SnapshotSites | None = None) -> dict[str, Palette]:
    """{"exit_code": ..., "site": ...}: the palettes of the whole current snapshot, so an exit
    code or a site has one colour on every page (global view, sites, list and workflow pages)
    until the next ingestion. From the snapshot's cached per-site sums (`found`, default
    snapshot_sites()): no query of its own."""
    found = found or snapshot_sites()
    codes: dict[str, int] = {}
    for per_code in found.per_code.values():
        for code, count in per_code.items():
            label = exit_code_label(code)
            codes[label] = codes.get(label, 0) + count
    sites = {site: errors for site, errors, _, _ in found.sites}
    return {"exit_code": palette_of("exit code", codes), "site": palette_of("site", sites)}


@dataclass(frozen=True)
class Pie:
    """One pie: its title, slices biggest first (`more`: the last one stands for "others"),
    and the page it opens (`url_name` with the query `link`; no link when `url_name` is "").
    `colours` holds one CSS class per slice (empty: coloured by rank)."""

    title: str
    slices: tuple[tuple[str, int], ...]
    total: int
    more: bool = False
    url_name: str = ""
    link: tuple[tuple[str, str], ...] = ()
    colours: tuple[str, ...] = ()


def coloured_slices(
    split: dict, palette: Palette, *, rest: int = 0, rest_values: int = 0, noun: str = "other"
) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
    """The slices of `split` {label: count} with a colour in `palette` (biggest first), then one
    grey slice ("3 others") for the rest of `split` plus `rest` errors of `rest_values` values
    not in it."""
    shown, grey, grey_values = [], rest, rest_values
    for label, count in sorted(split.items(), key=lambda item: (-item[1], str(item[0]))):
        if palette.colour(str(label)) is None:
            grey += count
            grey_values += 1
        else:
            shown.append((str(label), count))
    colours = [palette.colour(label) for label, _ in shown]
    if grey:
        shown.append((f"{grey_values} {noun}{'' if grey_values == 1 else 's'}", grey))
        colours.append(OTHERS_CLASS)
    return tuple(shown), tuple(colours)


def pie_of(
    title: str, split: dict, url_name: str = "", *, palette: Palette | None = None, **link
) -> Pie | None:
    """The pie of `split` {label: count}, or None when it counts nothing. With a `palette`, the
    values it colours each have their slice and the rest share one grey slice; without, the
    biggest MAX_SLICES - 1 and "others" when more, coloured by rank."""
    total = sum(split.values())
    if not total:
        return None
    link_items = tuple((key, str(value)) for key, value in link.items())
    if palette is not None:
        slices, colours = coloured_slices(split, palette)
        more = colours[-1] == OTHERS_CLASS
        return Pie(title, slices, total, more=more, url_name=url_name, link=link_items, colours=colours)
    return Pie(
        title,
        tuple(top_slices(split)),
        total,
        more=len(split) > MAX_SLICES,
        url_name=url_name,
        link=link_items,
    )


def legend_of(palette: Palette, pies) -> list[tuple[str, str]]:
    """[(label, CSS class)] of the palette's values that some pie of `pies` shows, in palette
    order, then ("all others", grey) when some pie has a grey slice."""
    shown: set[str] = set()
    grey = False
    for pie in pies:
        if pie is None:
            continue
        for (label, _), colour in zip(pie.slices, pie.colours, strict=False):
            if colour == OTHERS_CLASS:
                grey = True
            else:
                shown.add(label)
    legend = [(label, f"s{slot}") for slot, label in enumerate(palette.values) if label in shown]
    if grey:
        legend.append(("all others", OTHERS_CLASS))
    return legend
