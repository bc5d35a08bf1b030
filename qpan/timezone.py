"""The one time zone qpan reads and shows dates in.

Vietnamese sites print local times without an offset, and analysts read dates in Vietnam time.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
