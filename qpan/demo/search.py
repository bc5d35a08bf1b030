"""The local sites' own search: every word of the query, diacritics folded, in the article.

Real Vietnamese site search is accent-insensitive ("nghi dinh 03" finds "Nghị định 03"),
which is what the crawler's theme queries rely on. Words are cut by the rule qpan's own search
index uses (``pipelines.normalize.words``).
"""

from __future__ import annotations

from collections.abc import Iterable

from qpan.demo.content import Article
from qpan.pipelines.normalize import words


def found(query: str, articles: Iterable[Article]) -> list[Article]:
    """The articles holding every word of ``query``; none for a query without words."""
    wanted = set(words(query))
    return [article for article in articles if wanted <= set(words(article.searchable_text()))] if wanted else []
