"""Direct inserts for tests of the read side (listing, search, export), bypassing the crawl."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from qpan.storage import search
from qpan.storage.db import Database
from qpan.storage.models import Article


def insert_article(database: Database, **fields: Any) -> int:
    text = fields.setdefault("text", "")
    fields.setdefault("raw_text", text)
    fields.setdefault("title", "")
    fields.setdefault("source", "test")
    fields.setdefault("url", f"https://example.vn/{hashlib.sha1(repr(fields).encode()).hexdigest()[:10]}.html")
    fields.setdefault("canonical_url", fields["url"])
    fields.setdefault("content_hash", hashlib.sha256(text.encode()).hexdigest())
    if isinstance(fields.get("published"), str):
        fields["published"] = datetime.fromisoformat(fields["published"])
    with database.session() as session:
        article = Article(**fields)
        session.add(article)
        session.flush()
        search.index_article(session, article.id, article.title, article.text)
        return article.id
