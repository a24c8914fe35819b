"""Which fence devices the status section shows failed (the fencer leaves them out)."""

from __future__ import annotations

from lxml import etree

from hactl.core.fencer.device_runner import agent_params, failed_devices


def status(*resources: str) -> etree._Element:
    states = "".join(
        f'<node_state id="{i}" uname="node{i}"><lrm id="{i}"><lrm_resources>{r}'
        "</lrm_resources></lrm></node_state>"
        for i, r in enumerate(resources, start=1)
    )
    return etree.fromstring(f"<cib><configuration/><status>{states}</status></cib>")


def device(ident: str, *ops: tuple[str, int, int], kind: str = "stonith") -> str:
    """ops: (operation, call id, rc)"""
    records = "".join(
        f'<lrm_rsc_op id="{ident}_{op}_{call}" operation="{op}" call-id="{call}" '
        f'rc-code="{rc}" op-status="0" interval="0"/>'
        for op, call, rc in ops
    )
    head = f'<lrm_resource id="{ident}" class="{kind}" type="fence_ipmilan">'
    return f"{head}{records}</lrm_resource>"


def test_the_latest_result_on_each_node_decides() -> None:
    root = status(
        device("f1", ("start", 3, 0), ("monitor", 7, 1))  # its monitor failed
        + device("f2", ("start", 4, 1), ("stop", 5, 0))  # stopped after its start failed
        + device("f5", ("start", 4, 0), ("stop", 5, 0))  # stopped cleanly: usable
        + device("f3", ("start", 2, 0), ("monitor", 9, 0))
        + device("d", ("start", 3, 1), kind="ocf"),  # not a fence device
        device("f4", ("start", 6, 1)) + device("f1x", ("monitor", 2, 1)),
    )
    assert failed_devices(root) == {"f1", "f2", "f4", "f1x"}


def test_recovered_on_another_node_is_usable() -> None:
    root = status(device("f1", ("monitor", 7, 1)), device("f1", ("start", 2, 0)))
    assert failed_devices(root) == set()


def test_the_agent_gets_no_pcmk_options() -> None:
    given = {"ip": "192.0.2.1", "pcmk_host_list": "n1", "crm_feature_set": "3.19.0"}
    assert agent_params(given) == {"ip": "192.0.2.1"}


def test_a_probe_finding_it_stopped_is_no_verdict() -> None:
    # f1 runs on node1 (which then left), node2 and node3 probed it: not started there
    root = status(
        device("f1", ("start", 3, 0)),
        device("f1", ("monitor", 2, 7)),
        device("f1", ("monitor", 2, 7)),
    )
    node1 = root.find("status/node_state")
    assert node1 is not None
    node1.set("in_ccm", "false")
    assert failed_devices(root) == set()


def test_what_was_lost_with_a_node_that_left_is_no_verdict() -> None:
    root = status(device("f1", ("start", 3, 1)), device("f2", ("monitor", 5, 1)))
    node1 = root.find("status/node_state")
    assert node1 is not None
    node1.set("in_ccm", "false")  # node1 left while its start of f1 was in flight
    node1.set("crmd", "offline")
    assert failed_devices(root) == {"f2"}
