"""One module a command; each exposes ``register(app)``. The order here is the order of ``qpan --help``."""

from __future__ import annotations

from qpan.commands import (
    alerts,
    articles,
    config,
    crawl,
    db,
    demo,
    export,
    extract,
    init,
    runs,
    scheduler,
    serve,
    show,
    sources,
    triage,
)

COMMAND_MODULES = [
    init, crawl, articles, show, triage, runs, sources, extract, scheduler, alerts, export, db, config, serve, demo,
]
