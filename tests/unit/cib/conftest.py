"""Fixtures of the CIB tests: small real CIBs, and the real Pacemaker tools as oracles."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.cib.document import CibDocument

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


# -- seeded random edits: what a configuration tool does to a CIB ----------------------------


def _mutate(doc: CibDocument, rng: random.Random, edits: int) -> CibDocument:
    """A copy of ``doc`` with random creations, deletions, attribute changes and moves."""
    new = doc.copy()
    for step in range(edits):
        elements = [e for e in new.root.iter() if isinstance(e.tag, str) and e is not new.root]
        target = rng.choice(elements)
        parent = target.getparent()
        assert parent is not None
        action = rng.choice(["create", "delete", "set", "unset", "move"])
        if action == "create":
            created = etree.Element(
                "nvpair", id=f"new-{step}-{rng.randrange(10**6)}", name="x", value=str(step)
            )
            target.insert(rng.randrange(len(target) + 1), created)
        elif action == "delete" and parent is not new.root:
            parent.remove(target)
        elif action == "set":
            target.set(
                rng.choice(["description", "value", "score", "id"])
                if target.get("id") is None
                else rng.choice(["description", "value", "score"]),
                f"v{step}",
            )
        elif action == "unset":
            names = [n for n in target.attrib if n != "id"]
            if names:
                del target.attrib[rng.choice(names)]
        elif action == "move" and len(parent) > 1:
            parent.remove(target)
            parent.insert(rng.randrange(len(parent) + 1), target)
    return new


@pytest.fixture
def mutate() -> Callable[[CibDocument, random.Random, int], CibDocument]:
    """``mutate(doc, rng, edits)``: a copy of doc with seeded random edits."""
    return _mutate
