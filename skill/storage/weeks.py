"""Week summaries of a record's sessions: this week's and last week's counts, and the weekly streak."""

from __future__ import annotations

import datetime as dt
import math

from .record import MemoryRecord


def _local_date(ts: float, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def _as_datetime(now: float | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(now, dt.datetime):
        return now if now.tzinfo is not None else now.replace(tzinfo=tz)
    return dt.datetime.fromtimestamp(now, tz)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _sessions_by_week(record: MemoryRecord, tz: dt.tzinfo) -> dict[dt.date, int]:
    counts: dict[dt.date, int] = {}
    for ts in record.sessions:
        if not math.isfinite(ts):
            continue
        week = _monday(_local_date(ts, tz))
        counts[week] = counts.get(week, 0) + 1
    return counts


def week_summary(
    record: MemoryRecord, now: float | dt.datetime, tz: dt.tzinfo = dt.UTC
) -> tuple[int, int]:
    """``(sessions_this_week, sessions_last_week)`` by ISO week (Monday..Sunday) in ``tz``.

    A forgiving measure: it counts sessions per week and never asks for a daily chain.
    ``now`` is epoch seconds or a datetime (naive ones are taken to be in ``tz``).
    """
    this_week = _monday(_as_datetime(now, tz).astimezone(tz).date())
    counts = _sessions_by_week(record, tz)
    return counts.get(this_week, 0), counts.get(this_week - dt.timedelta(days=7), 0)


def weekly_streak(
    record: MemoryRecord, now: float | dt.datetime, tz: dt.tzinfo = dt.UTC
) -> int:
    """Consecutive ISO weeks with at least one session, ending this week — or last week, so a
    streak is not 'broken' on Monday morning before this week's first session."""
    this_week = _monday(_as_datetime(now, tz).astimezone(tz).date())
    counts = _sessions_by_week(record, tz)
    week = this_week if counts.get(this_week) else this_week - dt.timedelta(days=7)
    streak = 0
    while counts.get(week):
        streak += 1
        week -= dt.timedelta(days=7)
    return streak
