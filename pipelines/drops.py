"""The one exception every pipeline stage raises to drop an item, with a countable reason."""

from __future__ import annotations

from scrapy.exceptions import DropItem


class Dropped(DropItem):
    """An item dropped for a reason the run summary counts.

    ``category`` is a short stable word ("empty", "boilerplate_only", "too_large",
    "broken_html", "not_article", ...) used in the stats key
    ``qpan/source/<name>/dropped/<category>``; ``detail`` is for the log.
    """

    def __init__(self, category: str, detail: str = "") -> None:
        super().__init__(f"{category}: {detail}" if detail else category)
        self.category = category
        self.detail = detail
