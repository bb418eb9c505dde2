"""When a waiting firing may happen: working windows as a person reads them, across
daylight-saving changes and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from orderflow_schemas import Schedule
from orderflow_trigger_engine.domain.timing import due_at, next_opening

WARSAW = ZoneInfo("Europe/Warsaw")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=WARSAW)  # type: ignore[misc]


def office(**extra: object) -> Schedule:
    return Schedule.model_validate({"mode": "window", "weekdays": [1, 2, 3, 4, 5],
                                    "start": "09:00", "end": "17:00",
                                    "timezone": "Europe/Warsaw", **extra})


def test_continuous_fires_at_once() -> None:
    at = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    assert next_opening(at, Schedule()) == at


def test_inside_a_window_fires_at_once_and_outside_waits_for_the_next_opening() -> None:
    wednesday_noon = local(2026, 11, 25, 12, 0)
    assert next_opening(wednesday_noon, office()) == wednesday_noon
    wednesday_evening = local(2026, 11, 25, 17, 0)  # the end is not in the window
    assert next_opening(wednesday_evening, office()) == local(2026, 11, 26, 9, 0)
    saturday = local(2026, 11, 28, 10, 0)
    assert next_opening(saturday, office()) == local(2026, 11, 30, 9, 0)  # Monday


def test_a_delay_that_ends_after_hours_waits_for_the_next_working_day() -> None:
    friday = local(2026, 11, 27, 16, 55)
    assert due_at(friday, timedelta(minutes=10), office()) == local(2026, 11, 30, 9, 0)


def test_windows_keep_their_wall_clock_hours_across_daylight_saving_changes() -> None:
    every_day = office(weekdays=[1, 2, 3, 4, 5, 6, 7])
    # Spring (29 March 2026): 09:00 is 08:00 UTC the day before and 07:00 UTC after.
    assert next_opening(local(2026, 3, 28, 18, 0), every_day) == \
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # Autumn (25 October 2026): 09:00 is 07:00 UTC the day before and 08:00 UTC after.
    assert next_opening(local(2026, 10, 24, 18, 0), every_day) == \
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    # A window opening in the hour skipped in spring opens when the clock reads 03:30.
    night = office(weekdays=[7], start="02:30", end="04:00")
    opens = next_opening(local(2026, 3, 28, 12, 0), night)
    assert opens == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert opens.astimezone(WARSAW).strftime("%H:%M") == "03:30"


def test_a_window_that_crosses_midnight_runs_into_the_next_day() -> None:
    friday_night = office(weekdays=[5], start="22:00", end="06:00")
    saturday_3am = local(2026, 11, 28, 3, 0)
    assert next_opening(saturday_3am, friday_night) == saturday_3am  # opened on Friday
    saturday_7am = local(2026, 11, 28, 7, 0)
    assert next_opening(saturday_7am, friday_night) == local(2026, 12, 4, 22, 0)
    thursday_night = local(2026, 11, 26, 23, 0)  # Thursday is not a weekday of the window
    assert next_opening(thursday_night, friday_night) == local(2026, 11, 27, 22, 0)


def test_a_window_with_the_same_start_and_end_is_the_whole_day_from_then() -> None:
    mondays = office(weekdays=[1], start="09:00", end="09:00")
    assert next_opening(local(2026, 11, 24, 8, 0), mondays) == local(2026, 11, 24, 8, 0)
    assert next_opening(local(2026, 11, 24, 9, 0), mondays) == local(2026, 11, 30, 9, 0)
