"""Vietnamese date lines and machine dates."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from qpan.crawler.extraction.dates import parse_date
from qpan.timezone import VIETNAM


def vn(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VIETNAM)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thứ Sáu, 16/07/2021 16:15", vn(2021, 7, 16, 16, 15)),
        ("12/4/2017", vn(2017, 4, 12)),
        ("20/03/2023 | 08:15", vn(2023, 3, 20, 8, 15)),
        ("Cập nhật: 10:20 ngày 05/09/2023", vn(2023, 9, 5, 10, 20)),
        ("16-7-2021", vn(2021, 7, 16)),
        ("16.07.2021", vn(2021, 7, 16)),
        ("ngày 5 tháng 9 năm 2019", vn(2019, 9, 5)),
        ("Thứ Hai, ngày 20 tháng 3, 2023", vn(2023, 3, 20)),
        ("16h15 ngày 16/7/2021", vn(2021, 7, 16, 16, 15)),
        ("16/07/2021 04:15 PM", vn(2021, 7, 16, 16, 15)),
        ("Thứ Tư, 15-01-2025, 10:30", vn(2025, 1, 15, 10, 30)),
        ("16/07/21 16:15", vn(2021, 7, 16, 16, 15)),
        ("2021-07-16", vn(2021, 7, 16)),
        ("2021-07-16 16:15:00", vn(2021, 7, 16, 16, 15)),
        ("20230320081500", vn(2023, 3, 20, 8, 15)),
    ],
)
def test_vietnamese_formats(text: str, expected: datetime) -> None:
    got = parse_date(text)
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(hours=7)


def test_iso_keeps_its_zone() -> None:
    got = parse_date("2021-07-16T09:15:00Z")
    assert got == datetime(2021, 7, 16, 9, 15, tzinfo=UTC)
    assert parse_date("2021-07-16T16:15:00+07:00") == vn(2021, 7, 16, 16, 15)


def test_gmt_offset_in_a_date_line() -> None:
    got = parse_date("Thứ Sáu, 16/07/2021, 16:15 (GMT+7)")
    assert got == vn(2021, 7, 16, 16, 15) and got.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2021",
        "32/1/2020",
        "1/13/2020",
        "2021-13-01",
        "Nghị định 03/2019/NĐ-CP",
        "hôm nay",
        "",
        "25:99 ngày 01/01/1800",
    ],
)
def test_impossible_or_missing_dates(text: str) -> None:
    assert parse_date(text) is None


def test_year_less_dates_need_a_reference() -> None:
    assert parse_date("Sáng 20/3") is None
    assert parse_date("Sáng 20/3", reference=2023) == vn(2023, 3, 20)
    # a page read on 2 January dated "28/12" is from the previous year
    assert parse_date("Chiều 28/12", reference=datetime(2024, 1, 2, tzinfo=VIETNAM)) == vn(2023, 12, 28)
    assert parse_date("Sáng 31/2", reference=2023) is None


def _isoparse_reference(text: str) -> datetime | None:
    """The plain ISO path as it read before its shortcut: dateutil's isoparse, then the year check."""
    from dateutil import parser

    iso = re.sub(r"\s+(?=(?:Z|[+-]\d{2}:?\d{2})$)", "", text.strip()).replace(" ", "T", 1)
    try:
        found = parser.isoparse(iso)
    except (ValueError, OverflowError):
        return None
    if not 1945 <= found.year <= 2100:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=VIETNAM)


def test_plain_iso_dates_read_exactly_as_isoparse_reads_them() -> None:
    rng = random.Random(5)
    fields = {
        "year": ["2026", "1944", "2101", "0000"],
        "month": ["01", "02", "12", "13", "00"],
        "day": ["01", "28", "29", "30", "31", "32"],
        "hour": ["00", "08", "23", "24", "25"],
        "minute": ["00", "59", "60"],
        "second": ["", ":00", ":59", ":60", ":00.5"],
        "zone": ["Z", "+07:00", "+0700", "-05:30", "+00:00", "-00:00", "+23:59", "+24:00", "+07:60", " +07:00"] + [""],
    }
    for _ in range(3000):
        f = {name: rng.choice(values) for name, values in fields.items()}
        text = f"{f['year']}-{f['month']}-{f['day']}T{f['hour']}:{f['minute']}{f['second']}{f['zone']}"
        found, expected = parse_date(text), _isoparse_reference(text)
        assert found == expected, text
        assert repr(getattr(found, "tzinfo", None)) == repr(getattr(expected, "tzinfo", None)), text
