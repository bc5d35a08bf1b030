"""Access to the machine's PostgreSQL and Redis for tests that need a real server.

On a user's machine without them such tests skip with the reason; under CI (``CI=true``)
a missing service is a failure, so a broken CI machine cannot pass by skipping.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_HOST = os.environ.get("QPAN_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("QPAN_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("QPAN_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("QPAN_TEST_PG_DB", "test")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    reason = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true requires it", pytrace=False)
    pytest.skip(reason)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards. Yields its URL."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    import psycopg

    name = f"qpan_test_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={PG_ADMIN_DB}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_HOST = os.environ.get("QPAN_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("QPAN_TEST_REDIS_PORT", "6379"))
_REDIS_CLAIM = "qpan-test:claimed"


def require_redis() -> None:
    require_service("Redis", REDIS_HOST, REDIS_PORT)


@contextmanager
def fresh_redis_database() -> Iterator[str]:
    """An empty Redis database number for one test, flushed afterwards. Yields its URL.

    Parallel test workers share one server: a database is claimed with ``SET NX`` so no two
    tests ever use the same one, and database 0 is left to whoever else uses the server.
    """
    require_redis()
    import redis

    token = uuid.uuid4().hex
    admin = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    count = int(admin.config_get("databases")["databases"])
    admin.close()
    for number in range(1, count):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
        if client.dbsize() == 0 and client.set(_REDIS_CLAIM, token, nx=True, ex=3600):
            break
        client.close()
    else:
        pytest.fail(f"no empty Redis database at {REDIS_HOST}:{REDIS_PORT} to claim", pytrace=False)
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    finally:
        client.flushdb()
        client.close()
