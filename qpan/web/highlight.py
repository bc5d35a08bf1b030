"""The matched theme terms marked in an article's text, found the way the scorer finds them.

The scorer matches on diacritic-free keys (``match_key``), so the text is split into words,
each word keyed the same way, and a term's words are looked for in that key sequence; the
marks then fall on the original words, whatever tone placement or case the site used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qpan.pipelines.normalize import match_key

_WORD = re.compile(r"\w+")
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")  # "Nghị định 03 (cited without year)" -> "Nghị định 03"

Segment = tuple[str, bool]  # (text, is a matched term)


def _phrases(terms: Iterable[str]) -> set[tuple[str, ...]]:
    keyed = (tuple(match_key(_QUALIFIER.sub("", term)).split()) for term in terms)
    return {phrase for phrase in keyed if phrase}


def _marked(paragraph: str, phrases: set[tuple[str, ...]], longest: int) -> list[Segment]:
    words = [(m.start(), m.end(), match_key(m.group())) for m in _WORD.finditer(paragraph)]
    keys = [key for _, _, key in words]
    segments: list[Segment] = []
    done = position = 0
    firsts = {phrase[0] for phrase in phrases}  # most words start no term: one set lookup skips them
    while position < len(words):
        if keys[position] not in firsts:
            position += 1
            continue
        for length in range(min(longest, len(words) - position), 0, -1):
            if tuple(keys[position : position + length]) in phrases:
                start, end = words[position][0], words[position + length - 1][1]
                if start > done:
                    segments.append((paragraph[done:start], False))
                segments.append((paragraph[start:end], True))
                done, position = end, position + length
                break
        else:
            position += 1
    if done < len(paragraph):
        segments.append((paragraph[done:], False))
    return segments


def highlight(text: str, terms: Iterable[str]) -> list[list[Segment]]:
    """The text's paragraphs, each a list of segments; matched segments are shown marked."""
    phrases = _phrases(terms)
    longest = max((len(phrase) for phrase in phrases), default=0)
    paragraphs = [line for line in text.splitlines() if line.strip()]
    if not longest:
        return [[(line, False)] for line in paragraphs]
    return [_marked(line, phrases, longest) for line in paragraphs]
