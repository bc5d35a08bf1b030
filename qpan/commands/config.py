"""``qpan config init|show``: a starter ``qpan.toml``, and the configuration in effect with its origins.

``show`` answers "which value is qpan using, and why": each key with its value and whether it
came from the built-in default, the file, or the environment. Secrets (passwords and tokens in
the database, Redis and alert URLs, keys named like a token or password) are masked.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import Format, emit, stderr_console

app = typer.Typer(help="Write a starter qpan.toml, or show the configuration in effect.",
                  short_help="Write or show the configuration.", no_args_is_help=True)

_SECRET_KEY = re.compile(r"token|password|secret", re.IGNORECASE)
SERVER_URLS = {"database.url", "crawl.redis_url"}
ENVIRONMENT = {"database.url": "QPAN_DATABASE_URL"}


def mask(key: str, value: Any) -> Any:
    """The value as it may be shown.

    Database and Redis URLs keep everything but the password. Alert URLs keep only their
    scheme: Apprise puts tokens anywhere (``tgram://BOT_TOKEN/CHAT_ID``).
    """
    if isinstance(value, list):
        return [mask(key, item) for item in value]
    if not isinstance(value, str) or not value:
        return value
    if _SECRET_KEY.search(key.rsplit(".", 1)[-1]):
        return "***"
    if key in SERVER_URLS:
        parts = urlsplit(value)
        if parts.password is None:
            return value
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    if key == "alerts.urls":
        return f"{value.split('://', 1)[0]}://***" if "://" in value else "***"
    return value


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "terms":
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _file_data(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    with Path(path).open("rb") as handle:
        return _flatten(tomllib.load(handle))


@app.command("show", short_help="The configuration in effect, and where each value came from.")
def show(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """Each key's value (secrets masked) and its origin: default, file or env.

    Example: qpan -c /etc/qpan/qpan.toml config show
    """
    context: AppContext = ctx.obj
    config = context.config
    in_file = _file_data(config.path)
    effective = _flatten(config.model_dump(mode="json", exclude={"path"}))
    effective["sources"] = [source["name"] for source in effective.get("sources", [])]
    rows = []
    for key, value in effective.items():
        variable = ENVIRONMENT.get(key)
        origin = f"env {variable}" if variable and os.environ.get(variable) else "file" if key in in_file else "default"
        rows.append({"key": key, "value": mask(key, value), "from": origin})
    emit(rows, ["key", "value", "from"], fmt, title=f"configuration from {config.path or 'the built-in defaults'}")


@app.command("init", short_help="Write an annotated starter qpan.toml.")
def init(
    target: Annotated[Path, typer.Argument(metavar="[FILE]", help="Where to write it.")] = Path("qpan.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the annotated starter configuration (every key, defaults commented).

    Example: qpan config init /etc/qpan/qpan.toml
    """
    if target.exists() and not force:
        raise UserError(f"{target} already exists: not overwriting it (--force to replace it)")
    if not target.parent.is_dir():
        raise UserError(f"{target}: directory {target.parent} does not exist")
    target.write_text(files("qpan").joinpath("starter.toml").read_text(encoding="utf-8"), encoding="utf-8")
    stderr_console().print(f"wrote {target}; check it with `qpan -c {target} config show`", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")
