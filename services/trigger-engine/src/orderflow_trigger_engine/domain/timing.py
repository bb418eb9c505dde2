"""When a firing may happen: the delay after the event, then the next opening of the trigger's
working windows. Pure: no I/O, no clock (``now`` comes in).

Windows are computed in local time of the schedule's IANA zone, day by day, so that 09:00-17:00
stays 09:00-17:00 on the wall clock across daylight-saving changes. A local time that does not
exist (the hour skipped in spring) is read as the wall clock shows it after the jump; a local
time that exists twice (autumn) is its first occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orderflow_schemas import Schedule

UTC = UTC


def _local(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hour, minute = int(hhmm[:2]), int(hhmm[3:])
    wall = datetime.combine(day, time(hour, minute), zone)
    # A time in the spring gap round-trips to a different wall clock: take the instant it names
    # with the offset before the jump, which the wall clock shows an hour later.
    return wall.astimezone(UTC)


def windows_around(at: datetime, schedule: Schedule) -> list[tuple[datetime, datetime]]:
    """The windows (UTC start, UTC end) that open from the day before ``at`` to a week after."""
    zone = ZoneInfo(schedule.timezone)
    today = at.astimezone(zone).date()
    crosses = schedule.end <= schedule.start
    out = []
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        if day.isoweekday() not in schedule.weekdays:
            continue
        end_day = day + timedelta(days=1) if crosses else day
        out.append((_local(day, schedule.start, zone), _local(end_day, schedule.end, zone)))
    return out


def next_opening(at: datetime, schedule: Schedule) -> datetime:
    """``at`` if the schedule allows a firing then, else the next time it opens."""
    if schedule.mode == "continuous":
        return at
    later = []
    for start, end in windows_around(at, schedule):
        if start <= at < end:
            return at
        if start > at:
            later.append(start)
    return min(later)  # weekdays is never empty: some window opens within a week


def due_at(base: datetime, wait: timedelta, schedule: Schedule) -> datetime:
    """When something ``wait`` after ``base`` may happen under ``schedule``."""
    return next_opening(base + wait, schedule)
