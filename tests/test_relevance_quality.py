"""Precision and recall of the default theme profile on the labelled set (both must be >= 0.95)."""

from __future__ import annotations

import pytest

from qpan.pipelines.relevance import ThemeProfile
from tests.support.relevance_set import load_set

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
