"""The whole plugin contract of hactl.

A plugin is a module or an object whose functions are marked with ``@hookimpl`` and named
after the hooks below. It registers through an entry point in one of these namespaces; the
entry-point name is the name users write in configurations and commands::

    [project.entry-points."hactl.fencing"]
    fence_acme = "acme_hactl.fence"        # module with hactl_fence_agent(...)

    hactl.transports   udp, udpu, knet, memory      -> hactl_transport
    hactl.quorum       votequorum                   -> hactl_quorum_provider
    hactl.agents       ocf, lsb, systemd, service   -> hactl_agent_class
    hactl.fencing      fence_ipmilan, fence_sbd, …  -> hactl_fence_agent
    hactl.hooks        plugins that only listen to the events

Two kinds of hooks:

* first-result hooks produce a driver for a user-visible name: every plugin is asked in
  turn and the first that does not answer None wins. A catch-all plugin marks its
  implementation ``@hookimpl(trylast=True)`` so that specific plugins win;
* broadcast hooks tell every plugin about an event (membership, quorum, an operation result,
  a fencing result, a CIB change), or collect a list from every plugin. Their return values
  are ignored unless the hook says otherwise. A listener that raises is logged and skipped.

Implementations may accept any subset of a hook's arguments, so hooks can gain arguments
without breaking existing plugins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from hactl.core.drivers import AgentClass, FenceAgent, QuorumProvider, Transport
    from hactl.core.events import (
        CibChangeEvent,
        FenceEvent,
        MembershipEvent,
        OperationEvent,
        QuorumEvent,
    )

PROJECT = "hactl"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# ----------------------------------------------------------------- first-result: drivers


@hookspec(firstresult=True)
def hactl_transport(name: str, options: Mapping[str, Any]) -> Transport | None:
    """Return a transport for the ``totem.transport`` name ``name`` (udp, udpu, knet, …),
    configured from ``options`` (the totem section and the nodelist, as parsed), or None
    when this plugin does not provide that transport."""


@hookspec(firstresult=True)
def hactl_quorum_provider(name: str, options: Mapping[str, Any]) -> QuorumProvider | None:
    """Return a quorum provider for ``quorum.provider`` ``name`` (corosync_votequorum, …),
    configured from ``options`` (the quorum section and the nodelist), or None."""


@hookspec(firstresult=True)
def hactl_agent_class(standard: str) -> AgentClass | None:
    """Return the resource-agent class for ``standard``, the first part of an agent spec
    (``ocf`` in ``ocf:heartbeat:IPaddr2``), or None."""


@hookspec(firstresult=True)
def hactl_fence_agent(agent: str) -> FenceAgent | None:
    """Return a fence agent for the name users configure (``fence_ipmilan``), or None.
    A plugin that runs any program found on PATH implements this with ``trylast``."""


# ----------------------------------------------------------------- broadcast: listings


@hookspec
def hactl_list_agents() -> list[str]:  # type: ignore[empty-body]
    """Return the resource agents this plugin offers, as full specs
    (``ocf:heartbeat:Dummy``, ``lsb:atd``). Results of all plugins are merged."""


@hookspec
def hactl_list_fence_agents() -> list[str]:  # type: ignore[empty-body]
    """Return the fence agent names this plugin offers. Results of all plugins are merged."""


# ----------------------------------------------------------------- broadcast: events


@hookspec
def hactl_membership_changed(event: MembershipEvent) -> None:
    """A new cluster membership (ring) was installed on this node."""


@hookspec
def hactl_quorum_changed(event: QuorumEvent) -> None:
    """This node's partition gained or lost quorum, or its vote counts changed."""


@hookspec
def hactl_operation_result(event: OperationEvent) -> None:
    """A resource operation finished (successfully or not) on some node."""


@hookspec
def hactl_fence_result(event: FenceEvent) -> None:
    """A fencing request finished, successfully or not."""


@hookspec
def hactl_cib_changed(event: CibChangeEvent) -> None:
    """The CIB changed on this node; ``event`` carries the new version and the patch."""
