"""reentry is installed as an application: its top-level folders are its packages, each named
in ``pyproject.toml``. Names as plain as ``core`` or ``api`` are safe only while no other
installed distribution brings a package of the same name, and an explicit list is safe
only while nobody forgets to add to it."""

from __future__ import annotations

import glob
import tomllib
from importlib.metadata import metadata, packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
TOP_LEVEL = sorted({package.split(".")[0] for package in PACKAGES})
# Folders with an __init__.py that are not part of the application.
NOT_SHIPPED = {"tests"}


def folder(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def package_folders() -> set[str]:
    """Every top-level folder with an ``__init__.py`` (but the tests), and every folder below
    one that holds Python files (the migrations' among them: alembic reads them as files)."""
    found = set()
    for top in ROOT.iterdir():
        if top.is_dir() and (top / "__init__.py").is_file() and top.name not in NOT_SHIPPED:
            for module in top.rglob("*.py"):
                found.add(".".join(module.parent.relative_to(ROOT).parts))
    return found


def test_no_other_installed_distribution_provides_reentrys_top_level_names():
    providers = packages_distributions()
    clashes = {name: sorted(set(providers.get(name, []))) for name in TOP_LEVEL}
    assert clashes == {name: ["reentry"] for name in TOP_LEVEL}, (
        "each top-level name must come from reentry alone (none: reentry is not installed, `make install`)"
    )


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(PACKAGES)
    assert package_folders() - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - package_folders() == set(), "these are listed in pyproject.toml but are no package folder"


def test_every_data_file_in_a_package_folder_is_package_data():
    declared = {
        Path(path)
        for package, patterns in SETUPTOOLS["package-data"].items()
        for pattern in patterns
        for path in glob.glob(str(folder(package) / pattern), recursive=True)
    }
    data = {
        path
        for package in PACKAGES
        for path in folder(package).iterdir()
        if path.is_file() and path.suffix not in (".py", ".pyc") and not path.name.startswith(".")
    }
    assert data, "the policy file and the migration template are package data"
    assert data - declared == set(), "add these to [tool.setuptools.package-data] in pyproject.toml"


def test_the_distribution_is_refused_by_package_indexes():
    assert "Private :: Do Not Upload" in (metadata("reentry").get_all("Classifier") or [])
