"""votequorum is found like any third-party plugin: through its entry points."""

from __future__ import annotations

from typing import Any

import pytest

from hactl.core.config import ClusterConfig
from hactl.core.errors import PluginError, UsageError
from hactl.core.plugins import PluginHost


@pytest.mark.parametrize("name", ["corosync_votequorum", "votequorum"])
def test_provider_from_the_entry_point(name: str, make_conf: Any) -> None:
    config = ClusterConfig.from_text(make_conf(3, "wait_for_all: 1"), "t.conf")
    provider = PluginHost().quorum_provider(name, {"config": config, "nodeid": 2})
    messages = provider.membership_changed("2.1", frozenset({2}), 0)
    for message in messages:
        provider.deliver(2, provider.decode(provider.encode(message)), 0)
    provider.sync_completed(0)
    status = provider.status()
    assert (status.node_id, status.expected_votes, status.quorate) == (2, 3, False)
    assert status.members[0].name == "n2" and status.flags == ("WaitForAll",)


def test_provider_needs_a_config_and_a_node(make_conf: Any) -> None:
    with pytest.raises(UsageError, match="needs `nodeid`"):
        PluginHost().quorum_provider("votequorum", {})
    with pytest.raises(PluginError, match="no quorum plugin provides 'majority'"):
        PluginHost().quorum_provider("majority", {})
