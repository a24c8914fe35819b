"""What the bundled fence agents share: metadata built in Python, the checks and timing
around every action, and the standard parameters fence-agents programs all accept."""

from __future__ import annotations

import functools
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.errors import UsageError

if TYPE_CHECKING:
    import asyncio

# hactl.core.fencemeta (pydantic, lxml) is imported where it is used: `hactl plugins list`
# imports every fence plugin and should not pay for building metadata models.
if TYPE_CHECKING:
    from hactl.core.fencemeta import FenceAgentMetadata, FenceParameter


def param(name: str, shortdesc: str, kind: str = "string", **extra: object) -> FenceParameter:
    """A parameter declaration, briefly."""
    from hactl.core.fencemeta import FenceParameter

    return FenceParameter(name=name, type=kind, shortdesc=shortdesc, **extra)  # type: ignore[arg-type]


def action_param() -> FenceParameter:
    return param("action", "Fencing action", default="reboot", required=True)


def target_params() -> tuple[FenceParameter, ...]:
    """``plug`` and its deprecated alias ``port``: what the fencer sets to the target."""
    return (
        param(
            "plug",
            "Physical plug number on device, UUID or identification of machine",
            obsoletes="port",
        ),
        param(
            "port",
            "Physical plug number on device, UUID or identification of machine",
            deprecated=True,
        ),
    )


@functools.cache
def _standard_params() -> tuple[FenceParameter, ...]:
    """Accepted by every fence-agents program; hactl honours delay and the power timings,
    and accepts the others so that an existing device definition loads unchanged."""
    return (
        param("delay", "Wait X seconds before fencing is started", "second", default="0"),
        param(
            "power_timeout", "Test X seconds for status change after ON/OFF", "second", default="20"
        ),
        param("power_wait", "Wait X seconds after issuing ON/OFF", "second", default="0"),
        param("login_timeout", "Wait X seconds for cmd prompt after login", "second", default="5"),
        param(
            "shell_timeout",
            "Wait X seconds for cmd prompt after issuing command",
            "second",
            default="3",
        ),
        param(
            "stonith_status_sleep",
            "Sleep X seconds between status calls during a STONITH action",
            "second",
            default="1",
        ),
        param("retry_on", "Count of attempts to retry power on", "integer", default="1"),
        param("verbose", "Verbose mode", "boolean"),
        param("quiet", "Disable logging to stderr", "boolean"),
        param("debug_file", "Write debug information to given file", obsoletes="debug"),
        param("debug", "Write debug information to given file", deprecated=True),
        param(
            "plug_separator",
            "Separator for plug parameter when specifying more than 1 plug",
            default=",",
        ),
    )


def standard_params(**defaults: str) -> tuple[FenceParameter, ...]:
    """The standard parameters, with the defaults an agent sets differently
    (``power_wait="2"``)."""
    return tuple(
        p.model_copy(update={"default": defaults[p.name]}) if p.name in defaults else p
        for p in _standard_params()
    )


class BuiltinFenceAgent(FenceAgent):
    """A fence agent implemented in Python: its metadata is a model, and every action is
    checked, delayed, timed and deadline-bound here, so plugins only implement ``run``."""

    name: str
    meta: FenceAgentMetadata

    def metadata(self) -> str:
        return self.meta.to_xml()

    def validate(self, params: Mapping[str, str]) -> None:
        self.meta.check(params, where=self.name)

    def supported_actions(self) -> tuple[str, ...]:
        return tuple(a for a in self.meta.actions if a not in ("metadata", "validate-all"))

    async def execute(
        self, action: str, params: Mapping[str, str], target: str | None, timeout_ms: int
    ) -> FenceResult:
        import asyncio

        from hactl.core.fencemeta import scrub

        if action not in self.supported_actions():
            raise UsageError(
                f"{self.name} has no action {action!r}",
                hint="its actions: " + ", ".join(self.supported_actions()),
            )
        self.validate(params)
        options = self.meta.canonical(params)
        started = time.monotonic()
        try:
            if action in ("on", "off", "reboot"):
                await asyncio.sleep(float(options.get("delay", "0")))
            result = await asyncio.wait_for(
                self.run(action, options, target), timeout=timeout_ms / 1000
            )
        except TimeoutError:
            result = FenceResult(False, output=f"{action} timed out after {timeout_ms} ms")
        except FenceDeviceError as exc:
            result = FenceResult(False, output=str(exc))
        elapsed = int((time.monotonic() - started) * 1000)
        return FenceResult(
            succeeded=result.succeeded,
            power_state=result.power_state,
            output=scrub(result.output, params),
            duration_ms=elapsed,
            targets=result.targets,
        )

    @abstractmethod
    async def run(self, action: str, options: Mapping[str, str], target: str | None) -> FenceResult:
        """Carry out ``action`` with checked, canonical ``options``. Raise FenceDeviceError
        when the device cannot be reached or refuses."""


T = TypeVar("T")


async def in_daemon_thread(function: Callable[..., T], *args: object) -> T:
    """Run a blocking device call in a thread of its own. Unlike asyncio.to_thread, a call
    that hangs past the action's deadline (an unreachable BMC retrying its login) is left
    behind as a daemon thread instead of holding up the event loop's shutdown."""
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def hand_over(outcome: Callable[[], None]) -> None:
        try:
            loop.call_soon_threadsafe(settle, outcome)
        except RuntimeError:
            pass  # the loop is closed: the action ended at its deadline, nobody waits

    def work() -> None:
        try:
            value = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
            hand_over(lambda: future.set_exception(error))
        else:
            hand_over(lambda: future.set_result(value))

    threading.Thread(target=work, name=f"fence-{function.__name__}", daemon=True).start()
    return await future


class FenceDeviceError(Exception):
    """The device could not be reached or refused: the action failed, for this reason."""


def wanted_target(options: Mapping[str, str], target: str | None, what: str) -> str:
    """The plug named in the options, else the target node; a clear error when neither."""
    chosen = options.get("plug") or target
    if not chosen:
        raise UsageError(f"no {what} given", hint=f"set plug=<{what}> or give a target node")
    return chosen
