"""Result-code mappings, as Pacemaker's lib/services does them."""

from __future__ import annotations

import pytest

from hactl.core.drivers import OcfRc, OperationStatus
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
