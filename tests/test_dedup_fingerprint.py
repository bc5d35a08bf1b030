"""The pure dedup functions: hashing, shingles, signatures, band keys and the similarity classes."""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from qpan.pipelines import dedup
from qpan.pipelines.dedup import Relation
from tests.support.articles import DEDUP_FIXTURES, republications, seed_texts

SEEDS = seed_texts()
SAME_MEETING = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")
MEETING_SEED = "000_219d41f9fef099b1"  # the 16/7/2021 conference that same_meeting_qdnd.txt also reports


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
def test_republication_is_a_duplicate_and_shares_a_band(seed: str, variant: str) -> None:
    original = SEEDS[seed]
    copy = republications(original)[variant]
    assert copy != original
    assert relation(original, copy).relation is Relation.DUPLICATE
    shared = set(dedup.fingerprint(original).band_keys) & set(dedup.fingerprint(copy).band_keys)
    assert shared, "the LSH bands must bring the republication up as a candidate"


def test_seeds_are_different_stories() -> None:
    for a, b in itertools.combinations(sorted(SEEDS), 2):
        assert relation(SEEDS[a], SEEDS[b]).relation is Relation.UNRELATED, (a, b)


def test_another_report_of_the_same_meeting_is_the_same_story_not_a_duplicate() -> None:
    similarity = relation(SEEDS[MEETING_SEED], SAME_MEETING)
    assert similarity.relation is Relation.SAME_STORY
    for other in sorted(set(SEEDS) - {MEETING_SEED}):
        assert relation(SEEDS[other], SAME_MEETING).relation is Relation.UNRELATED, other


def test_trimmed_to_a_lead_is_caught_by_containment() -> None:
    parts = SEEDS[MEETING_SEED].split("\n\n")
    lead = "\n\n".join(parts[: len(parts) // 2])
    similarity = relation(SEEDS[MEETING_SEED], lead)
    assert similarity.jaccard < dedup.DUPLICATE_JACCARD
    assert similarity.relation is Relation.DUPLICATE
