"""Every hook of core/hookspecs.py is exercised here through PluginHost, with plugins
registered inline for one test (tox's pattern); a guard test fails when a hook is added
without a test_hook_<name> of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from hactl.core import hookspecs
from hactl.core.drivers import (
    AgentClass,
    FenceAgent,
    FenceResult,
    OperationRequest,
    OperationResult,
    QuorumMember,
    QuorumProvider,
    QuorumStatus,
    Transport,
)
from hactl.core.errors import PluginError
from hactl.core.events import (
    CibChangeEvent,
    FenceEvent,
    MembershipEvent,
    OperationEvent,
    QuorumEvent,
)
from hactl.core.hookspecs import hookimpl
from hactl.core.plugins import PluginHost


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """A host that sees no installed entry points: only what the test registers."""
    host = PluginHost()
    monkeypatch.setattr(host, "_entry_points", lambda category: [])
    return host


class LoopTransport(Transport):
    """Delivers what it sends back to itself: enough to see the driver come through."""

    def __init__(self) -> None:
        self.receive: Any = None

    async def start(self, on_datagram: Any) -> None:
        self.receive = on_datagram

    def send(self, data: bytes, to: str | None = None) -> None:
        self.receive("self", data)

    async def stop(self) -> None:
        self.receive = None


class MajorityQuorum(QuorumProvider):
    """A plain majority of nodes, no messages: the smallest provider the contract allows."""

    def __init__(self, expected: int) -> None:
        self.expected, self.members, self.ring_id = expected, frozenset[int](), ""

    @property
    def quorate(self) -> bool:
        return len(self.members) > self.expected // 2

    def membership_changed(
        self, ring_id: str, members: frozenset[int], now_ms: int
    ) -> list[object]:
        self.ring_id, self.members = ring_id, members
        return []

    def deliver(self, sender: int, message: object, now_ms: int) -> list[object]:
        return []

    def sync_completed(self, now_ms: int) -> None:
        return None

    def status(self) -> QuorumStatus:
        members = tuple(QuorumMember(nodeid=n, votes=1) for n in sorted(self.members))
        return QuorumStatus(
            provider="majority",
            node_id=min(self.members, default=0),
            ring_id=self.ring_id,
            quorate=self.quorate,
            expected_votes=self.expected,
            highest_expected=self.expected,
            total_votes=len(self.members),
            quorum=self.expected // 2 + 1,
            flags=(),
            members=members,
        )

    def encode(self, message: object) -> bytes:
        return b""

    def decode(self, data: bytes) -> object:
        return None


class EchoAgents(AgentClass):
    standard = "echo"

    def agents(self, provider: str | None = None) -> list[str]:
        return ["Echo"]

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        return f'<resource-agent name="{agent_type}"/>'

    async def execute(self, request: OperationRequest) -> OperationResult:
        return OperationResult(rc=0 if request.action != "monitor" else 7)


class PowerSwitch(FenceAgent):
    def __init__(self, name: str) -> None:
        self.name = name

    def metadata(self) -> str:
        return f'<resource-agent name="{self.name}"/>'

    async def execute(
        self, action: str, params: Mapping[str, str], target: str | None, timeout_ms: int
    ) -> FenceResult:
        return FenceResult(succeeded=True, power_state="off" if action == "off" else "on")


def test_hook_hactl_transport(host: PluginHost) -> None:
    class Plugin:
        @hookimpl
        def hactl_transport(self, name: str, options: Mapping[str, Any]) -> Transport | None:
            return LoopTransport() if name == "loop" else None

    host.pm.register(Plugin())
    transport = host.transport("loop", {})
    got: list[bytes] = []

    async def roundtrip() -> None:
        await transport.start(lambda src, data: got.append(data))
        transport.send(b"ping")
        await transport.stop()

    asyncio.run(roundtrip())
    assert got == [b"ping"]
    with pytest.raises(PluginError, match="no transports plugin provides 'knot'"):
        host.transport("knot", {})


def test_hook_hactl_quorum_provider(host: PluginHost) -> None:
    class Plugin:
        @hookimpl
        def hactl_quorum_provider(self, name: str, options: Mapping[str, Any]) -> Any:
            return MajorityQuorum(int(options["expected_votes"])) if name == "majority" else None

    host.pm.register(Plugin())
    provider = host.quorum_provider("majority", {"expected_votes": 3})
    provider.membership_changed("1.4", frozenset({1, 2}), now_ms=0)
    assert provider.quorate
    provider.membership_changed("3.8", frozenset({3}), now_ms=10)
    assert not provider.quorate
    status = provider.status()
    assert (status.ring_id, status.quorum, status.total_votes) == ("3.8", 2, 1)


def test_hook_hactl_agent_class(host: PluginHost) -> None:
    class Plugin:
        @hookimpl
        def hactl_agent_class(self, standard: str) -> AgentClass | None:
            return EchoAgents() if standard == "echo" else None

    host.pm.register(Plugin())
    agents = host.agent_class("echo")
    result = asyncio.run(agents.execute(OperationRequest("r", "echo:Echo", "monitor")))
    assert result.rc == 7
    with pytest.raises(PluginError, match="agents plugin provides 'lsbx'"):
        host.agent_class("lsbx")


def test_hook_hactl_fence_agent(host: PluginHost) -> None:
    """A specific plugin wins over a trylast catch-all, whatever the registration order."""

    class CatchAll:
        @hookimpl(trylast=True)
        def hactl_fence_agent(self, agent: str) -> FenceAgent | None:
            return PowerSwitch(f"generic:{agent}") if agent.startswith("fence_") else None

    class Specific:
        @hookimpl
        def hactl_fence_agent(self, agent: str) -> FenceAgent | None:
            return PowerSwitch("ipmi") if agent == "fence_ipmilan" else None

    host.pm.register(CatchAll())
    host.pm.register(Specific())
    assert host.fence_agent("fence_ipmilan").name == "ipmi"
    assert host.fence_agent("fence_apc").name == "generic:fence_apc"
    result = asyncio.run(host.fence_agent("fence_apc").execute("off", {}, "node1", 1000))
    assert result.power_state == "off"


def test_hook_hactl_list_agents(host: PluginHost) -> None:
    class One:
        @hookimpl
        def hactl_list_agents(self) -> list[str]:
            return ["ocf:heartbeat:Dummy", "lsb:atd"]

    class Two:
        @hookimpl
        def hactl_list_agents(self) -> list[str]:
            return ["lsb:atd", "systemd:sshd"]

    host.pm.register(One())
    host.pm.register(Two())
    assert host.list_agents() == ["lsb:atd", "ocf:heartbeat:Dummy", "systemd:sshd"]


def test_hook_hactl_list_fence_agents(host: PluginHost) -> None:
    class Plugin:
        @hookimpl
        def hactl_list_fence_agents(self) -> list[str]:
            return ["fence_sbd", "fence_ipmilan"]

    host.pm.register(Plugin())
    assert host.list_fence_agents() == ["fence_ipmilan", "fence_sbd"]


class Recorder:
    """Listens to every event hook; a second recorder checks isolation from failures."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    @hookimpl
    def hactl_membership_changed(self, event: MembershipEvent) -> None:
        self.seen.append(event)

    @hookimpl
    def hactl_quorum_changed(self, event: QuorumEvent) -> None:
        self.seen.append(event)

    @hookimpl
    def hactl_operation_result(self, event: OperationEvent) -> None:
        self.seen.append(event)

    @hookimpl
    def hactl_fence_result(self, event: FenceEvent) -> None:
        self.seen.append(event)

    @hookimpl
    def hactl_cib_changed(self, event: CibChangeEvent) -> None:
        self.seen.append(event)


