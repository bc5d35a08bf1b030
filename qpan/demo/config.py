"""A qpan.toml for a running LocalWeb: its sites as ``[[sources]]``, nothing shipped.

Both the tests (``write_config``) and ``qpan demo`` need exactly this file, so it is built
here once. The writer handles the value shapes a qpan.toml uses (str, int, float, bool,
lists, tables); the standard library reads TOML but cannot write it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qpan.demo.server import LocalWeb


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _table(header: str, values: dict[str, Any]) -> list[str]:
    lines = [header]
    nested = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, dict):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested:
        lines.append(f"{_key(key)} = {_value(value)}")
    return lines


def config_toml(web: LocalWeb, database_url: str, **sections: Any) -> str:
    """TOML text: ``[database]``, ``[crawl] shipped_sources=false``, one ``[[sources]]`` per site.

    ``sections`` add or override tables by name (``crawl={"since_days": 7}``,
    ``alerts={"urls": [...]}``); ``sources=[...]`` replaces the site list altogether.
    """
    tables: dict[str, dict[str, Any]] = {
        "database": {"url": database_url},
        "crawl": {"shipped_sources": False, "download_delay": 0},
    }
    sources = sections.pop("sources", None)
    for name, values in sections.items():
        tables[name] = {**tables.get(name, {}), **values}
    lines: list[str] = []
    for name, values in tables.items():
        lines += _table(f"[{name}]", values) + [""]
    for source in web.sources() if sources is None else sources:
        lines += _table("[[sources]]", source) + [""]
    return "\n".join(lines)


def write_config(path: Path, web: LocalWeb, database_url: str, **sections: Any) -> Path:
    """Write :func:`config_toml` to ``path`` and return it."""
    path.write_text(config_toml(web, database_url, **sections), encoding="utf-8")
    return path
