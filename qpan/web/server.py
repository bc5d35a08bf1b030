"""Run the web app under uvicorn on a socket bound here, so a busy port is one clear error, not a log line."""

from __future__ import annotations

import socket
import sys

import uvicorn

from qpan.config import Config
from qpan.storage.db import Database
from qpan.web.app import create_app

BACKLOG = 2048  # uvicorn's default


def bind(host: str, port: int) -> socket.socket:
    """The listening socket; an address in use or not of this machine raises OSError here.

    It listens at once, so a browser opened on the printed address while uvicorn is still
    starting waits in the backlog instead of being refused.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def serve(config: Config, database: Database, host: str, port: int, token: str | None) -> None:
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"qpan: serving {database.engine.url.render_as_string(hide_password=True)} "
                     f"at http://{shown}:{actual}/ (Ctrl-C to stop)\n")
    sys.stderr.flush()
    server = uvicorn.Server(uvicorn.Config(create_app(config, database, token), log_level="warning", access_log=False))
    server.run(sockets=[sock])
