"""Quality on the labelled set: precision and recall of the default theme profile (both must be
>= 0.95), and dedup: no two different texts merged, their republications and excerpts found."""

from __future__ import annotations

import itertools

import pytest

from qpan.pipelines import dedup
from qpan.pipelines.relevance import ThemeProfile
from support.articles import DEDUP_FIXTURES, excerpts, found_as_duplicate, republications
from support.relevance_set import load_set

MINIMUM = 0.95


@pytest.fixture(scope="module")
def labelled():
    return load_set()


def test_set_is_big_and_balanced_enough(labelled) -> None:
    assert len(labelled) >= 40
    assert sum(item.relevant for item in labelled) >= 15
    assert sum(not item.relevant for item in labelled) >= 15
    assert all(item.text and item.title for item in labelled)


def test_precision_and_recall_on_labelled_set(labelled) -> None:
    profile = ThemeProfile.load(None)
    tp = fp = fn = 0
    wrong = []
    for item in labelled:
        result = profile.score(item.title, item.text)
        tp += result.relevant and item.relevant
        fp += result.relevant and not item.relevant
        fn += not result.relevant and item.relevant
        if result.relevant != item.relevant:
            wrong.append(f"{item.name} (labelled {item.relevant}: {item.note}): {result.explain()}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"\nrelevance on {len(labelled)} labelled articles: precision {precision:.3f}, recall {recall:.3f}")
    for line in wrong:
        print("  misclassified:", line)
    assert precision >= MINIMUM, f"precision {precision:.3f} < {MINIMUM}"
    assert recall >= MINIMUM, f"recall {recall:.3f} < {MINIMUM}"


def test_dedup_on_labelled_set(labelled) -> None:
    """Every pair of different texts (the set, with the second report of the seed 000's meeting)
    stays apart; every republication and every excerpt of 50 shingles or more of each text is found
    as its duplicate, as the dedup stage decides (a shared band, then Jaccard or exact containment)."""
    texts = {item.name: item.text for item in labelled}
    texts["same_meeting"] = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")
    pairs = list(itertools.combinations(sorted(texts), 2))
    merged = [(a, b) for a, b in pairs if found_as_duplicate(texts[a], texts[b])]
    highest = max(dedup.containment(dedup.shingles(texts[a]), dedup.shingles(texts[b])) for a, b in pairs)
    copies = [
        (name, variant, copy)
        for name, text in texts.items()
        for variant, copy in (republications(text) | excerpts(text)).items()
        if len(dedup.shingles(copy)) >= dedup.MIN_CONTAINED_SHINGLES
    ]
    missed = [(name, variant) for name, variant, copy in copies if not found_as_duplicate(texts[name], copy)]
    print(f"\ndedup on {len(texts)} labelled texts: {len(merged)} of {len(pairs)} pairs merged (highest containment "
          f"{highest:.2f}); {len(copies) - len(missed)} of {len(copies)} republications and excerpts found")
    for name, variant in missed:
        print("  missed:", name, variant)
    assert merged == []
    assert (len(copies) - len(missed)) / len(copies) >= MINIMUM
