"""Publication dates from Vietnamese date lines and machine metadata.

Vietnamese sites write day-first dates in many shapes ("Thứ Sáu, 16/07/2021 16:15",
"20/03/2023 | 08:15", "Cập nhật: 10:20 ngày 05/09/2023", "ngày 5 tháng 9 năm 2019",
"16-7-2021", "Sáng 20/3"); metadata uses ISO 8601. Every result is timezone-aware:
Asia/Ho_Chi_Minh when the text gives no zone, because that is where these pages are
written. Impossible dates give None instead of a guess.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from datetime import tzinfo as dt_tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser
from dateutil import tz as dateutil_tz

from qpan.timezone import VIETNAM

_MIN_YEAR, _MAX_YEAR = 1945, 2100

_ISO = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$")
_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s*(?:năm|,)\s*(\d{4}))?", re.IGNORECASE)
_DMY = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?![\d/])")
_YMD = re.compile(r"(?<![\d/.-])(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?![\d/])")
_DM = re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{1,2})(?![\d/])")
_TIME = re.compile(
    r"(?<![\d/.])(\d{1,2})\s*(?::|h|giờ)\s*(\d{2})(?:\s*(?::|phút)\s*(\d{2}))?(?!\d)\s*(am|pm|sa|ch)?",
    re.IGNORECASE,
)
_SPACED_ZONE = re.compile(r"\s+(?=(?:Z|[+-]\d{2}:?\d{2})$)")
_PLAIN_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|([+-])(\d{2}):?(\d{2}))", re.ASCII
)
_ZONE = re.compile(r"(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=VIETNAM)


def _sane(value: datetime | None) -> datetime | None:
    if value is None or not _MIN_YEAR <= value.year <= _MAX_YEAR:
        return None
    return _aware(value)


def _plain_iso(iso: str) -> datetime | None:
    """What ``isoparse`` gives for the plainest ISO 8601 ("2026-03-07T08:52:11+07:00", most JSON-LD
    and OpenGraph dates), built directly in half the time: the same tzoffset (or tzutc for a
    zero offset) from dateutil's cache. None for anything else, left to ``isoparse``: hour 24,
    impossible fields, fractions of a second, offsets past 23:59."""
    match = _PLAIN_ISO.fullmatch(iso)
    if match is None:
        return None
    year, month, day, hour, minute, second, zone, sign, zone_hours, zone_minutes = match.groups()
    if zone == "Z":
        zone_info: dt_tzinfo = dateutil_tz.UTC
    elif int(zone_hours) > 23 or int(zone_minutes) > 59:
        return None
    else:
        offset = (int(zone_hours) * 60 + int(zone_minutes)) * 60
        zone_info = dateutil_tz.tzoffset(None, -offset if sign == "-" else offset) if offset else dateutil_tz.UTC
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=zone_info)
    except ValueError:
        return None


def _parse_machine(text: str) -> datetime | None:
    if _ISO.match(text):
        # "2026-03-07T08:52:11.000 +07:00" (vietnamnet's JSON-LD): the offset is glued back on
        iso = _SPACED_ZONE.sub("", text.strip()).replace(" ", "T", 1)
        plain = _plain_iso(iso)
        if plain is not None:
            return _sane(plain)
        try:
            return _sane(dateutil_parser.isoparse(iso))
        except (ValueError, OverflowError):
            return None
    compact = _COMPACT.match(text)
    if compact:
        year, month, day, hour, minute, second, zone = compact.groups()
        iso = f"{year}-{month}-{day}T{hour or '00'}:{minute or '00'}:{second or '00'}{zone or ''}"
        try:
            return _sane(dateutil_parser.isoparse(iso))
        except (ValueError, OverflowError):
            return None
    return None


def _zone(text: str) -> timezone | ZoneInfo:
    match = _ZONE.search(text)
    if not match:
        return VIETNAM
    sign = -1 if match.group(1) == "-" else 1
    offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    return timezone(sign * offset)


def _time_of_day(text: str) -> time | None:
    for match in _TIME.finditer(text):
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        meridiem = (match.group(4) or "").lower()
        if meridiem in ("pm", "ch") and hour < 12:
            hour += 12
        elif meridiem in ("am", "sa") and hour == 12:
            hour = 0
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    return None


def _full_year(year: str) -> int:
    value = int(year)
    return value + 2000 if len(year) == 2 else value


def _calendar_date(text: str, reference: date | None) -> date | None:
    for pattern, order in ((_WORDS, "dmy"), (_DMY, "dmy4"), (_YMD, "ymd")):
        for match in pattern.finditer(text):
            groups = match.groups()
            if order == "dmy":
                day, month, year = groups[0], groups[1], groups[2]
                if year is None:
                    return _with_reference_year(int(day), int(month), reference)
            elif order == "dmy4":
                day, month, year = groups[0], groups[2], groups[3]
            else:
                year, month, day = groups[0], groups[2], groups[3]
            try:
                found = date(_full_year(year), int(month), int(day))
            except ValueError:
                continue
            if _MIN_YEAR <= found.year <= _MAX_YEAR:
                return found
    match = _DM.search(_TIME.sub(" ", text))
    if match:
        return _with_reference_year(int(match.group(1)), int(match.group(2)), reference)
    return None


def _with_reference_year(day: int, month: int, reference: date | None) -> date | None:
    """A day/month without a year ("Sáng 20/3"): the latest such date not after the reference."""
    if reference is None:
        return None
    for year in (reference.year, reference.year - 1):
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if found <= reference + timedelta(days=1):
            return found
    return None


def parse_date(text: str | None, *, reference: date | datetime | int | None = None) -> datetime | None:
    """Parse a date line or a machine date into an aware datetime, or None.

    ``reference`` supplies the year for dates written without one (a datetime/date: the
    page's fetch or listing date; an int: a year, whose end is used as the reference).
    """
    if not text or not text.strip():
        return None
    text = " ".join(text.split())
    machine = _parse_machine(text)
    if machine is not None or _ISO.match(text) or _COMPACT.match(text):
        return machine
    if isinstance(reference, int):
        reference = date(reference, 12, 31)
    elif isinstance(reference, datetime):
        reference = reference.astimezone(VIETNAM).date() if reference.tzinfo else reference.date()
    day = _calendar_date(text, reference)
    if day is None:
        return None
    clock = _time_of_day(_DMY.sub(" ", text)) or time(0, 0)
    return datetime.combine(day, clock, tzinfo=_zone(text))
