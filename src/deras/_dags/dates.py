"""``days_ago``: Airflow's (deprecated) helper for ``start_date``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    """Today at ``hour:minute`` UTC, ``n`` days ago, as Airflow's ``days_ago`` gives.

    A start date that moves every day is a poor one (Airflow deprecated it): prefer a fixed
    ``datetime(2025, 1, 1)``.

    >>> days_ago(0).hour, days_ago(0).tzinfo
    (0, datetime.timezone.utc)
    """
    today = datetime.now(UTC).replace(hour=hour, minute=minute, second=second, microsecond=microsecond)
    return today - timedelta(days=n)
