"""The labelled relevance set in tests/data/relevance/ (see labels.toml there), loaded once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from qpan.pipelines.cleaning import clean_text

ROOT = Path(__file__).resolve().parents[2]
SET_DIR = ROOT / "tests" / "data" / "relevance"
SEEDS_DIR = ROOT / "seeds"


@dataclass(frozen=True)
class Labelled:
    name: str
    title: str
    text: str
    relevant: bool
    note: str


def load_set() -> list[Labelled]:
    """Seeds take their title from seeds/manifest.toml; set files have the title on line one."""
    labels = tomllib.loads((SET_DIR / "labels.toml").read_text(encoding="utf-8"))["article"]
    manifest = tomllib.loads((SEEDS_DIR / "manifest.toml").read_text(encoding="utf-8"))
    seed_titles = {seed["file"]: seed.get("title", "") for seed in manifest["seed"]}
    items = []
    for entry in labels:
        if "seed" in entry:
            name, title = entry["seed"], seed_titles[entry["seed"]]
            body = (SEEDS_DIR / name).read_text(encoding="utf-8")
        else:
            name = entry["file"]
            title, _, body = (SET_DIR / name).read_text(encoding="utf-8").partition("\n")
        items.append(Labelled(name, title.strip(), clean_text(body), bool(entry["relevant"]), entry["note"]))
    return items
