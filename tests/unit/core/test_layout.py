"""Guards of the package layout: core never imports the bundled plugins, every package
directory is shipped, and the import root is the real hactl.plugins package."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[3]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def test_core_never_imports_the_plugins() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for path in sorted((ROOT / "core").rglob("*.py"))
        for line, name in _imported_modules(path)
        if name == "hactl.plugins"
        or name.startswith("hactl.plugins.")
        or name == "plugins"
        or name.startswith("plugins.")
    ]
    assert offences == [], "core/ must not import hactl.plugins:\n" + "\n".join(offences)


def test_the_layering_check_sees_an_offence(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("def f():\n    from hactl.plugins.quorum import votequorum\n")
    assert (2, "hactl.plugins.quorum") in _imported_modules(sample)


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        "hactl." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("core", "plugins")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - on_disk == set(), "these listed packages have no __init__.py"


def test_hactl_plugins_is_the_real_package() -> None:
    import hactl.plugins

    assert hactl.plugins.__file__ is not None
