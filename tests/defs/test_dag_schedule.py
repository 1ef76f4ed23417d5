"""DAG schedules: parsing, data intervals, manual logical dates, due runs, and the DST policy.

Every clock here is fixed; datetimes are compared through ``isoformat()`` so that the UTC offset
is part of each assertion (two aware datetimes in one zone compare equal across a DST fold).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from datetime import timezone as FixedOffset
from zoneinfo import ZoneInfo

import pytest

from deras._core.errors import DefinitionError
from deras._core.keys import AssetKey
from deras._defs.dag_schedule import PRESETS, DagSchedule, DueRun, due_runs, parse_schedule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
JAKARTA = ZoneInfo("Asia/Jakarta")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def iso(dates: Iterable[datetime | None]) -> list[str | None]:
    return [None if d is None else d.isoformat() for d in dates]


def intervals(runs: list[DueRun]) -> list[tuple[str, str]]:
    return [(r.data_interval_start.isoformat(), r.data_interval_end.isoformat()) for r in runs]


def due(schedule: DagSchedule, **kwargs: object) -> list[DueRun]:
    """``due_runs`` with the defaults of a DAG that never ran and has no end date."""
    args: dict[str, object] = {"end_date": None, "catchup": True, "existing_logical_dates": ()}
    args.update(kwargs)
    return due_runs(schedule, **args)  # type: ignore[arg-type]


# -- parsing -------------------------------------------------------------------------------------


def test_cron_string_is_kept_with_normalised_spacing() -> None:
    s = parse_schedule("  30   2 * * 1-5 ", timezone="Europe/Berlin")
    assert (s.kind, s.cron, s.timezone, s.preset) == ("cron", "30 2 * * 1-5", "Europe/Berlin", None)


@pytest.mark.parametrize(
    ("preset", "cron"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_presets_are_crons(preset: str, cron: str) -> None:
    s = parse_schedule(preset)
    assert (s.kind, s.cron, s.preset, s.summary) == ("cron", cron, preset.lower(), preset.lower())


def test_a_preset_equals_its_cron() -> None:
    assert parse_schedule("@daily") == parse_schedule("0 0 * * *")
    assert parse_schedule("@daily") != parse_schedule("@daily", timezone="Europe/Berlin")


def test_every_preset_is_a_valid_cron() -> None:
    for preset in PRESETS:
        assert parse_schedule(preset).next_logical_date(utc(2025, 1, 1)) is not None


def test_once_none_timedelta_and_assets() -> None:
    start = utc(2025, 1, 1)
    once = parse_schedule("@once", start_date=start)
    assert (once.kind, once.anchor) == ("once", start)
    assert parse_schedule(None).kind == "none"
    every = parse_schedule(timedelta(hours=6), start_date=start)
    assert (every.kind, every.delta, every.anchor, every.summary) == (
        "timedelta",
        timedelta(hours=6),
        start,
        "every 6:00:00",
    )


def test_asset_schedule_takes_keys_strings_and_anything_with_to_user_string() -> None:
    class Dataset:
        def to_user_string(self) -> str:
            return "lake/events"

    s = parse_schedule([AssetKey("raw_data"), "prices/raw", Dataset(), "raw_data"])
    assert s.kind == "assets"
    assert s.asset_keys == (AssetKey("raw_data"), AssetKey(["prices", "raw"]), AssetKey(["lake", "events"]))
    assert s.summary == "on raw_data, prices/raw, lake/events"


def test_timezone_may_be_a_tzinfo() -> None:
    assert parse_schedule("@daily", timezone=BERLIN).timezone == "Europe/Berlin"
    assert parse_schedule("@daily", timezone=UTC).timezone == "UTC"
    # POSIX-style names invert the sign: Etc/GMT-2 is UTC+2.
    assert parse_schedule("@daily", timezone=FixedOffset(timedelta(hours=2))).timezone == "Etc/GMT-2"


def test_repr_shows_what_the_schedule_is() -> None:
    assert repr(parse_schedule("@daily", timezone="Asia/Jakarta")) == (
        "DagSchedule(kind='cron', preset='@daily', cron='0 0 * * *', timezone='Asia/Jakarta')"
    )
    assert repr(parse_schedule(timedelta(hours=6), start_date=datetime(2025, 1, 1))) == (
        "DagSchedule(kind='timedelta', delta='6:00:00', anchor='2025-01-01T00:00:00+00:00', timezone='UTC')"
    )
    assert repr(parse_schedule(["raw_data"])) == "DagSchedule(kind='assets', asset_keys=['raw_data'])"
    assert repr(parse_schedule(None)) == "DagSchedule(kind='none')"


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("61 * * * *", "out of range"),
        ("0 25 * * *", "out of range"),
        ("*/0 * * * *", "step '0'"),
        ("* * *", "it has 3 fields"),
        ("0 0 * * * *", "it has 6 fields"),
        ("every day", "it has 2 fields"),
        ("0 0 30 2 *", "it never fires"),
    ],
)
def test_invalid_cron_fails_at_definition_naming_the_string_the_dag_and_a_valid_example(
    cron: str, reason: str
) -> None:
    with pytest.raises(DefinitionError) as e:
        parse_schedule(cron, where="DAG 'etl'")
    message = str(e.value)
    assert message.startswith(f"DAG 'etl': schedule {cron!r} is not a valid cron expression (")
    assert reason in message
    assert "e.g. '30 2 * * *'" in message


def test_misspelt_preset_suggests_the_closest() -> None:
    with pytest.raises(DefinitionError, match=r"DAG 'etl': schedule '@dayly' .* Did you mean '@daily'\?"):
        parse_schedule("@dayly", where="DAG 'etl'")


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(hours=-1)])
def test_non_positive_timedelta_is_an_error(delta: timedelta) -> None:
    with pytest.raises(DefinitionError, match=r"DAG 'etl': schedule .* must be a positive duration"):
        parse_schedule(delta, where="DAG 'etl'")


@pytest.mark.parametrize(
    ("schedule", "match"),
    [
        (5, r"schedule 5 \(int\) is not a schedule"),
        ([], r"schedule=\[\] names no assets"),
        ([3], "schedule lists 3, which is not an asset key"),
        ("@continuous", "'@continuous' is not supported"),
    ],
)
def test_other_invalid_schedules(schedule: object, match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        parse_schedule(schedule)


def test_unknown_timezone_is_an_error() -> None:
    with pytest.raises(DefinitionError, match="DAG 'etl': timezone 'Mars/Base' is not an IANA timezone"):
        parse_schedule("@daily", where="DAG 'etl'", timezone="Mars/Base")


def test_naive_instants_are_refused_with_a_fix() -> None:
    with pytest.raises(
        ValueError, match=r"now must be timezone-aware, e\.g\. datetime\(2025, 1, 1, tzinfo=UTC\)"
    ):
        parse_schedule("@daily").infer_logical_date(datetime(2025, 1, 1))


def test_importing_the_module_does_not_import_croniter() -> None:
    """croniter is imported when a cron is first parsed or evaluated: `import deras` stays fast."""
    code = "import sys, deras._defs.dag_schedule; print('croniter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- next logical dates and previews ------------------------------------------------------------


def test_next_logical_date_is_strictly_after() -> None:
    daily = parse_schedule("@daily")
    assert iso([daily.next_logical_date(utc(2025, 1, 1))]) == ["2025-01-02T00:00:00+00:00"]
    assert iso([daily.next_logical_date(utc(2024, 12, 31, 23, 59, 59))]) == ["2025-01-01T00:00:00+00:00"]


def test_next_logical_date_is_in_the_schedule_timezone() -> None:
    s = parse_schedule("0 3 * * *", timezone="Europe/Berlin")
    assert iso([s.next_logical_date(utc(2025, 6, 1, 12))]) == ["2025-06-02T03:00:00+02:00"]


def test_preview_lists_the_next_n_logical_dates() -> None:
    s = parse_schedule("15 9 * * 1-5")  # weekdays at 09:15
    assert iso(s.preview(4, utc(2025, 1, 2, 10))) == [  # a Thursday, after 09:15
        "2025-01-03T09:15:00+00:00",
        "2025-01-06T09:15:00+00:00",
        "2025-01-07T09:15:00+00:00",
        "2025-01-08T09:15:00+00:00",
    ]
    assert s.preview(0, utc(2025, 1, 1)) == []


def test_timedelta_ticks_are_start_date_plus_multiples_of_the_delta() -> None:
    s = parse_schedule(timedelta(hours=6), start_date=utc(2025, 1, 1, 3))
    assert iso(s.preview(3, utc(2025, 1, 1, 10))) == [
        "2025-01-01T15:00:00+00:00",
        "2025-01-01T21:00:00+00:00",
        "2025-01-02T03:00:00+00:00",
    ]


def test_timedelta_ticks_are_absolute_durations_across_dst() -> None:
    """A day of 24 hours after 12:00 on the eve of spring forward is 13:00 local."""
    s = parse_schedule(timedelta(days=1), timezone="Europe/Berlin", start_date=datetime(2025, 3, 29, 12))
    assert iso(s.preview(2, utc(2025, 3, 29, 11))) == [
        "2025-03-30T13:00:00+02:00",
        "2025-03-31T13:00:00+02:00",
    ]


def test_once_has_one_logical_date_and_none_and_assets_have_none() -> None:
    once = parse_schedule("@once", start_date=utc(2025, 1, 1))
    assert iso(once.preview(3, utc(2024, 1, 1))) == ["2025-01-01T00:00:00+00:00"]
    assert once.next_logical_date(utc(2025, 1, 1)) is None
    for s in (parse_schedule(None), parse_schedule(["raw_data"])):
        assert s.next_logical_date(utc(2025, 1, 1)) is None
        assert s.preview(3, utc(2025, 1, 1)) == []


def test_crons_agree_with_croniter_where_there_is_no_dst() -> None:
    """Our field enumerator (used for speed) and croniter give the same ticks in UTC."""
    from croniter import croniter

    exprs = [
        "0 * * * *",
        "*/15 9-17 * * 1-5",
        "0 0 1 jan,jul sun",  # day-of-month OR day-of-week, as in cron
        "0 0 15 * 1",
        "5 4 * * 7",
        "0 0 29 2 *",
        "0 12 */2 * *",
        "59 23 31 12 *",
        "1-5 */7 1,15 * 1",
        "0 0 L * *",  # croniter's own extensions go through croniter
        "0 0 * * 5#3",
    ]
    instants = [utc(2020, 1, 1) + k * timedelta(days=13, hours=5, minutes=7, seconds=11) for k in range(150)]
    for expr in exprs:
        s = parse_schedule(expr)
        for t in instants:
            assert s.next_logical_date(t) == croniter(expr, t).get_next(datetime), (expr, t)


# -- data intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "logical_date", "end"),
    [
        ("@daily", utc(2025, 1, 31), "2025-02-01T00:00:00+00:00"),
        ("@hourly", utc(2025, 1, 31, 23), "2025-02-01T00:00:00+00:00"),
        ("@weekly", utc(2025, 1, 5), "2025-01-12T00:00:00+00:00"),  # Sunday to Sunday
        ("@monthly", utc(2025, 2, 1), "2025-03-01T00:00:00+00:00"),
        ("@monthly", utc(2024, 2, 1), "2024-03-01T00:00:00+00:00"),
        ("30 2 * * *", utc(2025, 1, 1, 2, 30), "2025-01-02T02:30:00+00:00"),
    ],
)
def test_cron_data_interval_runs_to_the_next_tick(schedule: str, logical_date: datetime, end: str) -> None:
    start, stop = parse_schedule(schedule).data_interval(logical_date)
    assert (start, stop.isoformat()) == (logical_date, end)


def test_timedelta_data_interval_is_one_delta_long() -> None:
    s = parse_schedule(timedelta(hours=6), start_date=utc(2025, 1, 1))
    assert iso(s.data_interval(utc(2025, 1, 1, 18))) == [
        "2025-01-01T18:00:00+00:00",
        "2025-01-02T00:00:00+00:00",
    ]


def test_once_none_and_assets_intervals_are_a_point() -> None:
    at = utc(2025, 5, 5, 5, 5)
    for s in (parse_schedule("@once", start_date=at), parse_schedule(None), parse_schedule(["a"])):
        assert s.data_interval(at) == (at, at)


def test_data_interval_is_in_the_schedule_timezone() -> None:
    s = parse_schedule("@daily", timezone="America/New_York")
    assert iso(s.data_interval(utc(2025, 7, 4, 4))) == [
        "2025-07-04T00:00:00-04:00",
        "2025-07-05T00:00:00-04:00",
    ]


# -- manual runs ---------------------------------------------------------------------------------


def test_manual_logical_date_is_the_start_of_the_latest_complete_interval() -> None:
    daily = parse_schedule("@daily")
    assert iso([daily.infer_logical_date(utc(2025, 6, 15, 10, 30))]) == ["2025-06-14T00:00:00+00:00"]
    # Exactly on a tick, the interval that just ended is complete.
    assert iso([daily.infer_logical_date(utc(2025, 6, 15))]) == ["2025-06-14T00:00:00+00:00"]
    hourly = parse_schedule("@hourly")
    assert iso([hourly.infer_logical_date(utc(2025, 6, 15, 10, 30))]) == ["2025-06-15T09:00:00+00:00"]
    every = parse_schedule(timedelta(hours=6), start_date=utc(2025, 1, 1, 3))
    assert iso([every.infer_logical_date(utc(2025, 6, 15, 10, 30))]) == ["2025-06-15T03:00:00+00:00"]


def test_manual_logical_date_of_unscheduled_dags_is_now() -> None:
    now = utc(2025, 6, 15, 10, 30)
    for s in (
        parse_schedule(None),
        parse_schedule(["raw"]),
        parse_schedule("@once", start_date=utc(2025, 1, 1)),
    ):
        assert s.infer_logical_date(now) == now


# -- due runs ------------------------------------------------------------------------------------


DAILY = parse_schedule("@daily")


def test_catchup_creates_every_missed_interval_oldest_first() -> None:
    runs = due(DAILY, start_date=utc(2025, 1, 1), now=utc(2025, 1, 4, 10))
    assert intervals(runs) == [
        ("2025-01-01T00:00:00+00:00", "2025-01-02T00:00:00+00:00"),
        ("2025-01-02T00:00:00+00:00", "2025-01-03T00:00:00+00:00"),
        ("2025-01-03T00:00:00+00:00", "2025-01-04T00:00:00+00:00"),
    ]
    assert all(r.logical_date == r.data_interval_start and r.run_type == "scheduled" for r in runs)


def test_a_run_is_due_when_its_interval_ends_not_before() -> None:
    assert iso(r.logical_date for r in due(DAILY, start_date=utc(2025, 1, 1), now=utc(2025, 1, 2))) == [
        "2025-01-01T00:00:00+00:00"
    ]
    assert due(DAILY, start_date=utc(2025, 1, 1), now=utc(2025, 1, 1, 23, 59, 59)) == []


def test_a_start_date_between_ticks_begins_at_the_next_tick() -> None:
    runs = due(DAILY, start_date=utc(2025, 1, 1, 12), now=utc(2025, 1, 4, 10))
    assert iso(r.logical_date for r in runs) == ["2025-01-02T00:00:00+00:00", "2025-01-03T00:00:00+00:00"]


def test_catchup_skips_runs_that_exist_in_any_timezone() -> None:
    existing = [utc(2025, 1, 1), datetime(2025, 1, 3, 1, tzinfo=BERLIN)]  # 2025-01-03T00:00Z
    runs = due(DAILY, start_date=utc(2025, 1, 1), now=utc(2025, 1, 5), existing_logical_dates=existing)
    assert iso(r.logical_date for r in runs) == ["2025-01-02T00:00:00+00:00", "2025-01-04T00:00:00+00:00"]


def test_catchup_stops_at_end_date_inclusive() -> None:
    runs = due(DAILY, start_date=utc(2025, 1, 1), end_date=utc(2025, 1, 3), now=utc(2025, 2, 1))
    assert iso(r.logical_date for r in runs) == [
        "2025-01-01T00:00:00+00:00",
        "2025-01-02T00:00:00+00:00",
        "2025-01-03T00:00:00+00:00",
    ]


def test_max_runs_takes_the_oldest() -> None:
    runs = due(
        DAILY,
        start_date=utc(2025, 1, 1),
        now=utc(2025, 2, 1),
        max_runs=2,
        existing_logical_dates=[utc(2025, 1, 1)],
    )
    assert iso(r.logical_date for r in runs) == ["2025-01-02T00:00:00+00:00", "2025-01-03T00:00:00+00:00"]
    assert due(DAILY, start_date=utc(2025, 1, 1), now=utc(2025, 2, 1), max_runs=0) == []


def test_without_catchup_only_the_latest_complete_interval_is_due() -> None:
    runs = due(DAILY, start_date=utc(2025, 1, 1), now=utc(2025, 3, 10, 15), catchup=False)
    assert intervals(runs) == [("2025-03-09T00:00:00+00:00", "2025-03-10T00:00:00+00:00")]


def test_without_catchup_nothing_is_due_when_the_latest_exists() -> None:
    runs = due(
        DAILY,
        start_date=utc(2025, 1, 1),
        now=utc(2025, 3, 10, 15),
        catchup=False,
        existing_logical_dates=[utc(2025, 3, 9)],
    )
    assert runs == []


def test_without_catchup_the_first_interval_must_be_complete() -> None:
    assert due(DAILY, start_date=utc(2025, 3, 10), now=utc(2025, 3, 10, 15), catchup=False) == []
    assert iso(
        r.logical_date for r in due(DAILY, start_date=utc(2025, 3, 9), now=utc(2025, 3, 10), catchup=False)
    ) == ["2025-03-09T00:00:00+00:00"]


def test_without_catchup_nothing_is_due_after_end_date() -> None:
    runs = due(
        DAILY, start_date=utc(2025, 1, 1), end_date=utc(2025, 3, 1), now=utc(2025, 3, 10), catchup=False
    )
    assert runs == []


@pytest.mark.parametrize("catchup", [True, False])
def test_a_start_date_in_the_future_means_nothing_is_due(catchup: bool) -> None:
    for s in (DAILY, parse_schedule(timedelta(hours=6)), parse_schedule("@once")):
        assert due(s, start_date=utc(2030, 1, 1), now=utc(2025, 1, 1), catchup=catchup) == []


def test_timedelta_catchup_runs_from_the_start_date() -> None:
    s = parse_schedule(timedelta(hours=6), start_date=utc(2025, 1, 1, 1))
    runs = due(s, start_date=utc(2025, 1, 1, 1), now=utc(2025, 1, 2, 6, 59))
    assert intervals(runs) == [
        ("2025-01-01T01:00:00+00:00", "2025-01-01T07:00:00+00:00"),
        ("2025-01-01T07:00:00+00:00", "2025-01-01T13:00:00+00:00"),
        ("2025-01-01T13:00:00+00:00", "2025-01-01T19:00:00+00:00"),
        ("2025-01-01T19:00:00+00:00", "2025-01-02T01:00:00+00:00"),
    ]
    latest = due(s, start_date=utc(2025, 1, 1, 1), now=utc(2025, 1, 2, 6, 59), catchup=False)
    assert intervals(latest) == [("2025-01-01T19:00:00+00:00", "2025-01-02T01:00:00+00:00")]


def test_timedelta_parsed_without_start_date_is_anchored_by_due_runs() -> None:
    runs = due(parse_schedule(timedelta(hours=6)), start_date=utc(2025, 1, 1, 1), now=utc(2025, 1, 1, 13))
    assert iso(r.logical_date for r in runs) == ["2025-01-01T01:00:00+00:00", "2025-01-01T07:00:00+00:00"]


def test_naive_start_and_end_dates_are_wall_times_in_the_schedule_timezone() -> None:
    s = parse_schedule("@daily", timezone="Asia/Jakarta")
    runs = due(s, start_date=datetime(2025, 1, 1), end_date=datetime(2025, 1, 2), now=utc(2025, 1, 10))
    assert iso(r.logical_date for r in runs) == ["2025-01-01T00:00:00+07:00", "2025-01-02T00:00:00+07:00"]


def test_once_is_due_exactly_once_at_start_date() -> None:
    once = parse_schedule("@once")
    start = utc(2025, 1, 1, 6)
    runs = due(once, start_date=start, now=utc(2025, 2, 1))
    assert runs == [DueRun(start, start, start)]
    assert due(once, start_date=start, now=utc(2025, 2, 1), existing_logical_dates=[start]) == []
    assert due(once, start_date=start, now=utc(2025, 2, 1), catchup=False) == [DueRun(start, start, start)]


def test_unscheduled_and_asset_triggered_dags_are_never_due_by_the_clock() -> None:
    for s in (parse_schedule(None), parse_schedule(["raw_data"])):
        assert due(s, start_date=utc(2020, 1, 1), now=utc(2025, 1, 1)) == []


def test_due_runs_refuses_naive_now_and_existing_dates() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        due(DAILY, start_date=utc(2025, 1, 1), now=datetime(2025, 2, 1))
    with pytest.raises(ValueError, match="an existing logical date must be timezone-aware"):
        due(
            DAILY,
            start_date=utc(2025, 1, 1),
            now=utc(2025, 2, 1),
            existing_logical_dates=[datetime(2025, 1, 1)],
        )


def test_due_runs_intervals_match_data_interval() -> None:
    s = parse_schedule("0 6 * * 1", timezone="America/New_York")  # Mondays 06:00
    for run in due(s, start_date=utc(2025, 1, 1), now=utc(2025, 6, 1)):
        assert (run.data_interval_start, run.data_interval_end) == s.data_interval(run.logical_date)


@pytest.mark.timeout(10)
def test_five_years_of_hourly_catchup_is_linear() -> None:
    """43,848 hourly runs, every one missing, then every one existing (a set, not a scan)."""
    hourly = parse_schedule("@hourly")
    runs = due(hourly, start_date=utc(2020, 1, 1), now=utc(2025, 1, 1))
    assert len(runs) == 43_848
    assert intervals([runs[0], runs[-1]]) == [
        ("2020-01-01T00:00:00+00:00", "2020-01-01T01:00:00+00:00"),
        ("2024-12-31T23:00:00+00:00", "2025-01-01T00:00:00+00:00"),
    ]
    existing = [r.logical_date for r in runs]
    assert due(hourly, start_date=utc(2020, 1, 1), now=utc(2025, 1, 1), existing_logical_dates=existing) == []


# -- daylight saving time: gaps fire once at the gap's end, repeats once at the first occurrence ---


@pytest.mark.parametrize(
    ("tz", "after", "expected"),
    [
        # spring forward: 02:30 does not exist on 2025-03-30 in Berlin, 03:00 is the first valid instant
        (
            "Europe/Berlin",
            datetime(2025, 3, 29, 12),
            ["2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"],
        ),
        # fall back: 02:30 happens twice on 2025-10-26 in Berlin; it fires at the first (+02:00)
        (
            "Europe/Berlin",
            datetime(2025, 10, 25, 12),
            ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"],
        ),
        (
            "America/New_York",
            datetime(2025, 3, 8, 12),
            ["2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"],
        ),
        # New York falls back from 02:00 to 01:00, so 02:30 happens once (after the change)
        (
            "America/New_York",
            datetime(2025, 11, 1, 12),
            ["2025-11-02T02:30:00-05:00", "2025-11-03T02:30:00-05:00"],
        ),
        # Jakarta has no DST: the same dates are ordinary days
        (
            "Asia/Jakarta",
            datetime(2025, 3, 29, 12),
            ["2025-03-30T02:30:00+07:00", "2025-03-31T02:30:00+07:00"],
        ),
        (
            "Asia/Jakarta",
            datetime(2025, 10, 25, 12),
            ["2025-10-26T02:30:00+07:00", "2025-10-27T02:30:00+07:00"],
        ),
    ],
)
def test_daily_0230_across_dst_days(tz: str, after: datetime, expected: list[str]) -> None:
    s = parse_schedule("30 2 * * *", timezone=tz)
    assert iso(s.preview(2, after.replace(tzinfo=ZoneInfo(tz)))) == expected


def test_new_york_repeated_0130_fires_once_at_its_first_occurrence() -> None:
    s = parse_schedule("30 1 * * *", timezone="America/New_York")
    assert iso(s.preview(3, datetime(2025, 11, 1, 12, tzinfo=NEW_YORK))) == [
        "2025-11-02T01:30:00-04:00",
        "2025-11-03T01:30:00-05:00",
        "2025-11-04T01:30:00-05:00",
    ]


def test_dst_days_as_due_runs_in_berlin() -> None:
    """The daemon's view: one run per day, the DST days' intervals 23.5 and 24 hours long."""
    s = parse_schedule("30 2 * * *", timezone="Europe/Berlin")
    spring = due(s, start_date=datetime(2025, 3, 29), now=utc(2025, 3, 31, 12))
    assert intervals(spring) == [
        ("2025-03-29T02:30:00+01:00", "2025-03-30T03:00:00+02:00"),
        ("2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"),
    ]
    autumn = due(s, start_date=datetime(2025, 10, 25), now=utc(2025, 10, 27, 12))
    assert intervals(autumn) == [
        ("2025-10-25T02:30:00+02:00", "2025-10-26T02:30:00+02:00"),
        ("2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"),
    ]


def test_hourly_across_fall_back_has_no_duplicate_and_no_other_gap() -> None:
    """02:00 happens twice in Berlin on 2025-10-26: it fires once, so that interval lasts 2 hours."""
    s = parse_schedule("@hourly", timezone="Europe/Berlin")
    runs = due(s, start_date=datetime(2025, 10, 26), now=datetime(2025, 10, 27, tzinfo=BERLIN))
    assert len(runs) == 24  # a 25-hour day
    assert intervals(runs[1:4]) == [
        ("2025-10-26T01:00:00+02:00", "2025-10-26T02:00:00+02:00"),
        ("2025-10-26T02:00:00+02:00", "2025-10-26T03:00:00+01:00"),
        ("2025-10-26T03:00:00+01:00", "2025-10-26T04:00:00+01:00"),
    ]
    lengths = [r.data_interval_end.timestamp() - r.data_interval_start.timestamp() for r in runs]
    assert lengths == [3600.0] * 2 + [7200.0] + [3600.0] * 21


def test_hourly_across_fall_back_in_new_york() -> None:
    s = parse_schedule("@hourly", timezone="America/New_York")
    assert iso(s.preview(4, datetime(2025, 11, 2, 0, 30, tzinfo=NEW_YORK))) == [
        "2025-11-02T01:00:00-04:00",
        "2025-11-02T02:00:00-05:00",
        "2025-11-02T03:00:00-05:00",
        "2025-11-02T04:00:00-05:00",
    ]


def test_hourly_across_spring_forward_fires_once_at_the_gap_end() -> None:
    """The missing 02:00 and the real 03:00 are one instant: one run, 23 on the day."""
    s = parse_schedule("@hourly", timezone="Europe/Berlin")
    runs = due(s, start_date=datetime(2025, 3, 30), now=datetime(2025, 3, 31, tzinfo=BERLIN))
    assert len(runs) == 23
    assert iso(r.logical_date for r in runs[1:4]) == [
        "2025-03-30T01:00:00+01:00",
        "2025-03-30T03:00:00+02:00",
        "2025-03-30T04:00:00+02:00",
    ]


def test_half_past_in_a_gap_moves_to_the_gap_end_rather_than_vanishing() -> None:
    """croniter drops 02:30 on 2025-03-09 in New York; the policy fires it at 03:00."""
    s = parse_schedule("30 * * * *", timezone="America/New_York")
    assert iso(s.preview(3, datetime(2025, 3, 9, 1, tzinfo=NEW_YORK))) == [
        "2025-03-09T01:30:00-05:00",
        "2025-03-09T03:00:00-04:00",
        "2025-03-09T03:30:00-04:00",
    ]


def test_from_inside_the_repeated_hour_the_repeats_do_not_fire_again() -> None:
    s = parse_schedule("*/15 * * * *", timezone="Europe/Berlin")
    second_0220 = datetime(2025, 10, 26, 2, 20, tzinfo=BERLIN, fold=1)  # 2025-10-26T01:20Z
    assert iso([s.next_logical_date(second_0220)]) == ["2025-10-26T03:00:00+01:00"]
    # The latest complete interval then is [02:30+02:00, 02:45+02:00).
    assert iso([s.infer_logical_date(second_0220)]) == ["2025-10-26T02:30:00+02:00"]


def test_croniter_extensions_follow_the_policy_too() -> None:
    """'L0' (last Sunday of March at 02:30) lands on spring-forward days."""
    s = parse_schedule("30 2 * 3 L0", timezone="Europe/Berlin")
    assert iso(s.preview(2, utc(2024, 1, 1))) == ["2024-03-31T03:00:00+02:00", "2025-03-30T03:00:00+02:00"]
