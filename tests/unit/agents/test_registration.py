"""The bundled agent classes are found through their entry points, as a third party's are."""

from __future__ import annotations

from hactl.core.plugins import PluginHost
from hactl.plugins.agents.lsb import LsbAgentClass
from hactl.plugins.agents.ocf import OcfAgentClass
from hactl.plugins.agents.service import ServiceAgentClass
from hactl.plugins.agents.systemd import SystemdAgentClass


def test_each_standard_comes_from_its_entry_point() -> None:
    host = PluginHost()
    records = {r.name: r for r in host.load("agents")}
    for name in ("ocf", "lsb", "systemd", "service"):
        assert records[name].status == "loaded", records[name]
        assert records[name].distribution == "hactl"
    assert isinstance(host.agent_class("ocf"), OcfAgentClass)
    assert isinstance(host.agent_class("lsb"), LsbAgentClass)
    assert isinstance(host.agent_class("systemd"), SystemdAgentClass)
    assert isinstance(host.agent_class("service"), ServiceAgentClass)
    assert {"ocf:hactl:Dummy", "ocf:hactl:Stateful"} <= set(host.list_agents())
