"""Fingerprints of an article's text for deduplication: an exact hash and a MinHash with LSH bands.

Pure functions, no database: the dedup stage asks storage for candidates by band key and
uses :func:`compare` to decide. The parameters below come from measuring the seed texts
(``benchmarks/pipeline.py`` and the dedup tests exercise them):

* Shingles are runs of ``SHINGLE_WORDS`` = 5 syllables of the folded text (``match_key``).
  Vietnamese news on this theme is formulaic ("bảo vệ an ninh quốc gia, bảo đảm trật tự, an
  toàn xã hội…"): between the five seeds, which report five *different* meetings, the exact
  Jaccard is 0.06–0.11 with 3-syllable shingles but 0.015–0.05 with 5, while republications
  (other boilerplate, another title, an added caption) stay at 0.98 and a trimmed ending loses
  only its share of the text. Longer shingles would lower the background further but make
  every small edit cost more shingles.
* ``NUM_PERM`` = 128 permutations: the standard error of the estimated Jaccard is
  sqrt(J(1-J)/128), 0.044 at J = 0.5 and 0.019 at the 0.05 background, so the thresholds
  below sit many errors apart. The signature is 512 bytes (uint32, datasketch's ``affine32``).
* Bands: 16 bands of 3 rows plus 16 bands of 2 rows (32 band keys an article, 80 of the 128
  values). The chance that a pair with Jaccard J shares at least one band is
  1 - (1-J^3)^16 (1-J^2)^16: 0.999 at 0.5 (every duplicate is found), 0.98 at 0.4, 0.86 at 0.3
  and 0.54 at 0.2, but 6.5e-3 at the 0.02 same-theme background and 6e-5 at 0.002 (unrelated
  news). On one theme those chance matches still grow with the store (``benchmarks/pipeline.py
  --only lookup``: 5.6 articles behind a lookup's keys at 10,000 stored articles, 37 at 100,000,
  418 at 1,000,000), so the lookup reads only the newest few of each key and verifies those that
  share the most keys (``qpan.storage.articles``). Pure 3-row bands would miss more same-story
  pairs; pure 2-row bands would return hundreds of false candidates once a theme has thousands
  of articles. Same-story pairs below 0.3 are found by the dedup stage's publication-date
  window instead.
* ``DUPLICATE_JACCARD`` = 0.5: a republication (other boilerplate, title, caption, a trimmed
  ending) is a duplicate; two reports of one meeting that share passages have Jaccard well below.
* ``DUPLICATE_CONTAINMENT`` = 0.75: an excerpt (the first paragraphs of an article, its lead, a
  middle run) is a duplicate when at least 0.75 of the shorter text's shingles are in the longer
  one, *measured exactly*, whatever the Jaccard. On the labelled set (43 texts: the 5 seeds,
  tests/data/relevance and the same-meeting report, 903 pairs) the highest containment between
  different texts is 0.45 (the seed 000 and another report of its meeting), then 0.32 and 0.29,
  so no threshold from 0.5 up merges any of them (0 false merges in 903 pairs). Of the set's
  republications and excerpts of 50 shingles or more (tests/test_relevance_quality.py: four
  republications, the first two thirds, the first 40% of the words, and those 40% in 20 words of
  another site's chrome; 299 copies), 0.8 finds 278 and 0.75 finds 294: all but one of the 295
  that a band brings up. A short excerpt in chrome sits at 0.78-0.80, the chrome being a fifth
  of its shingles.
  Containment was once *estimated* from the Jaccard and the set sizes, |A∩B| = J(|A|+|B|)/(1+J),
  and trusted only from J = 0.25 up. That is why excerpts were missed: an excerpt of a third of
  a text has J of about a third, where the 128-value estimate is off by ±0.04, and a cut at a
  paragraph boundary of seed 001 (its two long last paragraphs dropped, 30% of its shingles) has
  exact J 0.30, estimated 0.24: gated out, and its containment estimated at 0.85 for an exact
  1.0. Now a candidate whose estimate reaches ``CONTAINMENT_CHECK`` = 0.5 is checked exactly by
  re-shingling its stored text (0.22 ms for a text of 1.3k characters). Every one of the 740
  excerpts below reaches 0.5 (the lowest estimates were 0.60 and 0.70, for an exact 1.0) and no
  pair of different texts of the set does, so the check costs nothing on ordinary articles.
  Measured on excerpts of the 43 texts (first paragraphs, first words, a middle run, and the
  first words in other chrome; 50 shingles and ≥ 0.8 contained), the share found as duplicates,
  before -> now, by the excerpt's nominal share of the text: 20%: 0.28 -> 0.72, 30%: 0.70 ->
  0.84, 40%: 0.86 -> 0.95, 50%: 0.89 -> 0.98, two thirds: 0.98 -> 0.99, 80%: 1.00 -> 1.00.
  What is left is candidate lookup: every excerpt that shares a band with its original is now
  caught, and sharing a band depends on the Jaccard (≈ the excerpt's share) as computed below,
  unless both are relevant and published within the dedup stage's date window.
  datasketch's LSH Ensemble, the tool built for containment queries (threshold 0.8, 8 size
  partitions), found fewer of the same excerpts than these bands (30% paragraph cuts: 0.56
  against 0.84; 40% first words: 0.93 against 0.98), needs 90 band keys an article against 32,
  and indexes a fixed set once (``index`` cannot be called again), so it cannot serve an index
  that grows crawl by crawl.
* ``CLUSTER_JACCARD`` = 0.15: three times the highest background between different meetings
  (0.05, five standard errors away), so articles at or above it but not duplicates are the
  same story told differently: same ``cluster``, both kept as new articles.

Changing any of these changes the band keys: stored signatures carry ``SIGNATURE_VERSION`` and
a new version needs the bands of stored articles rebuilt (a migration).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import numpy as np

from qpan.pipelines.normalize import text_key

SHINGLE_WORDS = 5
NUM_PERM = 128
MINHASH_SEED = 1
BAND_LAYOUT: tuple[tuple[int, int], ...] = ((16, 3), (16, 2))  # (number of bands, rows each)
DUPLICATE_JACCARD = 0.5
DUPLICATE_CONTAINMENT = 0.75
CONTAINMENT_CHECK = 0.5  # estimated containment from which the exact check runs
MIN_CONTAINED_SHINGLES = 50  # a shorter text (a caption, a quoted sentence) is no republication
CLUSTER_JACCARD = 0.15
SIGNATURE_VERSION = 1

_HEADER = struct.Struct("<BI")  # version, number of distinct shingles
# a stored signature as numpy reads it: the header, then NUM_PERM little-endian uint32 (packed)
_RECORD = np.dtype([("version", "u1"), ("count", "<u4"), ("signature", "<u4", (NUM_PERM,))])


def _band_spans() -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    start = 0
    for count, rows in BAND_LAYOUT:
        for _ in range(count):
            spans.append((start, start + rows))
            start += rows
    if start > NUM_PERM:
        raise ValueError("BAND_LAYOUT uses more rows than NUM_PERM")
    return tuple(spans)


BAND_SPANS = _band_spans()


def _key(text: str) -> bytes:
    """The text as diacritic-free lower-case words (``match_key``), single-spaced, as ASCII bytes:
    Unicode form, tone placement, case and punctuation cannot make two copies of a text differ.
    Folding merges syllables that differ only by diacritics, which changes none of the Jaccard
    figures above. The relevance stage has just computed the same key (``text_key`` caches it)."""
    return text_key(text).encode("ascii")


def _digest(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()


def content_hash(text: str) -> str:
    """SHA-256 of the text reduced to its words, so a republication that only re-typesets the
    text (spacing, punctuation, case, diacritics, Unicode form) hashes equal."""
    return _digest(_key(text))


# odd 64-bit multipliers, one per position in a shingle: hash(shingle) = sum(word_hash * M[j])
_POSITION_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)


def shingle_hashes(words: list[bytes], size: int = SHINGLE_WORDS) -> np.ndarray:
    """Distinct 32-bit hashes of the runs of ``size`` consecutive words (uint32, sorted).

    Computed with numpy from one CRC-32 per word instead of hashing every shingle string in
    Python: that is what keeps fingerprinting well under a millisecond. A text shorter than
    ``size`` words is one shingle; no words, no shingles.
    """
    if size > len(_POSITION_MULTIPLIERS):
        raise ValueError(f"shingles of more than {len(_POSITION_MULTIPLIERS)} words are not supported")
    if not words:
        return np.empty(0, dtype=np.uint32)
    word_hashes = np.fromiter(map(zlib.crc32, words), np.uint64, len(words))
    width = min(size, len(words))
    count = len(words) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    for position in range(width):
        combined += word_hashes[position : position + count] * _POSITION_MULTIPLIERS[position]
    hashes = np.sort((combined >> np.uint64(32)).astype(np.uint32))
    # distinct values of the sorted array; np.unique gives the same but hashes first, 6x slower here
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]


def shingles(text: str) -> np.ndarray:
    """The distinct shingle hashes of a text (see :func:`shingle_hashes`)."""
    return shingle_hashes(_key(text).split())


@lru_cache(maxsize=1)
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine32 permutations (a, b) of datasketch's ``MinHash(num_perm=NUM_PERM,
    seed=MINHASH_SEED, scheme="affine32")``, as columns; drawn once per process, every signature
    reuses them. Drawn here with numpy's ``RandomState`` as datasketch draws them (an odd ``a``
    below 2^32, then ``b``), not taken from datasketch: importing it pulls in scipy, about 1 s
    of CPU at the start of every page worker. ``tests/test_dedup_signature.py`` holds the two equal."""
    generator = np.random.RandomState(MINHASH_SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a[:, np.newaxis], b[:, np.newaxis]


def _premix(hashes: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer, which datasketch's affine32 scheme applies to every input
    hash before the permutations (uint32 arithmetic wraps, as the finalizer intends)."""
    mixed = hashes ^ (hashes >> np.uint32(16))
    mixed *= np.uint32(0x85EBCA6B)
    mixed ^= mixed >> np.uint32(13)
    mixed *= np.uint32(0xC2B2AE35)
    mixed ^= mixed >> np.uint32(16)
    return mixed


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (``NUM_PERM`` uint32 values) of a non-empty set of shingle hashes.

    The values are datasketch's ``MinHash(scheme="affine32").update_batch`` of the hashes (the
    premix, then min over the shingles of a·h + b mod 2^32 for each permutation), computed in one
    ``NUM_PERM`` x shingles array with in-place arithmetic: ``update_batch`` allocates fresh
    shingles x ``NUM_PERM`` temporaries and was most of the fingerprint's time (0.9 ms against
    0.1 ms on a 900-shingle article). ``tests/test_dedup_signature.py`` keeps the two equal.
    """
    a, b = permutations()
    values = np.multiply(a, _premix(hashes.astype(np.uint32, copy=False)))
    values += b
    return values.min(axis=1)


def band_keys(sig: np.ndarray) -> list[tuple[int, int]]:
    """(band index, key) pairs; the key is a signed 64-bit hash of the band's values, so it fits
    BIGINT on PostgreSQL and INTEGER on SQLite."""
    values = sig.astype("<u4", copy=False)
    keys = []
    for band, (start, end) in enumerate(BAND_SPANS):
        digest = hashlib.blake2b(values[start:end].tobytes(), digest_size=8).digest()
        keys.append((band, int.from_bytes(digest, "little", signed=True)))
    return keys


@dataclass(frozen=True)
class Fingerprint:
    """What dedup stores about a text: exact hash, signature, shingle count, band keys. The
    shingles themselves are not kept: the exact containment check, which is rare, re-shingles."""

    content_hash: str
    signature: np.ndarray | None  # None for a text without words
    shingle_count: int
    band_keys: list[tuple[int, int]]

    def to_bytes(self) -> bytes | None:
        if self.signature is None:
            return None
        return _HEADER.pack(SIGNATURE_VERSION, self.shingle_count) + self.signature.astype("<u4").tobytes()

    @classmethod
    def from_stored(cls, content_hash: str, minhash: bytes | None, keys: list[tuple[int, int]]) -> Fingerprint:
        """The fingerprint an item carries (``content_hash``, ``minhash``, ``band_keys``)."""
        decoded = decode_signature(minhash)
        if decoded is None:
            return cls(content_hash, None, 0, [])
        return cls(content_hash, decoded[0], decoded[1], list(keys))


def fingerprint(text: str) -> Fingerprint:
    key = _key(text)
    hashes = shingle_hashes(key.split())
    if not len(hashes):
        return Fingerprint(_digest(key), None, 0, [])
    sig = signature(hashes)
    return Fingerprint(_digest(key), sig, len(hashes), band_keys(sig))


def is_current(data: bytes | None) -> bool:
    """True if ``articles.minhash`` holds a signature of this version (absent or older ones are
    skipped: a migration rebuilds them)."""
    return data is not None and len(data) == _RECORD.itemsize and data[0] == SIGNATURE_VERSION


def decode_signature(data: bytes | None) -> tuple[np.ndarray, int] | None:
    """(signature, shingle count) from ``articles.minhash``; None if absent or of another version."""
    if not is_current(data):
        return None
    signatures, counts = decode_signatures([data])
    return signatures[0], int(counts[0])


def decode_signatures(data: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(signatures, one a row; shingle counts) of many current ``articles.minhash`` values, decoded
    in one numpy call: a lookup verifies dozens of candidates, and per-row decoding dominated it."""
    records = np.frombuffer(b"".join(data), dtype=_RECORD)
    return records["signature"].astype(np.uint32), records["count"].astype(np.int64)


class Relation(Enum):
    DUPLICATE = "duplicate"
    SAME_STORY = "same_story"
    UNRELATED = "unrelated"


_BY_CODE = (Relation.DUPLICATE, Relation.SAME_STORY, Relation.UNRELATED)


@dataclass(frozen=True)
class Similarity:
    jaccard: float  # estimated from the signatures
    containment: float  # estimated share of the shorter text's shingles found in the longer
    relation: Relation  # by the estimated Jaccard alone
    check_containment: bool  # not a duplicate by Jaccard, but may be an excerpt: measure exactly

    @property
    def related(self) -> bool:
        """Worth a closer look: a duplicate, the same story, or perhaps an excerpt."""
        return self.relation is not Relation.UNRELATED or self.check_containment


def compare(sig_a: np.ndarray, count_a: int, sig_b: np.ndarray, count_b: int) -> Similarity:
    """One pair (see :func:`compare_many`)."""
    return compare_many(sig_a, count_a, sig_b[np.newaxis], np.array([count_b]))[0]


def compare_many(sig: np.ndarray, count: int, others: np.ndarray, counts: np.ndarray) -> list[Similarity]:
    """Estimate Jaccard from the signatures, containment from it and the set sizes
    (|A∩B| = J(|A|+|B|)/(1+J)), and classify each pair by the thresholds above; vectorised over
    the rows of ``others``, since a lookup compares one text with every candidate at once. The
    containment estimate only picks the pairs worth :func:`containment`: it is too noisy to decide."""
    jaccard = np.count_nonzero(others == sig, axis=1) / NUM_PERM
    counts = counts.astype(np.int64)
    smaller = np.minimum(count, counts)
    estimate = np.zeros(len(counts))
    np.divide(jaccard * (count + counts), (1 + jaccard) * smaller, out=estimate, where=smaller > 0)
    estimate = np.minimum(1.0, estimate)
    duplicate = jaccard >= DUPLICATE_JACCARD
    check = ~duplicate & (estimate >= CONTAINMENT_CHECK) & (smaller >= MIN_CONTAINED_SHINGLES)
    codes = np.where(duplicate, 0, np.where(jaccard >= CLUSTER_JACCARD, 1, 2))
    return [
        Similarity(j, c, _BY_CODE[code], k)
        for j, c, code, k in zip(jaccard.tolist(), estimate.tolist(), codes.tolist(), check.tolist(), strict=True)
    ]


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Exact share of the smaller set of shingle hashes (sorted, distinct) found in the larger."""
    smaller = min(len(a), len(b))
    if not smaller:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / smaller


def is_excerpt(a: np.ndarray, b: np.ndarray) -> bool:
    """True if the shorter of two texts' shingle sets lies, ``DUPLICATE_CONTAINMENT`` or more,
    inside the longer one: one is an excerpt or a trimmed republication of the other."""
    return min(len(a), len(b)) >= MIN_CONTAINED_SHINGLES and containment(a, b) >= DUPLICATE_CONTAINMENT
