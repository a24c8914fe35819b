"""CIB text for the scheduler unit tests: the pieces most tests share (the skeleton with
fencing off, online node states, operation history entries, Dummy primitives), as plain
functions returning XML text, and the call that schedules such a text."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import WorkingSet

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
#: the digest of an agent's parameters when it has none (Pacemaker's, feature set 3.0.9):
#: with it a recorded operation shows no definition change
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"


def nodes(count: int) -> str:
    """`count` node elements: node1 (id 1), node2 (id 2), ..."""
    return "".join(f'<node id="{i}" uname="node{i}"/>' for i in range(1, count + 1))


def cib(
    resources: str,
    constraints: str = "",
    status: str = "",
    node_list: str = nodes(2),
    properties: str = "",
    fencing: bool = False,
) -> str:
    """A whole CIB, fencing disabled unless `fencing`; `properties` are further
    cluster-option nvpairs."""
    return f"""
<cib validate-with="pacemaker-3.7" have-quorum="true" admin_epoch="0" epoch="1"
  num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="{str(fencing).lower()}"/>{properties}
    </cluster_property_set></crm_config>
    <nodes>{node_list}</nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{status}</status>
</cib>"""


def node_state(node_id: str, history: str = "", extra: str = "", name: str = "") -> str:
    """An online member's state; `history` is its lrm_resource elements, `extra` goes
    before them (transient attributes); the name defaults to node<id>."""
    uname = name or f"node{node_id}"
    return (
        f'<node_state id="{node_id}" uname="{uname}" in_ccm="true" crmd="online" '
        f'join="member" expected="member">{extra}<lrm id="{node_id}"><lrm_resources>'
        f"{history}</lrm_resources></lrm></node_state>"
    )


def transient(node_id: str, values: dict[str, str]) -> str:
    """A node's transient attributes (for node_state's `extra`)."""
    pairs = "".join(
        f'<nvpair id="t{node_id}-{name}" name="{name}" value="{value}"/>'
        for name, value in values.items()
    )
    return (
        f'<transient_attributes id="{node_id}"><instance_attributes id="t{node_id}">'
        f"{pairs}</instance_attributes></transient_attributes>"
    )


def lrm_op(
    rsc: str, call: int, task: str = "start", node: str = "node1", rc: int = 0, interval: int = 0
) -> str:
    """One completed operation in a resource's history, recorded with the digest of no
    parameters."""
    return (
        f'<lrm_rsc_op id="{rsc}_{task}_{interval}" operation_key="{rsc}_{task}_{interval}" '
        f'operation="{task}" call-id="{call}" rc-code="{rc}" op-status="0" '
        f'interval="{interval}" transition-key="{call}:1:{rc}:x" on_node="{node}" '
        f'crm_feature_set="3.0.9" op-digest="{DIGEST}"/>'
    )


def lrm_resource(rsc: str, ops: str, agent: str = "Dummy") -> str:
    """A resource's history (an ocf:pacemaker agent) made of `ops`."""
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="{agent}">{ops}'
        "</lrm_resource>"
    )


def running(rsc: str, call: int, node: str = "node1", agent: str = "Dummy") -> str:
    """The history of a resource started on `node` by call `call`."""
    return lrm_resource(rsc, lrm_op(rsc, call, node=node), agent)


def primitive(rsc: str, inner: str = "", agent: str = "Dummy") -> str:
    """An ocf:pacemaker primitive; `inner` is its meta attributes, operations and such."""
    return (
        f'<primitive id="{rsc}" class="ocf" provider="pacemaker" type="{agent}">{inner}</primitive>'
    )


def meta(owner: str, **values: str) -> str:
    """A meta_attributes block: meta("G", allow_migrate="true") names allow-migrate."""
    pairs = "".join(
        f'<nvpair id="{owner}-{name}" name="{name.replace("_", "-")}" value="{value}"/>'
        for name, value in values.items()
    )
    return f'<meta_attributes id="{owner}-m">{pairs}</meta_attributes>'


def scheduled(text: str) -> WorkingSet:
    return schedule(etree.fromstring(text), NOW)


def summary(ws: WorkingSet) -> list[str]:
    """The transition summary, each line's runs of blanks made one."""
    return [" ".join(line.split()) for line in output.transition_summary(ws)]
