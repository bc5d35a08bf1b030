"""AutoThrottle that never goes below a source's own ``download_delay``.

Scrapy's AutoThrottle only knows one global minimum (DOWNLOAD_DELAY); a source that
asks for a slower pace (its registry ``download_delay``, put in DOWNLOAD_SLOTS under
the source's name) keeps that pace as a floor.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class SourceThrottle(AutoThrottle):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self.floors = {key: float(value.get("delay", 0)) for key, value in slots.items()}

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        floor = self.floors.get(response.meta.get("download_slot"), 0.0)
        slot.delay = max(slot.delay, floor)
