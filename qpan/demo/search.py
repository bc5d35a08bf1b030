"""The local sites' own search: every word of the query, diacritics folded, in the article.

Real Vietnamese site search is accent-insensitive ("nghi dinh 03" finds "Nghị định 03"),
which is what the crawler's theme queries rely on.
"""

from __future__ import annotations

import re

from qpan.demo.content import Article
from qpan.pipelines.normalize import fold

_WORD = re.compile(r"\w+")


def words(text: str) -> set[str]:
    return set(_WORD.findall(fold(text)))


def matches(query: str, article: Article) -> bool:
    wanted = words(query)
    return bool(wanted) and wanted <= words(article.folded_text())
