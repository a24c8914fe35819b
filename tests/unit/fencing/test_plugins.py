"""The bundled fence plugins as the plugin host sees them: every entry point loads, each
name gives its own driver, and each driver's metadata is well-formed and self-consistent."""

from __future__ import annotations

import importlib.util

import pytest

from hactl.core.drivers import SharedDiskAdmin
from hactl.core.fencemeta import FenceAgentMetadata
from hactl.core.plugins import PluginHost

BUNDLED = {
    "fence_ipmilan": "IpmiFenceAgent",
    "fence_ipmilanplus": "IpmiFenceAgent",
    "fence_sbd": "SbdFenceAgent",
    "fence_virsh": "LibvirtFenceAgent",
    "fence_libvirt": "LibvirtFenceAgent",
}


def test_every_fencing_entry_point_loads() -> None:
    records = {r.name: r for r in PluginHost().load("fencing")}
    for name in [*BUNDLED, "external"]:
        if name in ("fence_virsh", "fence_libvirt") and not importlib.util.find_spec("libvirt"):
            continue
        assert records[name].status == "loaded", records[name].reason


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_each_name_gives_its_driver_with_sound_metadata(name: str) -> None:
    if "virsh" in name or "libvirt" in name:
        pytest.importorskip("libvirt", reason="libvirt-python is not installed")
    agent = PluginHost().fence_agent(name)
    assert type(agent).__name__ == BUNDLED[name] and agent.name == name
    meta = FenceAgentMetadata.from_xml(agent.metadata(), source=name)
    assert meta.name == name and meta.shortdesc
    names = [p.name for p in meta.parameters]
    assert len(names) == len(set(names)), "a parameter is declared twice"
    for spec in meta.parameters:
        if spec.obsoletes:
            assert meta.parameter(spec.obsoletes) is not None, spec.name
        if spec.default is not None:
            assert spec.problem_with(spec.default) is None, spec.name
    assert {"off", "status", "monitor", "metadata"} <= set(meta.actions)


def test_only_fence_sbd_administers_shared_disks() -> None:
    host = PluginHost()
    assert isinstance(host.fence_agent("fence_sbd"), SharedDiskAdmin)
    assert not isinstance(host.fence_agent("fence_ipmilan"), SharedDiskAdmin)


def test_the_listing_merges_every_plugin() -> None:
    listed = PluginHost().list_fence_agents()
    assert {"fence_ipmilan", "fence_ipmilanplus", "fence_sbd"} <= set(listed)
    assert listed == sorted(set(listed))
