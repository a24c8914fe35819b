"""Several simulated nodes in one process around one ClusterController: one real Executor
per node running hactl's bundled agents (Dummy, Stateful) for real, each node with its own
HA_RSCTMP so a resource's state file says on which node it runs. The real scheduler decides.

Test doubles, because the real thing cannot run here: the transport between the DC and the
nodes (``dispatch`` calls the node's executor directly; a "lost" node raises
NodeUnreachable). Fencing is hactl's real fencer running fence-agents' fence_dummy; a node
it "reboots" loses its state files. Agents' crm_attribute writes go to a copy of the CIB per
operation; what they changed is handed to the controller as attrd would.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.attrd.status import transient_values
from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import build_model
from hactl.core.controller.manager import (
    ClusterController,
    FenceResult,
    NodeUnreachable,
    fence_through,
    perform_on_node,
)
from hactl.core.drivers import OperationRequest, OperationResult
from hactl.core.executor.executor import Executor, ScheduledOperation, agent_runner
from hactl.core.executor.history import OperationRecord
from hactl.core.fencer.fencer import Fencer
from hactl.core.plugins import PluginHost


class VirtualClock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def cib_xml(
    nodes: list[str],
    resources: str,
    *,
    constraints: str = "",
    options: dict[str, str] | None = None,
) -> bytes:
    props = {"stonith-enabled": "false", **(options or {})}
    pairs = "".join(
        f'<nvpair id="opt-{name}" name="{name}" value="{value}"/>' for name, value in props.items()
    )
    node_list = "".join(f'<node id="{i + 1}" uname="{n}"/>' for i, n in enumerate(nodes))
    return (
        '<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" '
        'crm_feature_set="3.19.0" have-quorum="1" dc-uuid="1"><configuration><crm_config>'
        f'<cluster_property_set id="cib-bootstrap-options">{pairs}</cluster_property_set>'
        f"</crm_config><nodes>{node_list}</nodes><resources>{resources}</resources>"
        f"<constraints>{constraints}</constraints></configuration><status/></cib>"
    ).encode()


def fence_device(kind: str = "file", status_file: str = "/dev/null") -> str:
    """fence_dummy for every node: type=file succeeds, type=fail never answers."""
    pairs = {"pcmk_host_list": "n1 n2 n3", "type": kind, "status_file": status_file}
    attributes = "".join(f'<nvpair id="fd-{k}" name="{k}" value="{v}"/>' for k, v in pairs.items())
    return (
        '<primitive id="fd" class="stonith" type="fence_dummy">'
        f'<instance_attributes id="fd-ia">{attributes}</instance_attributes></primitive>'
    )


def dummy(name: str, monitor: str = "1s", meta: dict[str, str] | None = None) -> str:
    metas = "".join(
        f'<nvpair id="{name}-m-{k}" name="{k}" value="{v}"/>' for k, v in (meta or {}).items()
    )
    return (
        f'<primitive id="{name}" class="ocf" provider="hactl" type="Dummy">'
        f'<meta_attributes id="{name}-meta">{metas}</meta_attributes>'
        f'<operations><op id="{name}-mon" name="monitor" interval="{monitor}" timeout="10s"/>'
        "</operations></primitive>"
    )


class SimCluster:
    def __init__(self, tmp: Path, cib: bytes, clock: VirtualClock) -> None:
        self.tmp = tmp
        self.clock = clock
        self.doc = CibDocument.from_bytes(cib)
        self.nodes = [str(n.get("uname")) for n in self.doc.root.iterfind(".//nodes/node")]
        self.up: set[str] = set()
        self.executors: dict[str, Executor] = {}
        self.log: list[tuple[str, str, str, int]] = []  # (node, resource, action, rc)
        self.violations: list[str] = []
        self.fenced: list[str] = []
        self._op_files = 0
        self.controller = ClusterController(
            self.doc, dc_uuid="1", dispatch=self.dispatch, fence=self.fence, clock=clock
        )
        self._task: asyncio.Task[None] | None = None
        self._fence = fence_through(
            lambda: Fencer("dc", build_model(self.controller.cib), PluginHost().fence_agent),  # type: ignore[arg-type]
            origin="dc",
        )

    # -- the nodes

    def state_dir(self, node: str) -> Path:
        path = self.tmp / "rsctmp" / node
        path.mkdir(parents=True, exist_ok=True)
        return path

    def start_node(self, node: str) -> None:
        inner = agent_runner(PluginHost().agent_class)

        async def runner(request: OperationRequest) -> OperationResult:
            return await self._run_agent(node, request, inner)

        self.executors[node] = Executor(
            node,
            runner,
            node_id=str(self.nodes.index(node) + 1),
            on_result=self.controller.operation_reported,
            clock=self.clock,
        )
        self.up.add(node)

    async def _run_agent(self, node: str, request: OperationRequest, inner) -> OperationResult:  # type: ignore[no-untyped-def]
        self._op_files += 1
        cib_file = self.tmp / f"cib-{node}-{self._op_files}.xml"
        cib_file.write_bytes(self.controller.cib.serialize())
        before = transient_values(self.controller.cib.root, node)
        environment = {
            **request.environment,
            "HA_RSCTMP": str(self.state_dir(node)),
            "CIB_file": str(cib_file),
        }
        result = await inner(OperationRequest(**{**request.__dict__, "environment": environment}))
        after = transient_values(etree.parse(str(cib_file)).getroot(), node)
        cib_file.unlink()
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                self.controller.set_attribute(node, name, after.get(name))
        return result

    async def lose(self, node: str) -> None:
        """The node drops out of the membership; what runs there keeps its state files."""
        self.up.discard(node)
        executor = self.executors.pop(node)
        await executor.close()
        self.controller.set_membership(self.up)

    # -- the controller's callbacks

    async def dispatch(self, node: str, op: ScheduledOperation) -> OperationRecord:
        if node not in self.up:
            raise NodeUnreachable(f"node {node} is not in the membership")
        record = await perform_on_node(self.executors[node], op)
        self.log.append((node, op.request.resource, op.request.action, record.rc))
        self.check_invariant()
        return record

    async def fence(self, target: str, action: str, priority_delay_ms: int) -> FenceResult:
        """The real fencer, with the fence devices of the CIB (fence_dummy in the tests)."""
        result = await self._fence(target, action, priority_delay_ms)
        if result.succeeded:
            for state in self.state_dir(target).iterdir():
                state.unlink()  # a rebooted node runs nothing
            self.log.append((target, "", f"fence-{action}", 0))
        return result

    # -- what the tests look at

    def running(self, resource: str) -> list[str]:
        """Nodes whose state directory says the resource runs there (instances included)."""
        return sorted(
            node
            for node in self.nodes
            for state in self.state_dir(node).glob("*.state")
            if state.stem.split("-", 1)[1].split(":")[0] == resource
        )

    def role(self, node: str, instance: str) -> str | None:
        path = self.state_dir(node) / f"Stateful-{instance}.state"
        return path.read_text().strip() if path.exists() else None

    def check_invariant(self) -> None:
        clones = {
            str(p.get("id"))
            for c in self.doc.root.iterfind(".//resources//clone")
            for p in c.iter("primitive")
        }
        for primitive in self.controller.cib.root.iterfind(".//resources//primitive"):
            name = str(primitive.get("id"))
            where = self.running(name)
            if name not in clones and len(where) > 1:
                self.violations.append(f"{name} active on {where}")

    def started(self) -> None:
        for node in self.nodes:
            self.start_node(node)
        self.controller.set_membership(self.up)
        self._task = asyncio.get_running_loop().create_task(self.controller.run())

    async def settle(self, timeout: float = 60) -> None:
        await asyncio.wait_for(self.controller.settle(), timeout)
        self.check_invariant()
        assert not self.violations, self.violations

    async def wait_for(self, condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached in time"
            await asyncio.sleep(0.05)

    def verify(self) -> None:
        """What the controller wrote passes Pacemaker's crm_verify, where installed (a
        CIB with stonith enabled but no device is refused by it whatever the status)."""
        tool = shutil.which("crm_verify")
        root = self.controller.cib.root
        fencing = root.find(".//crm_config//nvpair[@name='stonith-enabled']")
        if tool is None or (fencing is not None and fencing.get("value") == "true"):
            return
        path = self.tmp / "verify.xml"
        path.write_bytes(self.controller.cib.serialize())
        result = subprocess.run([tool, "-x", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr

    async def close(self) -> None:
        self.verify()
        self.controller.stop()
        if self._task is not None:
            await self._task
        for executor in self.executors.values():
            await executor.close()

    def actions(self, *kinds: str) -> list[tuple[str, str, str]]:
        return [(n, r, a) for n, r, a, _ in self.log if a in kinds]


class Sim:
    """What a test gets: CIB builders and a cluster factory (conftest helpers cannot be
    imported under --import-mode=importlib)."""

    cib = staticmethod(cib_xml)
    dummy = staticmethod(dummy)
    fence_device = staticmethod(fence_device)

    def __init__(self, tmp: Path, clock: VirtualClock) -> None:
        self.tmp = tmp
        self.clock = clock

    def cluster(self, cib: bytes) -> SimCluster:
        return SimCluster(self.tmp, cib, self.clock)


@pytest.fixture
def sim(tmp_path: Path) -> Sim:
    return Sim(tmp_path, VirtualClock())
