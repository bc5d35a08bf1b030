"""Fingerprint stage: the pure half of dedup, a function of the text alone.

It sets what the dedup stage compares and the store keeps: ``content_hash``, ``minhash`` (the
signature's bytes) and ``band_keys``. Apart from the verdict, which needs the database, so that
a crawl computes it in its page workers (``pipelines/stages/prepare.py``) and the database
thread only looks things up.
"""

from __future__ import annotations

from typing import Any

from qpan.pipelines.dedup import fingerprint, permutations


class FingerprintStage:
    def __init__(self) -> None:
        # drawn now, with numpy.random's import (10 ms): a page worker builds its stages while it
        # waits for the first page, which then costs no more than any other
        permutations()

    def process_item(self, item: Any, spider: object = None) -> Any:
        fp = fingerprint(item.get("text") or "")
        item["content_hash"] = fp.content_hash
        item["minhash"] = fp.to_bytes()
        item["band_keys"] = fp.band_keys
        return item
