"""Fixtures of the CIB tests: small real CIBs, and the real Pacemaker tools as oracles."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS = Path("/work/shared/conformance/scheduler/cases/xml")


#: A small CIB with fencing disabled (so crm_verify has nothing to say about it), two
#: nodes, resources and constraints of every kind, and a status section.
SAMPLE = Path(__file__).parent / "data" / "sample-cib.xml"


@pytest.fixture
def sample_text() -> str:
    return SAMPLE.read_text()


@pytest.fixture
def sample_cib(tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    path.write_text(SAMPLE.read_text())
    return path


@pytest.fixture
def corpus() -> list[Path]:
    files = sorted(CORPUS.glob("*.xml"))
    if not files:
        pytest.skip(f"the scheduler conformance corpus is not at {CORPUS}")
    return files


@pytest.fixture
def crm_verify(require_tool: Callable[[str], str]) -> Callable[[Path], tuple[int, list[str]]]:
    """Run the real ``crm_verify -x FILE -V``: (exit code, its defects, see below)."""
    tool = require_tool("crm_verify")

    def run(path: Path) -> tuple[int, list[str]]:
        done = subprocess.run(
            [tool, "-x", str(path), "-V"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "LC_ALL": "C"},
        )
        return done.returncode, crm_verify_defects(done.stdout + done.stderr)

    return run


#: crm_verify's refusal of any CIB that enables fencing without a fencing device: advice
#: about the cluster, not a defect of the document (it flags `cibadmin --empty` too).
NO_FENCING_DEVICE = "no STONITH resources have been defined"


def crm_verify_defects(output: str) -> list[str]:
    """crm_verify's error lines other than the no-fencing-device advice."""
    return [
        line
        for line in output.splitlines()
        if "error" in line.lower()
        and NO_FENCING_DEVICE not in line
        and "disable STONITH" not in line
        and "shared data need STONITH" not in line
        and "Errors found during check" not in line
    ]
