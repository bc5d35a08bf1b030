"""Layers point down: a module imports only from its own layer or the layers below it.

core (config, errors, time zone, stats vocabulary, the item, the page workers, GC settings) < storage
< crawler | pipelines (beside each other, neither imports the other) < scheduler < the CLI, demo and
web view on top.

Two modules of ``pipelines/`` rank with the core: the text normalisation and the fingerprint
arithmetic of dedup. DESIGN.md places them in ``pipelines/``, and they are pure functions that
import nothing of qpan's but each other, read by the extractor (link and date text), by the
search index and by the store's in-batch duplicate check alike.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = {
    "qpan", "qpan.config", "qpan.defaults", "qpan.errors", "qpan.timezone", "qpan.stats", "qpan.items",
    "qpan.workers",  # the page workers, which the spider (extraction) and the prepare stage both use
    "qpan.garbage",  # the collector settings of a crawl process and of its page workers
}
PURE = {"qpan.pipelines.normalize", "qpan.pipelines.dedup"}
RANKS = {"core": 0, "storage": 1, "crawler": 2, "pipelines": 2, "scheduler": 3, "top": 4}


def layer(module: str) -> str:
    if module in CORE or module in PURE:
        return "core"
    for name in ("storage", "crawler", "pipelines", "scheduler"):
        if module == f"qpan.{name}" or module.startswith(f"qpan.{name}."):
            return name
    return "top"


def modules() -> dict[str, Path]:
    """Every module of the installed package, named as it imports, from the package-dir mapping."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    found = {}
    for package, folder in mapping.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if package == "qpan" and any(name.startswith(f"qpan.{other}") for other in ("crawler", "pipelines")):
                continue
            found.setdefault(name, path)
    return found


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name == "qpan" or name.startswith("qpan.")}


def violations() -> list[str]:
    found = []
    for module, path in sorted(modules().items()):
        own = layer(module)
        for target in sorted(imported(path)):
            other = layer(target)
            upward = RANKS[other] > RANKS[own]
            sideways = own != other and RANKS[other] == RANKS[own] and own != "top"
            if upward or sideways:
                found.append(f"{module} ({own}) imports {target} ({other})")
    return found


def test_every_module_is_found_under_its_installed_name() -> None:
    names = modules()
    assert {"qpan.cli", "qpan.storage.db", "qpan.crawler.spiders.news", "qpan.pipelines.stages.store"} <= set(names)
    assert "qpan.scheduler.service" in names and "qpan.seeds" in names


def test_no_module_imports_a_higher_layer_or_a_sibling_layer() -> None:
    assert violations() == []
