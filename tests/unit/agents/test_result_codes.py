"""Result-code mappings, as Pacemaker's lib/services does them."""

from __future__ import annotations

import pytest

from hactl.core.drivers import OcfRc, OperationStatus, notification_meta
from hactl.plugins.agents.lsb import lsb_result_code
from hactl.plugins.agents.ocf import meta_variable, ocf_result_code
from hactl.plugins.agents.systemd import active_state_result, unit_name


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0, 0),
        (1, 1),
        (6, 6),
        (7, 7),
        (8, 8),
        (9, 9),
        (190, 190),
        (191, 191),
        (10, 1),
        (42, 1),
        (189, 1),
        (192, 1),
        (255, 1),
    ],
)
def test_ocf_codes(code: int, expected: int) -> None:
    assert ocf_result_code(code) == expected


@pytest.mark.parametrize(
    ("action", "code", "expected"),
    [
        ("status", 0, OcfRc.SUCCESS),
        ("monitor", 1, OcfRc.NOT_RUNNING),  # dead, pid file left
        ("monitor", 2, OcfRc.NOT_RUNNING),  # dead, lock file left
        ("monitor", 3, OcfRc.NOT_RUNNING),
        ("monitor", 4, OcfRc.ERR_GENERIC),  # status unknown
        ("status", 150, OcfRc.ERR_INSTALLED),
        ("status", 151, OcfRc.ERR_PERM),
        ("start", 0, 0),
        ("start", 5, 5),
        ("stop", 7, 7),
        ("start", 8, OcfRc.ERR_GENERIC),
        ("start", 150, OcfRc.ERR_GENERIC),
    ],
)
def test_lsb_codes(action: str, code: int, expected: int) -> None:
    assert lsb_result_code(action, code) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("active", (OcfRc.SUCCESS, OperationStatus.DONE)),
        ("reloading", (OcfRc.SUCCESS, OperationStatus.DONE)),
        ("activating", (OcfRc.ERR_GENERIC, OperationStatus.PENDING)),
        ("deactivating", (OcfRc.ERR_GENERIC, OperationStatus.PENDING)),
        ("inactive", (OcfRc.NOT_RUNNING, OperationStatus.DONE)),
        ("failed", (OcfRc.NOT_RUNNING, OperationStatus.DONE)),
    ],
)
def test_systemd_states(state: str, expected: tuple[int, OperationStatus]) -> None:
    assert active_state_result(state) == expected


def test_names() -> None:
    assert unit_name("httpd") == "httpd.service"
    assert unit_name("web.socket") == "web.socket"
    assert meta_variable("clone-max") == "OCF_RESKEY_CRM_meta_clone_max"
    assert meta_variable("notify_start_resource") == "OCF_RESKEY_CRM_meta_notify_start_resource"


def test_notification_meta_as_pacemaker_formats_it() -> None:
    meta = notification_meta(
        "pre",
        "stop",
        {
            "stop": [("rabbitmq:0", "node1")],
            "active": [("rabbitmq:0", "node1"), ("rabbitmq:1", "node2")],
        },
        all_nodes=["node1", "node2"],
        available_nodes=["node1", "node2"],
    )
    assert meta["notify_type"] == meta["notify_key_type"] == "pre"
    assert meta["notify_operation"] == meta["notify_key_operation"] == "stop"
    assert meta["notify_stop_resource"] == "rabbitmq:0"
    assert meta["notify_stop_uname"] == "node1"
    assert meta["notify_active_resource"] == "rabbitmq:0 rabbitmq:1"
    assert meta["notify_active_uname"] == "node1 node2"
    assert meta["notify_start_resource"] == meta["notify_start_uname"] == " "  # empty: a space
    assert meta["notify_inactive_resource"] == " " and "notify_inactive_uname" not in meta
    assert meta["notify_master_resource"] == meta["notify_promoted_resource"] == " "
    assert meta["notify_slave_uname"] == meta["notify_unpromoted_uname"] == " "
    assert meta["notify_all_uname"] == "node1 node2"
    with pytest.raises(ValueError, match="unknown notification sets: begin"):
        notification_meta("pre", "start", {"begin": []})
