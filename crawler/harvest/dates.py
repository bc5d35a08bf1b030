"""Entry dates from feeds and sitemaps, and the ``--since`` cut-off."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from dateutil import parser as date_parser

from qpan.timezone import VIETNAM

# "9/5/2026 1:30:00 PM" (baochinhphu.vn's feeds, .NET's en-US "M/d/yyyy h:mm:ss tt") or
# "05/09/2026 13:30" (the Vietnamese day-first habit): which number is the month is read
# from the feed as a whole, see numeric_month_first
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_TWELVE_HOUR = re.compile(r"\d\s*[AaPp]\.?[Mm]\b")


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_time."""
    return datetime(*value[:6], tzinfo=UTC) if value else None


def from_w3c(text: str | None) -> datetime | None:
    """A sitemap ``lastmod`` / ``news:publication_date``; Vietnam time when no zone is given."""
    if not text:
        return None
    text = text.strip()
    try:  # the C parser first: a sitemap can hold 100,000 dates, and dateutil is 20 times slower
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = date_parser.isoparse(text)
        except (ValueError, OverflowError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def numeric_month_first(texts: Iterable[str]) -> bool:
    """Whether a feed's numeric dates ("9/5/2026 1:30:00 PM") put the month first.

    One date cannot say, a feed can: a first number above 12 is a day ("28/8/2026"), a
    second above 12 is one too ("8/28/2026"); the feed's entries vote. When every date is
    ambiguous, a 12-hour clock ("1:30:00 PM") marks the US pattern (.NET's en-US
    ``M/d/yyyy h:mm:ss tt``), month first; otherwise day first, as Vietnamese write dates.
    The captured baochinhphu.vn feed has "8/28/2026 12:49:00 PM" beside "9/5/2026 1:30:00 PM",
    so its "9/5" is 5 September, matching the 2026/9/5 in its image paths.
    """
    month_votes = day_votes = 0
    twelve_hour = False
    for text in texts:
        match = _NUMERIC_DATE.match(text)
        if not match:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        day_votes += first > 12
        month_votes += second > 12
        twelve_hour = twelve_hour or bool(_TWELVE_HOUR.search(text))
    if month_votes != day_votes:
        return month_votes > day_votes
    return twelve_hour


def from_numeric(text: str | None, month_first: bool) -> datetime | None:
    """A numeric feed date ("9/5/2026 1:30:00 PM") in the given order; Vietnam time when no zone is given."""
    if not text or not _NUMERIC_DATE.match(text):
        return None
    try:
        parsed = date_parser.parse(text, dayfirst=not month_first)
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def cutoff(since_days: int | None, now: datetime | None = None) -> datetime | None:
    """Entries dated before this are skipped; ``None`` or 0 days means no limit."""
    if not since_days:
        return None
    return (now or datetime.now(UTC)) - timedelta(days=since_days)


def is_recent(published: datetime | None, limit: datetime | None) -> bool:
    """Undated entries are kept: the seen-URL filter still stops refetches."""
    return limit is None or published is None or published >= limit
