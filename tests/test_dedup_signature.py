"""Signatures stay what datasketch computes and what databases already store.

``dedup.signature`` does datasketch's affine32 arithmetic itself, for speed; these tests hold it
equal to ``MinHash.update_batch`` and pin the stored bytes of known texts, so neither a change
here nor a datasketch upgrade can silently invalidate the signatures and band keys in the
``articles`` and ``dedup_bands`` tables (that would need a new ``SIGNATURE_VERSION``).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from datasketch import MinHash

from qpan.pipelines import dedup
from support.articles import seed_texts


def datasketch_signature(hashes: np.ndarray) -> np.ndarray:
    minhash = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.MINHASH_SEED, scheme="affine32", hashfunc=int)
    minhash.update_batch(hashes.tolist())
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


@pytest.mark.parametrize("size", [1, 2, 5, 129, 1000, 20_000])
def test_signature_equals_datasketch(size: int) -> None:
    rng = np.random.default_rng(size)
    hashes = np.unique(rng.integers(0, 2**32, size, dtype=np.uint64).astype(np.uint32))
    assert np.array_equal(dedup.signature(hashes), datasketch_signature(hashes))


def test_signature_equals_datasketch_at_the_extremes() -> None:
    hashes = np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32)
    assert np.array_equal(dedup.signature(hashes), datasketch_signature(hashes))


@pytest.mark.parametrize(
    ("text", "stored_sha256", "shingle_count", "first_band_keys"),
    [
        (
            seed_texts()["000_219d41f9fef099b1"],
            "5dff68bbfc39d4b3f918f9aac86ba4679220ab92cdc402aed3eec4c53ef26d64",
            938,
            [(0, -1455527431623687375), (1, -7681393004455350872)],
        ),
        (
            "Hội nghị",
            "46a337eff946aea513bd34c7b9e8404955385c7e4ad31e809a9d1ea6ad050eaf",
            1,
            [(0, -333977778087735676), (1, -2555504869254341458)],
        ),
    ],
)
def test_stored_signatures_do_not_change(
    text: str, stored_sha256: str, shingle_count: int, first_band_keys: list[tuple[int, int]]
) -> None:
    fp = dedup.fingerprint(text)
    stored = fp.to_bytes()
    assert stored is not None
    assert hashlib.sha256(stored).hexdigest() == stored_sha256
    assert fp.shingle_count == shingle_count
    assert fp.band_keys[:2] == first_band_keys
