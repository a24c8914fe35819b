"""A node's operation history in Pacemaker's terms, without I/O.

Per resource Pacemaker keeps: ``<rsc>_last_0``, the most recent non-recurring operation;
``<rsc>_last_failure_0``, the most recent failed one; and one record per recurring
operation, ``<rsc>_<action>_<interval>``. The scheduler reads these from the status
section to know what runs where and what failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lxml import etree

from hactl.core.drivers import OcfRc, OperationStatus

#: Pacemaker's execution status codes (op-status) for hactl's OperationStatus
EXEC_STATUS_CODE: dict[str, int] = {
    OperationStatus.PENDING: -1,
    OperationStatus.DONE: 0,
    OperationStatus.CANCELLED: 1,
    OperationStatus.TIMED_OUT: 2,
    OperationStatus.ERROR: 4,
    OperationStatus.NOT_INSTALLED: 7,
}
CRM_FEATURE_SET = "3.19.0"
_DEGRADED: dict[int, int] = {
    OcfRc.DEGRADED: OcfRc.SUCCESS,
    OcfRc.DEGRADED_PROMOTED: OcfRc.RUNNING_PROMOTED,
}


@dataclass(frozen=True)
class ResourceAgent:
    """The resource's agent, as ``lrm_resource`` names it."""

    resource: str
    standard: str
    agent_type: str
    provider: str | None = None

    @classmethod
    def from_spec(cls, resource: str, spec: str) -> ResourceAgent:
        parts = spec.split(":")
        if len(parts) == 3:
            return cls(resource, parts[0], parts[2], parts[1])
        if len(parts) == 2:
            return cls(resource, parts[0], parts[1])
        raise ValueError(f"agent spec {spec!r} is not STANDARD[:PROVIDER]:TYPE")


@dataclass(frozen=True)
class OperationRecord:
    """One ``lrm_rsc_op``."""

    resource: str
    operation: str
    interval_ms: int
    call_id: int
    rc: int
    status: str
    node: str
    last_rc_change: int  # seconds since the epoch
    exec_ms: int = 0
    queue_ms: int = 0
    transition_key: str = ""
    digest: str = ""
    exit_reason: str = ""
    expected_rc: int = OcfRc.SUCCESS
    #: for an agent that can reload: the digest of what a reload cannot apply, and those
    #: parameters (" a b "); for an agent with secrets: the digest without them, and them
    restart_digest: str | None = None
    force_restart: str | None = None
    secure_digest: str | None = None
    secure_params: str | None = None

    @property
    def key(self) -> str:
        """Pacemaker's operation key: resource, action and interval."""
        return f"{self.resource}_{self.operation}_{self.interval_ms}"

    @property
    def failed(self) -> bool:
        """Whether the result differs from what the operation was run to get (the
        transition's target: 0 for a start, 7 for a probe that expects nothing, 8 for a
        promoted monitor). A degraded answer is no failure."""
        if self.status != OperationStatus.DONE:
            return True
        return self.rc != self.expected_rc and _DEGRADED.get(self.rc) != self.expected_rc

    def to_xml(self, record_id: str) -> etree._Element:
        status_code = EXEC_STATUS_CODE.get(self.status, 4)
        element = etree.Element("lrm_rsc_op")
        attributes = {
            "id": record_id,
            "operation_key": self.key,
            "operation": self.operation,
            "crm-debug-origin": "hactl-executor",
            "crm_feature_set": CRM_FEATURE_SET,
            "transition-key": self.transition_key,
            "transition-magic": f"{status_code}:{self.rc};{self.transition_key}",
            "exit-reason": self.exit_reason,
            "on_node": self.node,
            "call-id": str(self.call_id),
            "rc-code": str(self.rc),
            "op-status": str(status_code),
            "interval": str(self.interval_ms),
            "last-rc-change": str(self.last_rc_change),
            "exec-time": str(self.exec_ms),
            "queue-time": str(self.queue_ms),
            "op-digest": self.digest,
        }
        for name, optional in (
            ("op-force-restart", self.force_restart),
            ("op-restart-digest", self.restart_digest),
            ("op-secure-params", self.secure_params),
            ("op-secure-digest", self.secure_digest),
        ):
            if optional is not None:
                attributes[name] = optional
        for name, value in attributes.items():
            element.set(name, value)
        return element


class ResourceHistory:
    """The records Pacemaker keeps for one resource on one node."""

    def __init__(self, agent: ResourceAgent) -> None:
        self.agent = agent
        self.last: OperationRecord | None = None
        self.last_failure: OperationRecord | None = None
        self.recurring: dict[tuple[str, int], OperationRecord] = {}

    def record(self, op: OperationRecord) -> None:
        if op.interval_ms:
            previous = self.recurring.get((op.operation, op.interval_ms))
            if previous is not None and (previous.rc, previous.status) == (op.rc, op.status):
                op = replace(op, last_rc_change=previous.last_rc_change)
            self.recurring[(op.operation, op.interval_ms)] = op
        else:
            self.last = op
            if op.operation == "stop" and not op.failed:
                # a stopped resource's recurring operations are gone with it
                self.recurring.clear()
        if op.failed:
            self.last_failure = op

    def forget_recurring(self, operation: str, interval_ms: int) -> None:
        self.recurring.pop((operation, interval_ms), None)

    def to_xml(self) -> etree._Element:
        element = etree.Element("lrm_resource", id=self.agent.resource)
        element.set("class", self.agent.standard)
        if self.agent.provider:
            element.set("provider", self.agent.provider)
        element.set("type", self.agent.agent_type)
        rsc = self.agent.resource
        if self.last is not None:
            element.append(self.last.to_xml(f"{rsc}_last_0"))
        if self.last_failure is not None:
            element.append(self.last_failure.to_xml(f"{rsc}_last_failure_0"))
        for (operation, interval), op in sorted(self.recurring.items()):
            element.append(op.to_xml(f"{rsc}_{operation}_{interval}"))
        return element


class NodeHistory:
    """Every resource's history on one node, and the call-id counter."""

    def __init__(self, node: str, node_id: str | None = None) -> None:
        self.node = node
        self.node_id = node_id or node  # the lrm element carries the node's id
        self.resources: dict[str, ResourceHistory] = {}
        self._call_id = 0

    def next_call_id(self) -> int:
        self._call_id += 1
        return self._call_id

    def for_resource(self, agent: ResourceAgent) -> ResourceHistory:
        history = self.resources.get(agent.resource)
        if history is None:
            history = self.resources[agent.resource] = ResourceHistory(agent)
        return history

    def forget(self, resource: str) -> None:
        """Drop a resource's history (what `resource cleanup` does, on this node)."""
        self.resources.pop(resource, None)

    def to_xml(self) -> etree._Element:
        """The node's ``<lrm>`` element for its ``node_state`` in the status section."""
        lrm = etree.Element("lrm", id=self.node_id)
        container = etree.SubElement(lrm, "lrm_resources")
        for name in sorted(self.resources):
            container.append(self.resources[name].to_xml())
        return lrm
