"""Fence plugin ``external``: any fence-agents program (``fence_*``) found on PATH.

It speaks the fence-agents stdin protocol: one ``name=value`` line per parameter on stdin
(never in argv, so passwords stay out of process lists), the exit code as the answer
(``status``: 0 on, 2 off, 1 error), and ``action=metadata`` for the XML describing the
agent. Its hook is ``trylast``: a bundled or third-party plugin for the same name wins.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.errors import PluginError, UsageError
from hactl.core.hookspecs import hookimpl

if TYPE_CHECKING:
    from hactl.core.fencemeta import FenceAgentMetadata

#: where Debian and RHEL install fence agents, searched after PATH (often missing sbin)
EXTRA_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
METADATA_TIMEOUT_S = 15
_AGENT_NAME = re.compile(r"fence_[A-Za-z0-9_.+-]+")
_OUTPUT_TAIL = 4000
# exit codes of the protocol for status and monitor
_ON, _OFF = 0, 2


def _search_path() -> str:
    dirs = os.environ.get("PATH", "").split(os.pathsep) + list(EXTRA_DIRS)
    return os.pathsep.join(dict.fromkeys(d for d in dirs if d))


def find_program(agent: str) -> str | None:
    """The path of fence agent ``agent`` (a bare ``fence_*`` name), or None."""
    if not _AGENT_NAME.fullmatch(agent):
        return None
    return shutil.which(agent, path=_search_path())


def installed_agents() -> list[str]:
    """Every ``fence_*`` program on PATH and in the usual sbin directories."""
    found: set[str] = set()
    for directory in _search_path().split(os.pathsep):
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(directory, entry)
            if _AGENT_NAME.fullmatch(entry) and os.access(path, os.X_OK):
                found.add(entry)
    return sorted(found)


class MetadataCache:
    """Metadata of one program on disk, so that listing 80-odd agents does not start 80-odd
    programs every time. An entry is keyed by the program's path, size and modification
    time, so an upgraded agent is asked again. A cache that cannot be written is skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_program(cls, program: str) -> MetadataCache | None:
        try:
            info = os.stat(program)
        except OSError:
            return None
        identity = f"{os.path.realpath(program)}\0{info.st_size}\0{info.st_mtime_ns}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        return cls(metadata_cache_dir() / f"{Path(program).name}-{digest}.xml")

    def read(self) -> str | None:
        try:
            return self.path.read_text()
        except (OSError, UnicodeDecodeError):
            return None

    def write(self, text: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(text)
            temporary.replace(self.path)  # atomic: a reader never sees half an entry
        except OSError:
            pass


def metadata_cache_dir() -> Path:
    """$HACTL_CACHE_DIR, else $XDG_CACHE_HOME/hactl, else ~/.cache/hactl; then fence-metadata."""
    base = os.environ.get("HACTL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hactl"
    )
    return Path(base) / "fence-metadata"


def stdin_text(action: str, params: Mapping[str, str]) -> bytes:
    """The request as the fence-agents protocol wants it on stdin."""
    lines = [f"action={action}"] + [f"{name}={value}" for name, value in params.items()]
    return ("\n".join(lines) + "\n").encode()


class ExternalFenceAgent(FenceAgent):
    """One fence-agents program, run once per action."""

    def __init__(self, name: str, program: str) -> None:
        self.name = name
        self.program = program

    # ------------------------------------------------------------------ metadata

    def metadata(self) -> str:
        return self._metadata_xml

    @cached_property
    def _metadata_xml(self) -> str:
        cache = MetadataCache.for_program(self.program)
        cached = cache.read() if cache else None
        if cached is not None:
            return cached
        text = self._run_metadata()
        if cache:
            cache.write(text)
        return text

    def _run_metadata(self) -> str:
        try:
            done = subprocess.run(
                [self.program],
                input=b"action=metadata\n",
                capture_output=True,
                timeout=METADATA_TIMEOUT_S,
                start_new_session=True,
                env=_child_env(),
            )
        except subprocess.TimeoutExpired:
            raise PluginError(
                f"no metadata within {METADATA_TIMEOUT_S} s", where=self.program
            ) from None
        except OSError as exc:
            raise PluginError(f"cannot run: {exc.strerror}", where=self.program) from None
        text = done.stdout.decode(errors="replace")
        if done.returncode != 0 or "<resource-agent" not in text:
            raise PluginError(
                f"`action=metadata` failed (exit {done.returncode})",
                where=self.program,
                hint="is this a fence-agents program?",
            )
        return text

    @cached_property
    def meta(self) -> FenceAgentMetadata:
        from hactl.core.fencemeta import FenceAgentMetadata

        return FenceAgentMetadata.from_xml(self._metadata_xml, source=self.program)

    def validate(self, params: Mapping[str, str]) -> None:
        self.meta.check(params, where=self.name)

    # ------------------------------------------------------------------ actions

    def request(self, action: str, params: Mapping[str, str], target: str | None) -> dict[str, str]:
        """The parameters sent for one action: the device's own (without the fencer's
        ``pcmk_*``), plus the target as ``nodename`` and as the host argument."""
        sent = {k: v for k, v in params.items() if not k.startswith("pcmk_")}
        if target:
            sent.setdefault("nodename", target)
            host_argument = self.meta.host_argument()
            if host_argument and not {"plug", "port"} & sent.keys():
                sent[host_argument] = target
        return sent

    async def execute(
        self, action: str, params: Mapping[str, str], target: str | None, timeout_ms: int
    ) -> FenceResult:
        import asyncio

        from hactl.core.fencemeta import scrub

        meta = await asyncio.to_thread(lambda: self.meta)  # may run the program once
        if meta.actions and action not in meta.actions:
            raise UsageError(
                f"{self.name} has no action {action!r}",
                hint="its actions: " + ", ".join(self.meta.actions),
            )
        self.validate(params)
        sent = self.request(action, params, target)
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            self.program,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own group, so a timeout ends its children too
            env=_child_env(),
        )
        try:
            out, err = await asyncio.wait_for(
                process.communicate(stdin_text(action, sent)), timeout=timeout_ms / 1000
            )
        except TimeoutError:
            _kill_group(process.pid)
            await process.wait()
            return FenceResult(
                False,
                output=f"{self.name} {action} timed out after {timeout_ms} ms",
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        elapsed = int((time.monotonic() - started) * 1000)
        output = scrub(_tail(out) + _tail(err), params)
        return interpret(
            action, process.returncode or 0, out.decode(errors="replace"), output, elapsed
        )


def interpret(action: str, rc: int, stdout: str, output: str, elapsed_ms: int) -> FenceResult:
    """Map an agent's exit code (and, for ``list``, its output) onto a FenceResult."""
    if action in ("status", "monitor"):
        if rc == _ON:
            return FenceResult(True, "on", output, elapsed_ms)
        if rc == _OFF:
            return FenceResult(True, "off", output, elapsed_ms)
        return FenceResult(False, None, output, elapsed_ms)
    if action == "list":
        targets = tuple(line.split(",")[0].strip() for line in stdout.splitlines() if line.strip())
        return FenceResult(rc == 0, None, output, elapsed_ms, targets if rc == 0 else ())
    power = {"on": "on", "off": "off"}.get(action) if rc == 0 else None
    return FenceResult(rc == 0, power, output, elapsed_ms)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["PYTHONWARNINGS"] = "ignore"  # fence-agents' own deprecation warnings are noise
    return env


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the group this agent leads (start_new_session)
    except ProcessLookupError:
        pass


def _tail(data: bytes) -> str:
    return data.decode(errors="replace")[-_OUTPUT_TAIL:]


@hookimpl(trylast=True)
def hactl_fence_agent(agent: str) -> FenceAgent | None:
    program = find_program(agent)
    return ExternalFenceAgent(agent, program) if program else None


@hookimpl
def hactl_list_fence_agents() -> list[str]:
    return installed_agents()
