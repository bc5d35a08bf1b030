"""The pure dedup functions: hashing, shingles, signatures, band keys and the similarity classes."""

from __future__ import annotations

import itertools
import unicodedata

import numpy as np
import pytest

from qpan.pipelines import dedup
from qpan.pipelines.dedup import Relation
from support.articles import (
    DEDUP_FIXTURES,
    MEETING_SEED,
    excerpts,
    found_as_duplicate,
    republications,
    seed_texts,
)
from support.relevance_set import load_set

SEEDS = seed_texts()
SAME_MEETING = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")


def relation(a: str, b: str) -> dedup.Similarity:
    first, second = dedup.fingerprint(a), dedup.fingerprint(b)
    assert first.signature is not None and second.signature is not None
    return dedup.compare(first.signature, first.shingle_count, second.signature, second.shingle_count)


def test_content_hash_ignores_typesetting_but_not_words() -> None:
    text = "Hội nghị giao ban  thực hiện Nghị định số 03/2019/NĐ-CP, hoà bình và thuỷ lợi."
    lower = "hội nghị giao ban thực hiện nghị định số 03 2019 nđ cp hòa bình, và thủy lợi"
    retyped = unicodedata.normalize("NFD", lower)
    assert dedup.content_hash(text) == dedup.content_hash(retyped)
    assert dedup.content_hash(text) != dedup.content_hash(text.replace("03/2019", "77/2010"))


def test_band_keys_are_signed_64_bit_and_deterministic() -> None:
    fp = dedup.fingerprint(SEEDS[MEETING_SEED])
    assert len(fp.band_keys) == len(dedup.BAND_SPANS) == 32
    assert [band for band, _ in fp.band_keys] == list(range(32))
    assert all(-(2**63) <= key < 2**63 for _, key in fp.band_keys)
    assert any(key < 0 for _, key in fp.band_keys)
    assert dedup.fingerprint(SEEDS[MEETING_SEED]).band_keys == fp.band_keys


def test_signature_round_trips_through_bytes() -> None:
    fp = dedup.fingerprint(SEEDS[MEETING_SEED])
    data = fp.to_bytes()
    assert data is not None
    decoded = dedup.decode_signature(data)
    assert decoded is not None
    signature, count = decoded
    assert (signature == fp.signature).all()
    assert count == fp.shingle_count
    assert dedup.decode_signature(b"\x02" + data[1:]) is None  # another signature version
    assert dedup.decode_signature(data[:-4]) is None


def test_text_without_words_has_no_signature() -> None:
    fp = dedup.fingerprint(" …  — ")
    assert fp.signature is None and fp.band_keys == [] and fp.to_bytes() is None


def test_short_text_is_one_shingle() -> None:
    assert len(dedup.shingles("Nghị định 03")) == 1


@pytest.mark.parametrize("seed", sorted(SEEDS))
@pytest.mark.parametrize("variant", ["other_boilerplate", "trimmed_ending", "different_title", "added_caption"])
def test_republication_is_found_as_a_duplicate(seed: str, variant: str) -> None:
    original = SEEDS[seed]
    copy = republications(original)[variant]
    assert copy != original
    assert found_as_duplicate(original, copy)


def test_seeds_are_different_stories() -> None:
    for a, b in itertools.combinations(sorted(SEEDS), 2):
        assert relation(SEEDS[a], SEEDS[b]).relation is Relation.UNRELATED, (a, b)


def test_another_report_of_the_same_meeting_is_the_same_story_not_a_duplicate() -> None:
    similarity = relation(SEEDS[MEETING_SEED], SAME_MEETING)
    assert similarity.relation is Relation.SAME_STORY
    for other in sorted(set(SEEDS) - {MEETING_SEED}):
        assert relation(SEEDS[other], SAME_MEETING).relation is Relation.UNRELATED, other


@pytest.mark.parametrize("seed", sorted(SEEDS))
@pytest.mark.parametrize("variant", ["first_two_thirds", "first_40_percent", "excerpt_in_other_chrome"])
def test_excerpt_is_found_as_a_duplicate_either_way_round(seed: str, variant: str) -> None:
    original = SEEDS[seed]
    excerpt = excerpts(original)[variant]
    assert found_as_duplicate(original, excerpt) and found_as_duplicate(excerpt, original)


def test_lead_of_a_long_text_is_checked_exactly_although_its_jaccard_is_low() -> None:
    parts = SEEDS["001_484e08d8d06b6fdc"].split("\n\n")
    lead = "\n\n".join(parts[:4])  # the two long closing paragraphs cut: 30% of the shingles
    similarity = relation(SEEDS["001_484e08d8d06b6fdc"], lead)
    assert similarity.jaccard < 0.3
    assert similarity.check_containment
    assert dedup.containment(dedup.shingles(lead), dedup.shingles(SEEDS["001_484e08d8d06b6fdc"])) == 1.0


def test_containment_is_the_share_of_the_smaller_set_in_the_larger() -> None:
    a = np.arange(100, dtype=np.uint32)
    assert dedup.containment(a, a[:40]) == dedup.containment(a[:40], a) == 1.0
    assert dedup.containment(a[:40], np.arange(30, 130, dtype=np.uint32)) == 0.25
    assert dedup.containment(a, a[:0]) == 0.0
    assert dedup.is_excerpt(a, a[:dedup.MIN_CONTAINED_SHINGLES])
    assert not dedup.is_excerpt(a, a[: dedup.MIN_CONTAINED_SHINGLES - 1])  # a quoted sentence is no republication


def test_no_two_texts_of_the_labelled_set_are_excerpts_of_each_other() -> None:
    """Different reports, the same meeting's two among them, are never merged by containment."""
    texts = {item.name: dedup.shingles(item.text) for item in load_set()}
    texts["same_meeting"] = dedup.shingles(SAME_MEETING)
    merged = [(a, b) for a, b in itertools.combinations(sorted(texts), 2) if dedup.is_excerpt(texts[a], texts[b])]
    assert merged == []
    assert dedup.containment(texts[MEETING_SEED + ".txt"], texts["same_meeting"]) < dedup.DUPLICATE_CONTAINMENT
