"""Per-site politeness on a real crawl, timed by the local web's own request log.

A source's ``download_delay`` is a floor even with AutoThrottle on, and a ``Retry-After``
pauses that site only: its retried request comes back at once to Scrapy, the site's slot
waits, and the other sources go on meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from conftest import write_config
from test_crawler_e2e import assert_clean, init_copy

from qpan.demo import LocalWeb
from support.cli import qpan_process

FLOOR = 1.0
RETRY_AFTER = 2.0
TIMER_SLACK = 0.05  # the reactor's timers fire to about a millisecond; the floor test allows 10%


def arrivals(web: LocalWeb, site: str) -> list[tuple[float, str, int]]:
    """(arrival time, path, status) of every request the site got, robots.txt included."""
    return sorted((record.arrived, record.path, record.status) for record in web.requests(site))


def source(web: LocalWeb, name: str, **changes: object) -> dict[str, object]:
    entry = next(entry for entry in web.sources() if entry["name"] == name)
    return {**entry, **changes}


def test_a_sources_own_delay_holds_under_autothrottle(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    atom = f"{fixture_web.url('tinbiengioi')}/feeds/thoi-su.atom"
    config = write_config(
        tmp_path, fixture_web,
        crawl={"autothrottle": True, "download_delay": 0},
        sources=[source(fixture_web, "tinbiengioi", feeds=[atom], download_delay=FLOOR)],
    )
    init_copy(initialised_database, config)

    result = qpan_process(config, "crawl", "--quiet")

    assert_clean(result)
    assert "ERROR" not in result.stderr, result.stderr
    times = [arrived for arrived, _, _ in arrivals(fixture_web, "tinbiengioi")]
    assert len(times) >= 5, arrivals(fixture_web, "tinbiengioi")
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9 * FLOOR, [round(gap, 3) for gap in gaps]


def test_retry_after_pauses_that_site_only_and_the_retry_comes_after_it(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    rss, atom = "/rss/tin-moi.rss", "/feeds/thoi-su.atom"
    fixture_web.set_route("tinbiengioi", rss, status=429, headers={"Retry-After": str(int(RETRY_AFTER))}, times=1)
    base = fixture_web.url("tinbiengioi")
    config = write_config(
        tmp_path, fixture_web,
        crawl={"autothrottle": True, "download_delay": 0},
        sources=[
            source(fixture_web, "tinbiengioi", feeds=[base + rss, base + atom], download_delay=0.3),
            source(fixture_web, "baodiaphuong", download_delay=0.3),
        ],
    )
    init_copy(initialised_database, config)

    result = qpan_process(config, "crawl", "--quiet")

    assert_clean(result)
    site = arrivals(fixture_web, "tinbiengioi")
    refused = next(arrived for arrived, path, status in site if path == rss and status == 429)
    after = [(arrived, path) for arrived, path, _ in site if arrived > refused]
    assert after, site
    assert after[0][0] - refused >= RETRY_AFTER - TIMER_SLACK, (round(after[0][0] - refused, 3), after[0][1])
    retried = next(arrived for arrived, path, status in site if path == rss and status == 200)
    assert retried - refused >= RETRY_AFTER - TIMER_SLACK
    pause = (refused, refused + RETRY_AFTER - 0.2)  # a reactor blocked for the pause serves nobody in it
    meanwhile = [path for arrived, path, _ in arrivals(fixture_web, "baodiaphuong") if pause[0] < arrived < pause[1]]
    assert len(meanwhile) >= 2, "the other source waited too"
