"""What hactl's bundled OCF agents share: return codes, parameters, tools, dispatch.

Standard library only: the agents run with whatever ``python3`` is on PATH, which need
not be the one hactl is installed into.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

SUCCESS = 0
ERR_GENERIC = 1
ERR_ARGS = 2
ERR_UNIMPLEMENTED = 3
ERR_PERM = 4
ERR_INSTALLED = 5
ERR_CONFIGURED = 6
NOT_RUNNING = 7
RUNNING_PROMOTED = 8
FAILED_PROMOTED = 9


def param(name: str, default: str = "") -> str:
    """The instance parameter ``name`` (``OCF_RESKEY_<name>``), or ``default``."""
    value = os.environ.get(f"OCF_RESKEY_{name}", "")
    return value if value != "" else default


def instance() -> str:
    return os.environ.get("OCF_RESOURCE_INSTANCE", "default")


def state_dir() -> str:
    """Where agents keep state that must vanish at reboot (HA_RSCTMP, as resource-agents)."""
    return os.environ.get("HA_RSCTMP") or "/run/resource-agents"


def log(message: str) -> None:
    print(f"{os.path.basename(sys.argv[0])}[{os.getpid()}]: {message}", file=sys.stderr)


def exit_reason(message: str) -> None:
    """Tell the cluster why the action failed (shown as the failure's reason)."""
    prefix = os.environ.get("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:")
    print(f"{prefix}{message}", file=sys.stderr)


def find_tool(name: str) -> str | None:
    """A cluster tool (crm_attribute, attrd_updater): HA_SBIN_DIR first, then PATH."""
    sbin = os.environ.get("HA_SBIN_DIR")
    if sbin and os.access(os.path.join(sbin, name), os.X_OK):
        return os.path.join(sbin, name)
    return shutil.which(name)


def run_tool(name: str, args: Sequence[str]) -> bool:
    """Run a cluster tool; a failure is logged, not fatal (the agent works outside a
    cluster too, e.g. under `hactl agent check`)."""
    tool = find_tool(name)
    if tool is None:
        log(f"{name} not found (HA_SBIN_DIR or PATH); not updating the cluster")
        return False
    try:
        done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"{name} failed: {exc}")
        return False
    if done.returncode != 0:
        log(f"{name} {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return False
    return True


def write_file(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return None


def remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def main(actions: dict[str, Callable[[], int]], metadata: str) -> None:
    """Run the action named by the first argument and exit with its code."""
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "meta-data":
        print(metadata.strip())
        sys.exit(SUCCESS)
    if action in ("usage", "help", ""):
        print(f"usage: {os.path.basename(sys.argv[0])} {{{'|'.join(['meta-data', *actions])}}}")
        sys.exit(SUCCESS if action else ERR_ARGS)
    handler = actions.get(action)
    if handler is None:
        exit_reason(f"action {action!r} is not implemented")
        sys.exit(ERR_UNIMPLEMENTED)
    sys.exit(handler())
