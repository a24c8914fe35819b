"""`cluster cib`, `cluster cib-push` and `cluster verify` on a CIB handle."""

from __future__ import annotations

import copy
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from hactl.core.commands import cibtools as ct
from hactl.core.commands.cibtools import Element
from hactl.core.commands.session import CibHandle, parse_cib, serialize
from hactl.core.errors import HactlError, Problem, ValidationError


def _versions(root: Element) -> tuple[int, int]:
    def number(name: str) -> int:
        try:
            return int(root.get(name, "0"))
        except ValueError:
            return 0

    return number("admin_epoch"), number("epoch")


def _canonical(element: Element | None) -> bytes:
    if element is None:
        return b""
    return etree.tostring(element, method="c14n")


def read_cib_file(path: Path) -> Element:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HactlError(
            f"cannot read: {exc.strerror}", where=str(path), hint="check the path"
        ) from None
    return parse_cib(data, where=str(path))


def push(
    handle: CibHandle, new: Element, *, config_only: bool, original: Element | None, source: str
) -> None:
    """Replace the CIB (or only its configuration) with ``new``. With ``original`` (the
    CIB the edit started from), refuse when the current configuration is no longer it:
    someone changed the CIB meanwhile and pushing would undo their change."""
    current = handle.get()
    if original is not None:
        if _canonical(current.find("configuration")) != _canonical(original.find("configuration")):
            raise HactlError(
                "the CIB changed since the original was taken: pushing would undo those changes",
                where=source,
                hint="take a fresh copy with `hactl cluster cib`, redo the edit, push again",
            )
        config_only = True
    elif not config_only and _versions(new) < _versions(current):
        raise HactlError(
            f"the CIB to push (admin_epoch, epoch) = {_versions(new)} is older than "
            f"the current {_versions(current)}",
            where=source,
            hint="push with diff-against=ORIGINAL, or push the configuration only with --config",
        )
    if config_only:
        result = copy.deepcopy(current)
        old = result.find("configuration")
        new_config = copy.deepcopy(new.find("configuration"))
        assert old is not None and new_config is not None
        result.replace(old, new_config)
    else:
        result = copy.deepcopy(new)
        admin, epoch = max(_versions(new), _versions(current))
        result.set("admin_epoch", str(admin))
        result.set("epoch", str(epoch))
    handle.push(result)


def dangling_references(root: Element) -> list[Problem]:
    """Constraints or tags naming something the configuration does not have."""
    problems: list[Problem] = []
    known = set(ct.resource_ids(root)) | {
        str(t.get("id")) for t in root.iterfind("configuration/resources//template")
    }
    known |= {str(t.get("id")) for t in root.iterfind("configuration/tags/tag")}
    for element in root.iterfind("configuration/constraints/*"):
        names = [element.get(a) for a in ("rsc", "with-rsc", "first", "then")]
        names += [str(r.get("id")) for r in element.iter("resource_ref")]
        for name in names:
            if name is not None and name not in known:
                problems.append(
                    Problem(
                        f"constraint names resource {name!r}, which does not exist",
                        where=f"constraint {element.get('id')}",
                        hint=f"remove it: hactl constraint remove {element.get('id')}",
                    )
                )
    return problems


def verify(root: Element) -> list[str]:
    """Pacemaker's own checks (the real crm_verify, which must be installed) plus hactl's;
    returns the warnings, raises ValidationError listing the errors."""
    problems = dangling_references(root)
    tool = shutil.which("crm_verify") or (
        "/usr/sbin/crm_verify" if Path("/usr/sbin/crm_verify").exists() else None
    )
    if tool is None:
        raise HactlError(
            "crm_verify is not installed, so Pacemaker's checks cannot run",
            hint="install pacemaker-cli-utils",
        )
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hactl-verify-") as directory:
        path = Path(directory) / "cib.xml"
        path.write_bytes(serialize(root))
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "CIB_shadow_dir": directory}
        result = subprocess.run(
            [tool, "-x", str(path), "-V"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    for line in (result.stdout + result.stderr).splitlines():
        text = line.strip()
        if not text or text.startswith("crm_verify:") or text.startswith("-V may provide"):
            continue
        cleaned = text.split(": ", 1)[1] if text.startswith("(") and ": " in text else text
        if "error:" in cleaned:
            problems.append(Problem(cleaned.split("error:", 1)[1].strip(), where="crm_verify"))
        elif "warning:" in cleaned:
            warnings.append(cleaned.split("warning:", 1)[1].strip())
    if result.returncode != 0 and not any(p.where == "crm_verify" for p in problems):
        problems.append(Problem(f"crm_verify exited {result.returncode}", where="crm_verify"))
    if problems:
        raise ValidationError(problems, subject="CIB")
    return warnings
