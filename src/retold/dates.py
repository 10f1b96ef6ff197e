"""Article dates: ISO 8601 strings read as instants, totally (a bad date is no date, never an exception).

Dates come from the input as given and are stored as such; only the families stage compares them. A date that
cannot be read (not ISO 8601, or outside what `datetime` can hold once moved to UTC) is treated as undated, and
`date_warning` says so for the manifest.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["date_warning", "parse_date"]

_SHOWN = 60


def _read(value: str) -> tuple[datetime | None, str | None]:
    """The instant (naive UTC) of `value`, or None and why not."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, "is not an ISO 8601 date"
    if when.tzinfo is None:
        return when, None  # naive dates are taken as UTC: aware and naive datetimes cannot be compared
    try:
        return when.astimezone(UTC).replace(tzinfo=None), None
    except OverflowError:  # "0001-01-01T00:00:00+05:00" is in year 0 once in UTC
        return None, "is out of range once converted to UTC"


def parse_date(value: str | None) -> datetime | None:
    """The instant of an ISO 8601 date as a naive UTC datetime; None when missing, unparseable or out of range.

    >>> parse_date("2024-03-01T10:00:00+02:00")
    datetime.datetime(2024, 3, 1, 8, 0)
    >>> parse_date("0001-01-01T00:00:00+05:00") is None
    True
    """
    if not value or not value.strip():
        return None
    return _read(value)[0]


def date_warning(value: str | None) -> str | None:
    """Why a present date will be ignored, for the manifest; None when it is usable or absent.

    >>> date_warning("2021-13-45")
    "date '2021-13-45' is not an ISO 8601 date; treated as undated"
    """
    if not value or not value.strip():
        return None
    why = _read(value)[1]
    if why is None:
        return None
    shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."  # a hostile date may be megabytes long
    return f"date {shown!r} {why}; treated as undated"
