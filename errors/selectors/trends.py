"""The trends page: errors per day from the history."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.db.models import Sum
from django.utils import timezone

from workflows.exit_codes import exit_code_label

from ..history import history_bucket
from ..models import ErrorHistory


def error_trends(*, days: int = 14, top: int = 8, until: datetime | None = None) -> dict:
    """Errors per day over the last `days` days from the history, per exit code and per site
    (the `top` biggest, the rest summed as "others"). A day counts the last snapshot of
    that day, since each hourly bucket repeats the errors still open. Three queries.
    `until` (a ticket link's snapshot time; default now) ends the period at the last history
    bucket complete by then (a bucket still open may be rewritten), so the same link plots the
    same points later.
    Returns {"days": [date], "by_code"/"by_site": {"series": [(label, [per day])], "rest"}}."""
    # Exactly `days` calendar days, today included, each plotted (0 without history):
    # the page says "last N days" and shows N points.
    today = timezone.localdate(until)
    days_list = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    since = timezone.make_aware(datetime.combine(days_list[0], time.min))
    history = ErrorHistory.objects.filter(bucket__gte=since)
    if until is not None:
        history = history.filter(bucket__lt=history_bucket(until))
    # The distinct buckets (a few hundred, read from the (bucket, ...) indexes), dated here:
    # truncating every row's bucket to its local day in the database took seconds at 5k.
    last_buckets: dict = {}
    for bucket in history.values_list("bucket", flat=True).distinct().order_by("bucket"):
        last_buckets[timezone.localdate(bucket)] = bucket
    day_of_bucket = {bucket: day for day, bucket in last_buckets.items()}
    # Without any history there is nothing to plot: the page says so instead.
    result = {"days": days_list if last_buckets else []}
    for name, field_name in (("by_code", "exit_code"), ("by_site", "site")):
        per_day: dict = defaultdict(lambda: defaultdict(int))
        overall: dict = defaultdict(int)
        rows = (
            ErrorHistory.objects.filter(bucket__in=list(day_of_bucket))
            .values_list("bucket", field_name)
            .annotate(total=Sum("count"))
            .order_by()
        )
        for bucket, key, total in rows:
            per_day[key][day_of_bucket[bucket]] += total
            overall[key] += total
        biggest = sorted(overall, key=lambda key: (-overall[key], str(key)))[:top]
        name_of = exit_code_label if field_name == "exit_code" else str
        series = [(name_of(key), [per_day[key].get(day, 0) for day in days_list]) for key in biggest]
        others = [key for key in overall if key not in biggest]
        rest = None
        if others:
            rest = (
                f"{len(others)} others",
                [sum(per_day[key].get(day, 0) for key in others) for day in days_list],
            )
        result[name] = {"series": series, "rest": rest}
    return result
