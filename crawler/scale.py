"""Scale-out: ``qpan crawl`` on several machines sharing one frontier of article pages in Redis.

Only article pages are shared. Each process still fetches its own entry points (feeds,
sitemaps, listings, searches, discovery), conditionally and so cheaply, because that is how a
run learns whether each of its sources was reached: were they shared, a machine that happened
to fetch none of a source's pages would report that source as down. Article pages, which are
most of the work, go to one Redis queue behind one Redis seen-set, so whichever machine is free
fetches each of them once.

A round lasts while any machine is in it. scrapy-redis's own ``SCHEDULER_PERSIST = False``
clears the queue when the *first* machine finishes, losing pages the others queued and have not
fetched yet; here the *last* one out clears it. Each machine holds a lease, renewed while it
crawls, so a killed process cannot keep a round (and its seen-set) alive for ever. The next
run starts a fresh round; articles already stored are skipped by ``SeenUrlFilter`` against the
shared database, as on one machine.

Importing this module needs scrapy-redis; ``crawler/run.py`` imports it only when
``[crawl] redis_url`` is set, and Scrapy loads ``SharedScheduler`` by the path the add-on sets.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
import warnings
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy_redis.scheduler import Scheduler

from qpan.crawler import meta
from qpan.errors import UserError

LEASE_SECONDS = 600.0
RENEW_AFTER_SECONDS = 60.0

# KEYS: workers, queue, seen-set. ARGV: worker, now, lease expiry.
_JOIN = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[2])
if redis.call('zcard', KEYS[1]) == 0 then redis.call('del', KEYS[2], KEYS[3]) end
redis.call('zadd', KEYS[1], ARGV[3], ARGV[1])
"""
_LEAVE = """
redis.call('zrem', KEYS[1], ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[2])
if redis.call('zcard', KEYS[1]) == 0 then redis.call('del', KEYS[1], KEYS[2], KEYS[3]) end
"""


class RedisUnreachable(UserError):
    """Checked when the crawl starts: inside Scrapy the same failure is a page of Twisted tracebacks."""

    exit_code = 2

    def __init__(self, redis_url: str, error: RedisError) -> None:
        where = urlsplit(redis_url).netloc.rpartition("@")[2] or redis_url  # never print a password
        super().__init__(f"Redis at {where} is not reachable ({error})")


def require_reachable(redis_url: str) -> None:
    try:
        with Redis.from_url(redis_url, socket_connect_timeout=5) as client:
            client.ping()
    except RedisError as exc:
        raise RedisUnreachable(redis_url, exc) from None


class SharedScheduler(Scheduler):
    """scrapy-redis's queue and seen-set for article pages, a local FIFO for this machine's entry points.

    ``enqueue_request``/``next_request`` are whole, not ``super()`` calls: scrapy-redis 0.9.1
    passes ``spider=`` to the stats collector, which Scrapy 2.19 deprecates (a warning on every
    run) and a later Scrapy will reject.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workers_key_template = ""
        self.workers_key = ""
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.local: deque[Request] = deque()
        self.local_seen: set[str] = set()
        self.renewed_at = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler: SharedScheduler = super().from_crawler(crawler)
        scheduler.workers_key_template = crawler.settings.get("QPAN_WORKERS_KEY")
        return scheduler

    def _round(self, script: str) -> None:
        now = time.time()
        keys = [self.workers_key, self.queue.key, self.df.key]
        self.server.eval(script, len(keys), *keys, self.worker, now, now + LEASE_SECONDS)
        self.renewed_at = now

    def open(self, spider: Spider) -> None:
        with warnings.catch_warnings():  # scrapy-redis 0.9.1 calls the deprecated Spider.log() on a rejoin
            warnings.simplefilter("ignore", ScrapyDeprecationWarning)
            super().open(spider)
        self.workers_key = self.workers_key_template % {"spider": spider.name}
        self._round(_JOIN)

    def close(self, reason: str) -> None:
        super().close(reason)
        self._round(_LEAVE)

    def _renew_lease(self) -> None:
        now = time.time()
        if now - self.renewed_at >= RENEW_AFTER_SECONDS:
            self.server.zadd(self.workers_key, {self.worker: now + LEASE_SECONDS})
            self.renewed_at = now

    def enqueue_request(self, request: Request) -> bool:
        shared = request.meta.get(meta.KIND) == meta.ARTICLE
        if not request.dont_filter and self._seen(request, shared):
            self.df.log(request, self.spider)
            return False
        if shared:
            self.queue.push(request)
        else:
            self.local.append(request)
        self.stats.inc_value(f"scheduler/enqueued/{'redis' if shared else 'memory'}")
        return True

    def _seen(self, request: Request, shared: bool) -> bool:
        if shared:
            return bool(self.df.request_seen(request))
        fingerprint = self.df.request_fingerprint(request)
        seen = fingerprint in self.local_seen
        self.local_seen.add(fingerprint)
        return seen

    def next_request(self) -> Request | None:
        self._renew_lease()
        if self.local:
            request, where = self.local.popleft(), "memory"
        else:
            request, where = self.queue.pop(self.idle_before_close), "redis"
        if request is not None:
            self.stats.inc_value(f"scheduler/dequeued/{where}")
        return request

    def __len__(self) -> int:
        return len(self.local) + super().__len__()
