"""Log samples grouped by (exit code, masked message): a workflow's groups, the top messages
of the current snapshot, and the workflows that have one message. They read MessageGroup
rows (grouped when the samples were stored) and sum them in the database."""

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, Min, OuterRef, Sum, Window
from django.db.models.functions import Length, RowNumber, Substr

from workflows.models import Workflow

from ..log_samples import MESSAGES_GENERATION_KEY
from ..messages import SAMPLES_PER_GROUP
from ..models import ErrorCount, LogSample, MessageGroup
from .global_view import PageInfo
from .snapshot import digest, snapshot_key

MESSAGES_PER_PAGE = 25
# A sample under its message shows its start (the explain page shows it whole): cut in the
# database, so a page neither loads nor caches 20,000-character logs.
SAMPLE_CHARS = 1500
WORKFLOWS_PER_PAGE = 50
# "samples": most samples first (the default); "workflows": in most workflows first.
MESSAGE_SORTS = {"samples": ("-samples", "-workflows"), "workflows": ("-workflows", "-samples")}


@dataclass
class Sample:
    """One stored log sample shown under its message."""

    workflow: str
    step: str
    site: str
    exit_code: int  # the cell it is filed under (the explain page's link)
    error_type: str
    details: str  # at most SAMPLE_CHARS characters
    cut: bool = False  # the stored sample is longer


@dataclass
class Message:
    exit_code: int
    message: str
    key: str
    samples: int  # stored samples that say it
    workflows: int = 1
    sites: int = 0  # on a workflow's page: the distinct sites of its samples
    shown: list[Sample] = field(default_factory=list)


@dataclass
class TopMessages:
    sort: str
    messages: list[Message]
    page: PageInfo
    total_messages: int
    total_samples: int


@dataclass
class MessageWorkflow:
    name: str
    is_acdc: bool
    samples: int
    sites: int


@dataclass
class MessageWorkflows:
    message: Message
    workflows: list[MessageWorkflow]
    page: PageInfo
    total_workflows: int


def _in_snapshot():
    """MessageGroup rows of workflows with errors in the current snapshot."""
    return MessageGroup.objects.filter(
        Exists(ErrorCount.objects.filter(step__workflow_id=OuterRef("workflow_id")))
    )


def _samples_by_id(ids: list[int]) -> dict[int, Sample]:
    """The stored samples of `ids` with their step and workflow, their text cut at
    SAMPLE_CHARS. One query."""
    rows = (
        LogSample.objects.filter(pk__in=ids)
        .annotate(start=Substr("details", 1, SAMPLE_CHARS), length=Length("details"))
        .values_list(
            "pk", "step__workflow__name", "step__name", "site", "exit_code", "error_type", "start", "length"
        )
    )
    return {
        pk: Sample(workflow, step, site, code, kind, start, length > SAMPLE_CHARS)
        for pk, workflow, step, site, code, kind, start, length in rows
    }


def workflow_messages(workflow: Workflow) -> list[Message]:
    """`workflow`'s stored log samples by (exit code, masked message), most samples first,
    each with up to SAMPLES_PER_GROUP samples. Two queries."""
    groups = list(
        MessageGroup.objects.filter(workflow=workflow).order_by("-samples", "exit_code", "message_key")
    )
    found = _samples_by_id([pk for group in groups for pk in group.shown_samples])
    return [
        Message(
            group.exit_code,
            group.message,
            group.message_key,
            group.samples,
            sites=group.sites,
            shown=[found[pk] for pk in group.shown_samples if pk in found],
        )
        for group in groups
    ]


def _shown_samples(keys: list[str], queryset) -> dict[str, list[Sample]]:
    """Up to SAMPLES_PER_GROUP samples per message key, from its biggest workflows first
    (so they show as many workflows as there are). Two queries."""
    if not keys:
        return {}
    ranked = (
        queryset.filter(message_key__in=keys)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("message_key")], order_by=[F("samples").desc(), F("id").asc()]
            )
        )
        .filter(rank__lte=SAMPLES_PER_GROUP)
        .order_by("message_key", "rank")
        .values_list("message_key", "shown_samples")
    )
    wanted: dict[str, list[int]] = {}
    for key, ids in ranked:
        # One sample from each of the biggest workflows first, then the rest of theirs.
        wanted.setdefault(key, []).append(ids)
    chosen = {key: _interleave(lists)[:SAMPLES_PER_GROUP] for key, lists in wanted.items()}
    found = _samples_by_id([pk for ids in chosen.values() for pk in ids])
    return {key: [found[pk] for pk in ids if pk in found] for key, ids in chosen.items()}


