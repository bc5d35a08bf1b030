"""Per-source politeness on Scrapy's own download slots: a floor under AutoThrottle, and holds.

Every request of a source goes through one download slot named after the source (the spider
sets ``download_slot``), and ``DOWNLOAD_SLOTS`` gives that slot the source's
``download_delay``. AutoThrottle knows one minimum only (``DOWNLOAD_DELAY``): after a few
fast answers it lowers a slot's delay towards it, so a site that asked for 3 s got gaps of
0.3 s. This extension listens to the same ``response_downloaded`` signal, connected when the
spider opens and so after AutoThrottle (which connects when it is built): in the same
dispatch, before the downloader schedules the slot's next request, it raises the delay back
to the floor.

A hold is a floor with an end: a site that answered 429/503 with ``Retry-After`` (or a
retried error, see ``crawler/middlewares/retry.py``) gets no request on its slot before the
time it asked for, while every other slot goes on; when the hold has passed, the slot's
next response puts the delay back to what it was.

Settings: ``DOWNLOAD_SLOTS`` (``delay`` of each slot is its floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic

from scrapy import Request, Spider, signals
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.http import Response


@dataclass(frozen=True)
class Hold:
    until: float  # monotonic time before which the slot sends nothing
    delay: float  # the slot's delay before the hold, restored after it


class SlotPoliteness:
    def __init__(self, crawler: Crawler, floors: dict[str, float]) -> None:
        self.crawler = crawler
        self.floors = floors
        self.holds: dict[str, Hold] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SlotPoliteness:
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        extension = cls(crawler, {key: float(value.get("delay", 0.0)) for key, value in slots.items()})
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    def _slot(self, key: str | None) -> Slot | None:
        engine = self.crawler.engine
        return engine.downloader.slots.get(key) if engine and key is not None else None

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        key = request.meta.get("download_slot")
        slot = self._slot(key)
        if slot is None:
            return
        hold = self.holds.get(key)
        if hold is not None and monotonic() >= hold.until:
            del self.holds[key]
            slot.delay = hold.delay
            hold = None
        floor = self.floors.get(key, 0.0)
        if hold is not None:
            floor = max(floor, hold.until - slot.lastseen)
        slot.delay = max(slot.delay, floor)

    def hold(self, request: Request, seconds: float) -> None:
        """Send nothing more on ``request``'s slot for ``seconds`` from now.

        The downloader waits ``delay`` after the slot's last request (``lastseen``), so the
        delay is stretched to reach ``now + seconds``.
        """
        key = request.meta.get("download_slot")
        slot = self._slot(key)
        if slot is None or seconds <= 0:
            return
        until = monotonic() + seconds
        previous = self.holds.get(key)
        if previous is not None:
            until = max(until, previous.until)
        self.holds[key] = Hold(until=until, delay=previous.delay if previous else slot.delay)
        slot.delay = max(slot.delay, until - slot.lastseen)
