"""fence_acme: "power" is a line in a state file (on/off), as ACME's lab PDUs expose it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.hookspecs import hookimpl

METADATA = """<?xml version="1.0"?>
<resource-agent name="fence_acme" shortdesc="ACME lab power file">
  <parameters>
    <parameter name="state_dir" required="1"><content type="string"/></parameter>
  </parameters>
  <actions><action name="on"/><action name="off"/><action name="reboot"/>
  <action name="status"/><action name="monitor"/><action name="metadata"/></actions>
</resource-agent>
"""


class AcmeFence(FenceAgent):
    name = "fence_acme"

    def metadata(self) -> str:
        return METADATA

    async def execute(
        self, action: str, params: Mapping[str, str], target: str | None, timeout_ms: int
    ) -> FenceResult:
        started = time.monotonic()
        state = Path(params["state_dir"]) / f"{target}.power"
        if action in ("on", "off"):
            state.write_text(action)
        elif action == "reboot":
            state.write_text("on")
        power = state.read_text() if state.exists() else "on"
        elapsed = int((time.monotonic() - started) * 1000)
        return FenceResult(succeeded=True, power_state=power, duration_ms=elapsed)


@hookimpl
def hactl_fence_agent(agent: str) -> FenceAgent | None:
    return AcmeFence() if agent == "fence_acme" else None


@hookimpl
def hactl_list_fence_agents() -> list[str]:
    return ["fence_acme"]
