"""The local sites' own search: every word of the query, diacritics folded, in the article.

Real Vietnamese site search is accent-insensitive ("nghi dinh 03" finds "Nghị định 03"),
which is what the crawler's theme queries rely on. Words are cut by the rule qpan's own search
index uses (``pipelines.normalize.words``).
"""

from __future__ import annotations

from qpan.demo.content import Article
from qpan.pipelines.normalize import words


def matches(query: str, article: Article) -> bool:
    wanted = set(words(query))
    return bool(wanted) and wanted <= set(words(article.folded_text()))
