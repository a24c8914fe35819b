"""`cluster cib-push` and `cluster verify` on a CIB handle (documents, patches and
validation are hactl.core.cib's)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from hactl.core.cib.document import CibDocument
from hactl.core.cib.patch import apply_patch, diff, is_empty_patch
from hactl.core.cib.validate import validate
from hactl.core.commands.session import CibHandle
from hactl.core.errors import HactlError, Problem, ValidationError


def _versions(doc: CibDocument) -> tuple[int, int]:
    admin_epoch, epoch, _ = doc.versions()
    return admin_epoch, epoch


def push(
    handle: CibHandle, new: CibDocument, *, config_only: bool, original: CibDocument | None
) -> bool:
    """Replace the CIB (or only its configuration) with ``new``. With ``original`` (the CIB
    the edit started from), push only the changes from it to ``new``, as a patch that
    applies only to the CIB ``original`` was: if the CIB changed since, it is refused
    (pushing would undo someone's change). Returns False when there was nothing to push."""
    current = handle.get()
    if original is not None:
        patch = diff(original, new)
        if is_empty_patch(patch):
            return False
        result = current.copy()
        apply_patch(result, patch)  # raises, naming both versions, when the CIB moved on
        # the patch carries the edited file's versions; the handle bumps from the current
        result.root.set("epoch", current.root.get("epoch", "0"))
        handle.push(result)
        return True
    if config_only:
        result = current.copy()
        old_config, new_config = result.configuration, new.copy().configuration
        result.root.replace(old_config, new_config)
        handle.push(result)
        return True
    if _versions(new) < _versions(current):
        raise HactlError(
            f"the CIB to push (admin_epoch, epoch) = {_versions(new)} is older than "
            f"the current {_versions(current)}",
            where=new.source,
            hint="push with diff-against=ORIGINAL, or only the configuration with --config",
        )
    result = new.copy()
    admin_epoch, epoch = max(_versions(new), _versions(current))
    result.root.set("admin_epoch", str(admin_epoch))
    result.root.set("epoch", str(epoch))
    handle.push(result)
    return True


def _crm_verify(doc: CibDocument) -> tuple[list[Problem], list[str]]:
    """Pacemaker's own checks, by the real crm_verify when it is installed."""
    tool = shutil.which("crm_verify") or next(
        (p for p in ("/usr/sbin/crm_verify", "/sbin/crm_verify") if Path(p).exists()), None
    )
    if tool is None:
        return [], ["crm_verify is not installed: only hactl's own checks ran"]
    problems: list[Problem] = []
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hactl-verify-") as directory:
        path = Path(directory) / "cib.xml"
        path.write_bytes(doc.serialize())
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "CIB_shadow_dir": directory}
        result = subprocess.run(
            [tool, "-x", str(path), "-VV"],  # -VV: the warnings' text, not only their count
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    for line in (result.stdout + result.stderr).splitlines():
        text = line.strip()
        # "(function) \terror: message" -> message
        _, _, message = text.partition(")") if text.startswith("(") else ("", "", text)
        message = message.strip()
        if message.startswith("error:"):
            problems.append(Problem(message.removeprefix("error:").strip(), where="crm_verify"))
        elif message.startswith("warning:"):
            warnings.append(message.removeprefix("warning:").strip())
    if result.returncode != 0 and not problems:
        # crm_verify fails on warnings alone ("config may not be valid"), and so does pcs
        problems = [Problem(w, where="crm_verify") for w in warnings] or [
            Problem(f"crm_verify exited {result.returncode}", where="crm_verify")
        ]
        warnings = []
    return problems, warnings


def verify(doc: CibDocument) -> list[str]:
    """hactl's checks (hactl.core.cib.validate) and Pacemaker's (crm_verify); returns the
    warnings, raises ValidationError listing every error."""
    problems = list(validate(doc))
    pacemaker_problems, warnings = _crm_verify(doc)
    problems += pacemaker_problems
    if problems:
        raise ValidationError(problems, subject="CIB")
    return warnings
