"""Saved pages (Fundus style): every field extraction produces must match the reviewed JSON.

When a change is intended, run ``python -m tests.regen_pages`` and review the diff.
The hand-written ``gold_text`` keeps the reviewed text honest: the extracted text must
stay close to it, so a regen cannot quietly bless a broken extractor.
"""

from __future__ import annotations

import pytest

from support.pages import PageCase, extract_case, observed, page_cases, token_f1

CASES = page_cases()
MIN_GOLD_F1 = 0.95


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_page_matches_expected(case: PageCase) -> None:
    spec = case.spec()
    got = observed(extract_case(case))
    if "expected" not in spec:
        # a real page nobody has reviewed yet: hold it to the invariants only
        assert got["title"], "no title"
        assert len(got["text"]) >= 200, "no article text"
        return
    expected = spec["expected"]
    for field in expected:
        assert got[field] == expected[field], f"{case.id}: {field} changed"


@pytest.mark.parametrize(
    "case", [c for c in CASES if "gold_text" in c.spec()], ids=[c.id for c in CASES if "gold_text" in c.spec()]
)
def test_page_text_is_close_to_gold(case: PageCase) -> None:
    text = observed(extract_case(case))["text"]
    assert token_f1(text, case.spec()["gold_text"]) >= MIN_GOLD_F1


def test_every_page_shape_the_issue_names_is_covered() -> None:
    methods = {case.id: case.spec()["expected"]["methods"] for case in CASES if "expected" in case.spec()}
    used = {(field, method) for per_page in methods.values() for field, method in per_page.items()}
    for wanted in [
        ("published", "jsonld"),
        ("published", "opengraph"),
        ("published", "meta"),
        ("published", "time"),
        ("published", "dateline"),
        ("canonical_url", "link"),
        ("canonical_url", "opengraph"),
    ]:
        assert wanted in used, wanted


def test_legacy_encodings_come_out_as_vietnamese() -> None:
    by_id = {case.id: case for case in CASES}
    for case_id in ("bienphong/tcvn3", "congan/windows1258", "qdnd/wrong_charset", "baohaugiang/vni_archive"):
        got = observed(extract_case(by_id[case_id]))
        assert "Công an" in got["title"] or "Công an" in got["text"], case_id
        assert not any(mark in got["text"] for mark in ("Ã", "Â»", "«", "®", "Þ", "\ufffd")), case_id
