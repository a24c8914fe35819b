"""The ``libvirt`` fence plugin against libvirt's test driver (``test:///default``: a real
libvirt connection, in-process, whose one domain ``test`` starts running). The driver keeps
its state only while a connection is open in the process, so each test holds one open and
checks through it what the plugin did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from hactl.core.errors import ValidationError
from hactl.core.plugins import PluginHost

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra: libvirt)")

URI = "test:///default"


@pytest.fixture
def hypervisor() -> Iterator[Any]:
    connection = libvirt.open(URI)
    try:
        yield connection
    finally:
        connection.close()


def run(action: str, target: str | None = "test", **params: str):  # type: ignore[no-untyped-def]
    agent = PluginHost().fence_agent("fence_virsh")
    options = {"uri": URI, "power_wait": "0", "stonith_status_sleep": "0.1", **params}
    return asyncio.run(agent.execute(action, options, target, 20_000))


def test_off_status_on_reboot(hypervisor: Any) -> None:
    domain = hypervisor.lookupByName("test")
    assert domain.isActive()
    assert run("status").power_state == "on"

    off = run("off")
    assert (off.succeeded, off.power_state) == (True, "off")
    assert not domain.isActive()
    assert run("status").power_state == "off"

    on = run("on")
    assert (on.succeeded, on.power_state) == (True, "on") and domain.isActive()

    before = hypervisor.lookupByName("test").ID()  # a domain object caches its id
    rebooted = run("reboot")
    assert rebooted.succeeded and domain.isActive()
    assert hypervisor.lookupByName("test").ID() != before  # destroyed and created again


def test_plug_names_the_domain_and_list_finds_it(hypervisor: Any) -> None:
    assert run("status", target="other-node", plug="test").power_state == "on"
    listed = run("list", target=None)
    assert listed.succeeded and listed.targets == ("test",)
    assert run("monitor", target=None).succeeded


def test_an_unknown_domain_fails_with_its_name(hypervisor: Any) -> None:
    result = run("off", target="nosuchvm")
    assert not result.succeeded and "no domain 'nosuchvm'" in result.output


def test_an_unreachable_hypervisor_fails() -> None:
    result = run("status", uri="test:///nonexistent/file.xml")
    assert not result.succeeded and "cannot connect" in result.output


def test_parameters_are_checked() -> None:
    agent = PluginHost().fence_agent("fence_libvirt")
    with pytest.raises(ValidationError, match="needs 'uri'"):
        agent.validate({"plug": "vm1"})
    with pytest.raises(ValidationError):
        agent.validate({"uri": URI, "hypervisor": "x"})


def test_fence_virsh_style_parameters_make_an_ssh_uri() -> None:
    from hactl.plugins.fencing.libvirt import connection_uri

    assert connection_uri({"ip": "h1", "username": "root", "ipport": "2222"}) == (
        "qemu+ssh://root@h1:2222/system"
    )
