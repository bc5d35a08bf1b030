"""The web view's pure parts: term highlighting, chart geometry, the list's query string."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from qpan.web.charts import SERIES, sparkline, weekly_chart
from qpan.web.filters import ListQuery
from qpan.web.highlight import highlight


def test_terms_are_marked_whatever_the_case_diacritics_or_qualifier() -> None:
    text = "Bộ CÔNG AN phối hợp với Bo Cong An.\nTheo Nghị định 03/2019/NĐ-CP, thuỷ quân và thủy quân."
    terms = ["Bộ Công an", "Nghị định 03/2019/NĐ-CP (cited without year)", "thủy quân"]
    assert highlight(text, terms) == [
        [("Bộ CÔNG AN", True), (" phối hợp với ", False), ("Bo Cong An", True), (".", False)],
        [("Theo ", False), ("Nghị định 03/2019/NĐ-CP", True), (", ", False), ("thuỷ quân", True), (" và ", False),
         ("thủy quân", True), (".", False)],
    ]
    assert highlight("Công an tỉnh", []) == [[("Công an tỉnh", False)]]


def test_weekly_chart_buckets_by_monday_and_folds_small_sources() -> None:
    today = date(2026, 12, 2)  # a Wednesday
    rows = [("a", date(2026, 11, 30), 2), ("a", date(2026, 12, 2), 1), ("b", date(2026, 11, 29), 4),
            ("a", date(2024, 1, 1), 9)]  # out of the last year: not drawn
    rows += [(f"s{n}", date(2026, 6, 1), 1) for n in range(SERIES)]
    chart = weekly_chart(rows, today, weeks=52)
    assert chart.total == 3 + 4 + SERIES
    assert chart.legend[:2] == [("s0", "b", 4), ("s1", "a", 3)]
    assert chart.legend[-1] == (f"s{SERIES}", "2 other sources", 2)
    this_week = [bar for bar in chart.bars if bar.label.startswith("week of 30/11/2026")]
    assert [bar.label for bar in this_week] == ["week of 30/11/2026: 3 from a"]
    peak_week = [bar.height for bar in chart.bars if bar.label.startswith("week of 01/06/2026")]
    assert sum(peak_week) == pytest.approx(chart.height - 20 - 6)  # the tallest week fills the plot


def test_sparkline_leaves_out_runs_a_source_was_not_in() -> None:
    line = sparkline([0, None, 10, 5], width=30, height=24)
    assert line.points == "0.0,22.0 20.0,2.0 30.0,12.0"
    assert (line.last, line.peak) == (5, 10)


def test_list_query_round_trips_through_its_links() -> None:
    params = QueryParams("source=b&source=a&since=2025-01-31&relevance=all&min=0.5&duplicates=hide&q=nghi+dinh")
    query = ListQuery.parse(params)
    assert query.source == ("a", "b")
    assert ListQuery.parse(QueryParams(query.query_string()[1:])) == query
    assert query.query_string(after=42).endswith("&after=42")
    assert ListQuery().query_string() == ""
    for bad in ("since=31/01/2025", "relevance=some", "min=-1", "after=x"):
        with pytest.raises(HTTPException) as caught:
            ListQuery.parse(QueryParams(bad))
        assert caught.value.status_code == 400
