"""The fencer's decisions: which device fences which node, levels, reboots across several
devices, retries and delays. Devices here are recording fence agents registered for the
test (they stand in for power switches this machine does not have); one test runs the
real fence_dummy program of fence-agents through the `external` plugin."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import build_model
from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.fencer.fencer import Fencer, FenceRequest
from hactl.core.fencer.topology import FencingConfigError, devices_of, levels_for
from hactl.core.plugins import PluginHost

METADATA = """<resource-agent name="{name}"><parameters>
<parameter name="plug"><content type="string"/></parameter>
<parameter name="fail_times"><content type="string"/></parameter>
</parameters><actions><action name="on"/><action name="off"/><action name="reboot"/>
<action name="status"/>{extra}</actions></resource-agent>"""


class Switch(FenceAgent):
    """A power switch that records every call; fails its first `fail_times` calls."""

    calls: list[tuple[str, str, str | None, str]] = []

    def __init__(self, name: str, can_list: tuple[str, ...] | None = None) -> None:
        self.name = name
        self.can_list = can_list
        self.failures: dict[str, int] = {}

    def metadata(self) -> str:
        extra = '<action name="list"/>' if self.can_list is not None else ""
        return METADATA.format(name=self.name, extra=extra)

    async def execute(
        self, action: str, params: Mapping[str, str], target: str | None, timeout_ms: int
    ) -> FenceResult:
        device = params.get("device", "?")
        Switch.calls.append((device, action, target, params.get("plug", "")))
        if action == "list":
            return FenceResult(succeeded=True, targets=self.can_list or ())
        used = self.failures.get(device, 0)
        if used < int(params.get("fail_times", "0")):
            self.failures[device] = used + 1
            return FenceResult(succeeded=False, output="switch said no")
        return FenceResult(succeeded=True, power_state="off" if action == "off" else "on")


def cib(resources: str, topology: str = "", options: str = "") -> object:
    text = f"""<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
      <configuration><crm_config><cluster_property_set id="o">{options}</cluster_property_set>
      </crm_config><nodes><node id="1" uname="node1"/><node id="2" uname="node2"/>
      <node id="3" uname="web3"/></nodes>
      <resources>{resources}</resources><constraints/>
      <fencing-topology>{topology}</fencing-topology></configuration><status/></cib>"""
    return build_model(CibDocument.from_bytes(text.encode(), source="test"))


def device(ident: str, agent: str = "fence_switch", **params: str) -> str:
    pairs = "".join(
        f'<nvpair id="{ident}-{k}" name="{k}" value="{v}"/>'
        for k, v in {"device": ident, **params}.items()
    )
    return (
        f'<primitive id="{ident}" class="stonith" type="{agent}">'
        f'<instance_attributes id="{ident}-ia">{pairs}</instance_attributes></primitive>'
    )


def level(ident: str, index: int, devices: str, **target: str) -> str:
    where = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in target.items())
    return f'<fencing-level id="{ident}" index="{index}" devices="{devices}" {where}/>'


class Clock:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def fencer(model: object, agents: dict[str, FenceAgent] | None = None, **kwargs: object) -> Fencer:
    table = agents or {"fence_switch": Switch("fence_switch")}
    Switch.calls = []
    return Fencer("node1", model, table.__getitem__, **kwargs)  # type: ignore[arg-type]


def test_host_map_list_and_default_checks() -> None:
    devices = devices_of(
        cib(
            device("ipmi", pcmk_host_map=r"node1:1;node2:2\:b")
            + device("pdu", pcmk_host_list="node1 node2")
            + device("any")
        )
    )  # type: ignore[arg-type]
    assert devices["ipmi"].host_map == {"node1": "1", "node2": "2:b"}
    assert devices["ipmi"].params == {"device": "ipmi"}  # pcmk_* are the fencer's
    assert devices["pdu"].host_check(["list"]) == "static-list"
    assert devices["any"].host_check(["list", "status"]) == "dynamic-list"
    assert devices["any"].host_check(["status"]) == "status"
    assert devices["any"].host_check([]) == "none"


def test_levels_by_name_pattern_and_attribute() -> None:
    model = cib(
        device("a") + device("b"),
        topology=(
            level("l1", 1, "a", target="node1")
            + level("l2", 2, "b", target_pattern="^node")
            + level("l3", 1, "b", target_attribute="rack", target_value="r2")
        ),
    )
    levels = model.configuration.fencing_levels  # type: ignore[attr-defined]
    assert [lv.id for lv in levels_for(levels, "node1", {})] == ["l1", "l2"]
    assert [lv.id for lv in levels_for(levels, "web3", {"rack": "r2"})] == ["l3"]
    with pytest.raises(FencingConfigError, match="both are level 1 for node1"):
        levels_for(levels, "node1", {"rack": "r2"})


def test_level_one_fails_level_two_fences() -> None:
    model = cib(
        device("ipmi", fail_times="9", pcmk_host_list="node2")
        + device("pdu", pcmk_host_list="node2"),
        topology=level("l1", 1, "ipmi", target="node2") + level("l2", 2, "pdu", target="node2"),
    )
    entry = asyncio.run(fencer(model).fence(FenceRequest("node2", "off", origin="node1")))
    assert entry.succeeded and entry.devices == ["pdu"]
    # ipmi was tried 3 times (pcmk_off_retries defaults to 2 more), then pdu once
    assert [(d, a) for d, a, _, _ in Switch.calls] == [("ipmi", "off")] * 3 + [("pdu", "off")]


def test_a_reboot_across_two_devices_is_all_off_then_all_on() -> None:
    model = cib(
        device("psu1", pcmk_host_list="node2") + device("psu2", pcmk_host_list="node2"),
        topology=level("l1", 1, "psu1,psu2", target="node2"),
    )
    entry = asyncio.run(fencer(model).fence(FenceRequest("node2")))
    assert entry.succeeded
    assert [(d, a) for d, a, _, _ in Switch.calls] == [
        ("psu1", "off"),
        ("psu2", "off"),
        ("psu1", "on"),
        ("psu2", "on"),
    ]


def test_retries_within_the_timeout_and_action_override() -> None:
    model = cib(device("ipmi", fail_times="1", pcmk_host_list="node2", pcmk_reboot_action="cycle"))
    entry = asyncio.run(fencer(model).fence(FenceRequest("node2")))
    assert entry.succeeded
    assert [a for _, a, _, _ in Switch.calls] == ["cycle", "cycle"]


def test_without_topology_capable_devices_are_tried_by_priority() -> None:
    model = cib(
        device("low", pcmk_host_list="node2", fail_times="9").replace(
            "</primitive>",
            '<meta_attributes id="m1"><nvpair id="p1" '
            'name="priority" value="10"/></meta_attributes></primitive>',
        )
        + device("other", pcmk_host_list="node1")
        + device("mapped", pcmk_host_map="node2:outlet7")
    )
    entry = asyncio.run(fencer(model).fence(FenceRequest("node2", "off")))
    assert entry.succeeded and entry.devices == ["mapped"]
    assert Switch.calls[0][0] == "low"  # the higher priority is tried first
    assert Switch.calls[-1] == ("mapped", "off", "node2", "outlet7")


def test_dynamic_list_asks_the_device() -> None:
    agents: dict[str, FenceAgent] = {"fence_switch": Switch("fence_switch", can_list=("node2",))}
    model = cib(device("lister"))
    assert asyncio.run(fencer(model, agents).fence(FenceRequest("node2", "off"))).succeeded
    failed = asyncio.run(fencer(model, agents).fence(FenceRequest("node1", "off")))
    assert not failed.succeeded and "no fence device can fence node1" in failed.reason


def test_delays_base_per_node_max_and_priority_delay() -> None:
    clock = Clock()
    model = cib(
        device(
            "slow",
            pcmk_host_list="node1 node2",
            pcmk_delay_base="node1:5s;node2:1s",
            pcmk_delay_max="4s",
        )
    )
    fence = fencer(model, sleep=clock.sleep, rng=random.Random(7))
    asyncio.run(fence.fence(FenceRequest("node2", "off", extra_delay_ms=2000)))
    asyncio.run(fence.fence(FenceRequest("node1", "off")))
    second_delay = clock.slept[1]
    assert 1 + 2 <= clock.slept[0] <= 4 + 2  # base 1s, random up to max 4s, plus priority
    assert second_delay == 5  # a base above the max: no random part


@pytest.mark.skipif(
    shutil.which("fence_dummy") is None and not Path("/usr/sbin/fence_dummy").exists(),
    reason="fence-agents is not installed (.ci/run installs it)",
)
def test_the_real_fence_dummy_through_the_external_plugin(tmp_path: Path) -> None:
    status_file = tmp_path / "power"
    model = cib(
        device(
            "dummy", agent="fence_dummy", pcmk_host_list="node2", status_file=str(status_file)
        ).replace('<nvpair id="dummy-device" name="device" value="dummy"/>', "")
    )
    fence = Fencer("node1", model, PluginHost().fence_agent)  # type: ignore[arg-type]
    powered = asyncio.run(fence.fence(FenceRequest("node2", "on")))
    assert powered.succeeded, powered.reason
    assert status_file.read_text().strip() == "on"
    entry = asyncio.run(fence.fence(FenceRequest("node2", "off")))
    assert entry.succeeded, entry.reason
    assert status_file.read_text().strip() == "off"
    assert [e.state for e in fence.history] == ["success", "success"]


def test_a_device_whose_monitor_failed_is_not_used() -> None:
    model = cib(
        device("ipmi", pcmk_host_list="node2", priority="2")
        + device("pdu", pcmk_host_list="node2"),
        topology=level("l1", 1, "ipmi", target="node2"),
    )
    # the topology names only the failed device: its level fails without a call
    refused = fencer(model, failed={"ipmi"})
    entry = asyncio.run(refused.fence(FenceRequest("node2")))
    assert not entry.succeeded and "ipmi failed its monitor" in entry.reason
    assert Switch.calls == []
    # without a topology, the healthy device fences
    healthy = fencer(cib(device("ipmi", pcmk_host_list="node2") + device("pdu")), failed={"ipmi"})
    entry = asyncio.run(healthy.fence(FenceRequest("node2")))
    assert entry.succeeded and entry.devices == ["pdu"]
    assert {call[0] for call in Switch.calls} == {"pdu"}
    # only failed devices left: the reason names them
    alone = fencer(cib(device("ipmi", pcmk_host_list="node2")), failed={"ipmi"})
    entry = asyncio.run(alone.fence(FenceRequest("node2")))
    assert entry.reason == "no fence device can fence node2 (failed, not used: ipmi)"
