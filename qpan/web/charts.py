"""Chart geometry for the overview, computed here and drawn as inline SVG by the templates.

No chart library and no script: a weekly stacked bar chart and sparklines are a few
rectangles and polylines, and SVG drawn on the server works offline and under a strict CSP.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

SERIES = 7  # sources drawn in their own colour (CSS classes s0..s6); the rest are "other" (s7)
WIDTH, HEIGHT, LEFT, BOTTOM = 720, 200, 34, 20


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass
class WeeklyChart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    legend: list[tuple[str, str, int]] = field(default_factory=list)  # (css class, source, total)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    total: int = 0


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_chart(rows: list[tuple[str, date, int]], today: date, weeks: int = 52) -> WeeklyChart:
    """Relevant articles per week (Monday to Sunday) and source, the last ``weeks`` weeks, stacked."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    totals: Counter[str] = Counter()
    cells: Counter[tuple[int, str]] = Counter()
    for source, day, count in rows:
        slot = (week_start(day) - first).days // 7
        if 0 <= slot < weeks:
            totals[source] += count
            cells[slot, source] += count
    ranked = [source for source, _ in totals.most_common()]
    css = {source: f"s{n}" if n < SERIES else f"s{SERIES}" for n, source in enumerate(ranked)}
    chart = WeeklyChart(total=sum(totals.values()))
    chart.legend = [(css[s], s, totals[s]) for s in ranked[:SERIES]]
    if len(ranked) > SERIES:
        others = sum(totals[s] for s in ranked[SERIES:])
        chart.legend.append((f"s{SERIES}", f"{len(ranked) - SERIES} other sources", others))
    per_week: Counter[int] = Counter()
    for (slot, _), count in cells.items():
        per_week[slot] += count
    peak = max(per_week.values(), default=0) or 1
    plot_height = HEIGHT - BOTTOM - 6
    slot_width = (WIDTH - LEFT) / weeks
    scale = plot_height / peak
    for slot in range(weeks):
        top = HEIGHT - BOTTOM
        monday = first + timedelta(weeks=slot)
        for source in ranked:
            count = cells.get((slot, source), 0)
            if not count:
                continue
            height = count * scale
            top -= height
            label = f"week of {monday:%d/%m/%Y}: {count} from {source}"
            x = LEFT + slot * slot_width + 1
            chart.bars.append(Bar(x, top, max(slot_width - 2, 1), height, css[source], label))
        if monday.day <= 7 and monday.month % 3 == 1:  # the first week of each quarter
            chart.x_labels.append((LEFT + slot * slot_width, f"{monday:%m/%Y}"))
    chart.y_ticks = [(HEIGHT - BOTTOM - value * scale, value) for value in sorted({0, peak // 2, peak})]
    return chart


@dataclass(frozen=True)
class Sparkline:
    points: str  # the SVG polyline's points
    last: int | None
    peak: int
    width: int
    height: int


def sparkline(values: list[int | None], width: int = 120, height: int = 24) -> Sparkline:
    """A polyline through the known values (runs a source was not part of leave a gap in x only)."""
    known = [(n, v) for n, v in enumerate(values) if v is not None]
    peak = max((v for _, v in known), default=0)
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{n * step:.1f},{height - 2 - (v / peak if peak else 0) * (height - 4):.1f}" for n, v in known
    )
    return Sparkline(points, known[-1][1] if known else None, peak, width, height)