class Faulty:
    @hookimpl(tryfirst=True)
    def hactl_membership_changed(self) -> None:  # takes a subset of the arguments
        raise RuntimeError("listener bug")


def _emitted(host: PluginHost, event: Any) -> list[object]:
    recorder = Recorder()
    host.pm.register(recorder)
    host.emit(event)
    return recorder.seen


def test_hook_hactl_membership_changed(host: PluginHost, caplog: pytest.LogCaptureFixture) -> None:
    host.pm.register(Faulty())
    event = MembershipEvent(ring_id="1.8", members=(1, 2), left=(3,))
    with caplog.at_level(logging.ERROR, logger="hactl.plugins"):
        assert _emitted(host, event) == [event]
    assert "listener bug" in caplog.text


def test_hook_hactl_quorum_changed(host: PluginHost) -> None:
    event = QuorumEvent(quorate=True, total_votes=2, expected_votes=3, quorum=2)
    assert _emitted(host, event) == [event]


def test_hook_hactl_operation_result(host: PluginHost) -> None:
    event = OperationEvent("node1", "vip", "monitor", 10000, rc=7, status="done")
    assert _emitted(host, event) == [event]


def test_hook_hactl_fence_result(host: PluginHost) -> None:
    event = FenceEvent(target="node3", action="reboot", succeeded=True, devices=("ipmi3",))
    assert _emitted(host, event) == [event]


def test_hook_hactl_cib_changed(host: PluginHost) -> None:
    event = CibChangeEvent(admin_epoch=0, epoch=5, num_updates=0, sections=("resources",))
    assert _emitted(host, event) == [event]


def test_a_hook_with_a_bad_signature_is_refused(host: PluginHost) -> None:
    class Plugin:
        @hookimpl
        def hactl_fence_agent(self, agent: str, colour: str) -> None:
            return None

    import pluggy

    with pytest.raises(pluggy.PluginValidationError):
        host.pm.register(Plugin())


@pytest.mark.parametrize("hook", sorted(n for n in dir(hookspecs) if n.startswith("hactl_")))
def test_every_hook_has_a_test_and_a_docstring(hook: str) -> None:
    assert f"test_hook_{hook}" in globals(), f"write test_hook_{hook}"
    assert (getattr(hookspecs, hook).__doc__ or "").strip(), f"document {hook}"


@pytest.mark.parametrize("hook", sorted(n for n in dir(hookspecs) if n.startswith("hactl_")))
def test_every_hook_is_documented_for_plugin_authors(hook: str) -> None:
    import inspect
    from pathlib import Path

    guide = (Path(__file__).parents[3] / "docs" / "writing-plugins.md").read_text()
    arguments = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### {hook}({arguments})" in guide, "document the hook in docs/writing-plugins.md"
