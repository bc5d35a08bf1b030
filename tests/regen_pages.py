"""Rewrite the expected JSON of saved pages after an intended extraction change.

    python tests/regen_pages.py              # every page
    python tests/regen_pages.py vnexpress    # pages whose id contains "vnexpress"

Only ``expected`` is rewritten; ``input`` and the hand-written ``gold_text`` stay. Read
the diff (`git diff tests/pages`) before committing: this is where regressions hide.
"""

from __future__ import annotations

import json
import sys

from support.pages import extract_case, observed, page_cases


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    changed = 0
    for case in page_cases():
        if wanted and not any(word in case.id for word in wanted):
            continue
        spec = case.spec()
        new = observed(extract_case(case))
        if spec.get("expected") == new:
            continue
        spec["expected"] = new
        case.json_path.parent.mkdir(parents=True, exist_ok=True)
        case.json_path.write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        changed += 1
        print(f"rewrote {case.json_path}")
    print(f"{changed} expected file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
