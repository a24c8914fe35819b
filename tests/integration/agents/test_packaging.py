"""The bundled agents travel with the package: a wheel of hactl, installed on its own,
runs ocf:hactl:* on a machine without any other OCF agents (OCF_ROOT pointing nowhere)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
BUNDLED = ("Dummy", "Stateful", "ping", "HttpService")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # built from a copy: setuptools writes build/ next to the sources it builds
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("core", "plugins"):
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        pytest.fail(f"building the wheel failed: {built.stderr.strip()[-500:]}")
    return next(out.glob("hactl-*.whl"))


def test_wheel_holds_the_agents_executable(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    for agent in BUNDLED:
        mode = modes[f"hactl/plugins/agents/resource.d/hactl/{agent}"]
        assert mode & 0o111, f"{agent} is not executable in the wheel"
    assert "hactl/plugins/agents/lib/hactl/ocfagent.py" in modes


def test_installed_wheel_runs_bundled_agents_alone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "rsctmp").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "OCF_ROOT": str(tmp_path / "no-ocf-root"),  # no resource-agents, no pacemaker agents
        "HA_RSCTMP": str(tmp_path / "rsctmp"),
    }
    env.pop("HACTL_OCF_RA_PATH", None)
    # one interpreter: where the plugin comes from, the providers it sees, and the check
    program = (
        "import contextlib, io, json, sys\n"
        "import hactl.plugins.agents.ocf as ocf\n"
        "from hactl.core.cli.main import run\n"
        "def hactl(*args):\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "        run(list(args))\n"
        "    return out.getvalue()\n"
        "print(json.dumps({'module': ocf.__file__,\n"
        "    'providers': hactl('resource', 'providers').split(),\n"
        "    'check': json.loads(\n"
        "        hactl('agent', 'check', 'ocf:hactl:Dummy', '--output', 'json'))}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["module"].startswith(str(site)), seen["module"]
    assert seen["providers"] == ["hactl"]
    assert seen["check"]["failed"] == 0, seen["check"]
    assert len(seen["check"]["checks"]) == 16