def _interleave(lists: list[list[int]]) -> list[int]:
    longest = max((len(ids) for ids in lists), default=0)
    return [ids[i] for i in range(longest) for ids in lists if i < len(ids)]


def _page(number: int, total: int, per_page: int) -> PageInfo:
    pages = max(1, math.ceil(total / per_page))
    return PageInfo(min(max(number, 1), pages), pages)


def _ranked_messages(sort: str, cache_key: str | None) -> list[dict]:
    """Every message of the current snapshot's workflows, summed over them, `sort` first:
    one GROUP BY, kept per snapshot, stored sample set and sort so paging costs no query."""
    rows = cache.get(cache_key) if cache_key else None
    if rows is None:
        rows = list(
            _in_snapshot()
            .values("message_key")
            .annotate(
                exit_code=Min("exit_code"),
                message=Min("message"),
                samples=Sum("samples"),
                workflows=Count("id"),
            )
            .order_by(*MESSAGE_SORTS[sort], "exit_code", "message_key")
        )
        if cache_key:
            cache.set(cache_key, rows, settings.WWT["cache"]["errors_minutes"] * 60)
    return rows


def top_messages(*, page: int = 1, sort: str = "samples", per_page: int = MESSAGES_PER_PAGE) -> TopMessages:
    """The messages of the current snapshot's workflows, summed over workflows, `sort`
    first (a key of MESSAGE_SORTS), paginated; each with up to SAMPLES_PER_GROUP samples.
    Four queries at most, none when cached (per snapshot and per stored sample set)."""
    if sort not in MESSAGE_SORTS:
        raise ValueError(f"sort must be one of {', '.join(MESSAGE_SORTS)}, not {sort!r}")
    key = ranked_key = None
    snapshot = snapshot_key()
    if snapshot:
        generation = cache.get(MESSAGES_GENERATION_KEY) or 0
        key = f"wwt:messages:{snapshot}:{generation}:{digest(page, sort, per_page)}"
        ranked_key = f"wwt:messages-ranked:{snapshot}:{generation}:{sort}"
        view = cache.get(key)
        if view is not None:
            return view
    ranked = _ranked_messages(sort, ranked_key)
    info = _page(page, len(ranked), per_page)
    start = (info.number - 1) * per_page
    rows = ranked[start : start + per_page]
    shown = _shown_samples([row["message_key"] for row in rows], _in_snapshot())
    view = TopMessages(
        sort=sort,
        messages=[
            Message(
                row["exit_code"],
                row["message"],
                row["message_key"],
                row["samples"],
                workflows=row["workflows"],
                shown=shown.get(row["message_key"], []),
            )
            for row in rows
        ],
        page=info,
        total_messages=len(ranked),
        total_samples=sum(row["samples"] for row in ranked),
    )
    if key:
        cache.set(key, view, settings.WWT["cache"]["errors_minutes"] * 60)
    return view


def message_workflows(
    message_key: str, *, page: int = 1, per_page: int = WORKFLOWS_PER_PAGE
) -> MessageWorkflows | None:
    """The current snapshot's workflows whose samples say `message_key`'s message, most
    samples first and paginated, with the message summed over them; None when no current
    workflow has it. Four queries at most."""
    groups = _in_snapshot().filter(message_key=message_key)
    summary = groups.aggregate(
        exit_code=Min("exit_code"), message=Min("message"), samples=Sum("samples"), workflows=Count("id")
    )
    if not summary["workflows"]:
        return None
    info = _page(page, summary["workflows"], per_page)
    start = (info.number - 1) * per_page
    rows = groups.order_by("-samples", "workflow__name").values_list(
        "workflow__name", "workflow__is_acdc", "samples", "sites"
    )[start : start + per_page]
    message = Message(
        summary["exit_code"],
        summary["message"],
        message_key,
        summary["samples"],
        workflows=summary["workflows"],
        shown=_shown_samples([message_key], groups).get(message_key, []),
    )
    return MessageWorkflows(
        message=message,
        workflows=[MessageWorkflow(*row) for row in rows],
        page=info,
        total_workflows=summary["workflows"],
    )
