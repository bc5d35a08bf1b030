"""The bundled local news web: served on 127.0.0.1 for the tests and for ``qpan demo``."""

from __future__ import annotations

from pathlib import Path

from qpan.demo.server import LocalWeb, RequestRecord

DEMO_SITES = Path(__file__).with_name("sites")

__all__ = ["DEMO_SITES", "LocalWeb", "RequestRecord"]
