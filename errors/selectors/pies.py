"""The data of one pie: what errors/templatetags/error_charts.py draws and links."""

from dataclasses import dataclass

from ..charts import MAX_SLICES, top_slices


@dataclass(frozen=True)
class Pie:
    """One pie: its title, slices biggest first (`more`: the last one stands for "others"),
    and the page it opens (`url_name` with the query `link`; no link when `url_name` is "")."""

    title: str
    slices: tuple[tuple[str, int], ...]
    total: int
    more: bool = False
    url_name: str = ""
    link: tuple[tuple[str, str], ...] = ()


def pie_of(title: str, split: dict, url_name: str = "", **link) -> Pie | None:
    """The pie of `split` {label: count} (the biggest MAX_SLICES - 1 and "others" when more),
    or None when it counts nothing."""
    total = sum(split.values())
    if not total:
        return None
    return Pie(
        title,
        tuple(top_slices(split)),
        total,
        more=len(split) > MAX_SLICES,
        url_name=url_name,
        link=tuple((key, str(value)) for key, value in link.items()),
    )
