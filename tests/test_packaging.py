"""The wheel installs one package, ``qpan``, and carries every file of the folders mapped into it.

PyPI has packages named ``crawler``, ``pipelines``, ``scheduler`` and ``seeds``: a top-level
package of any of those names would silently overwrite (or be overwritten by) theirs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree, so that no stale build/ folder left by an earlier build fills the gaps.
    tree = tmp_path_factory.mktemp("tree") / "qpan"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(tree)],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("qpan-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_has_no_top_level_package_but_qpan(wheel_names: set[str]) -> None:
    tops = {name.split("/", 1)[0] for name in wheel_names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"qpan"}


def test_every_file_of_the_mapped_folders_is_in_the_wheel(wheel_names: set[str]) -> None:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    expected = set()
    for package, folder in mapping.items():
        if "." not in package and package != "qpan":
            continue
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".md"}:
                expected.add("/".join([*package.split("."), *path.relative_to(ROOT / folder).parts]))
    missing = sorted(expected - wheel_names)
    assert not missing, f"not in the wheel (add the folder to [tool.setuptools] packages): {missing[:10]}"
