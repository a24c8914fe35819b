"""Fence plugin ``libvirt`` (agent names fence_virsh, fence_libvirt): virtual machines as
cluster nodes, powered through libvirt (libvirt-python).

``uri`` names the hypervisor (``qemu:///system``, ``qemu+ssh://root@host/system``,
``test:///default``); without it, fence_virsh's ``ip`` (and ``username``) make a
``qemu+ssh`` URI. ``plug`` (or the target node) is the domain name. A password, when the
transport asks libvirt for one, is answered from memory through libvirt's auth callback.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.errors import Problem, ValidationError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.fencing.common import (
    BuiltinFenceAgent,
    FenceDeviceError,
    action_param,
    in_daemon_thread,
    param,
    standard_params,
    target_params,
    wanted_target,
)

if TYPE_CHECKING:
    from hactl.core.fencemeta import FenceAgentMetadata


def _metadata(name: str) -> FenceAgentMetadata:
    from hactl.core.fencemeta import FenceAgentMetadata

    return FenceAgentMetadata(
        name=name,
        shortdesc="Fence agent for virtual machines through libvirt",
        longdesc="Destroys (off), creates (on) or destroys and creates (reboot) a libvirt "
        "domain named by plug, on the hypervisor named by uri (or reached over SSH at ip).",
        parameters=(
            action_param(),
            param("uri", "libvirt connection URI (qemu:///system, qemu+ssh://host/system)"),
            param("ip", "Hypervisor host, when no uri is given (qemu+ssh)", obsoletes="ipaddr"),
            param("ipaddr", "Hypervisor host", deprecated=True),
            param("ipport", "SSH port of the hypervisor host", "integer"),
            param("username", "Login name on the hypervisor", obsoletes="login"),
            param("login", "Login name", deprecated=True),
            param(
                "password",
                "Login password, when the transport asks libvirt for one",
                obsoletes="passwd",
            ),
            param("passwd", "Login password", deprecated=True),
            param("identity_file", "Identity file (private key) for SSH"),
            param("ssh", "Use SSH connection (always, for ip)", "boolean", default="1"),
            *target_params(),
            *standard_params(),
        ),
        actions=("on", "off", "reboot", "status", "list", "monitor", "metadata", "validate-all"),
    )


def connection_uri(options: Mapping[str, str]) -> str:
    """The URI to open: ``uri``, or qemu+ssh to ``ip`` as ``username``."""
    if options.get("uri"):
        return options["uri"]
    user = f"{options['username']}@" if options.get("username") else ""
    port = f":{options['ipport']}" if options.get("ipport") else ""
    query = f"?keyfile={options['identity_file']}" if options.get("identity_file") else ""
    return f"qemu+ssh://{user}{options['ip']}{port}/system{query}"


class LibvirtFenceAgent(BuiltinFenceAgent):
    def __init__(self, name: str) -> None:
        self.name = name
        self.meta = _metadata(name)

    def validate(self, params: Mapping[str, str]) -> None:
        super().validate(params)
        options = self.meta.canonical(params)
        if not options.get("uri") and not options.get("ip"):
            raise ValidationError(
                [
                    Problem(
                        f"{self.name} needs 'uri' (or 'ip')",
                        where=self.name,
                        hint="e.g. uri=qemu:///system",
                    )
                ],
                subject=f"{self.name} parameters",
            )

    async def run(self, action: str, options: Mapping[str, str], target: str | None) -> FenceResult:
        return await in_daemon_thread(self._run_blocking, action, options, target)

    def _run_blocking(
        self, action: str, options: Mapping[str, str], target: str | None
    ) -> FenceResult:
        uri = connection_uri(options)
        lv = _libvirt()
        connection = self._open(uri, options)
        try:
            if action == "monitor":
                connection.getLibVersion()
                return FenceResult(True, "on", f"{uri} answers")
            if action == "list":
                names = tuple(sorted(d.name() for d in connection.listAllDomains()))
                return FenceResult(True, output="\n".join(names), targets=names)
            domain = self._domain(connection, wanted_target(options, target, "domain"))
            if action == "status":
                state = "on" if domain.isActive() else "off"
                return FenceResult(True, state, f"Status: {state.upper()}")
            if action in ("off", "reboot") and domain.isActive():
                domain.destroy()  # a hard power-off: fencing must not wait for the guest
            self._wait(domain, False, options)
            if action == "off":
                return FenceResult(True, "off", "Success: Powered OFF")
            if not domain.isActive():
                domain.create()
            self._wait(domain, True, options)
            return FenceResult(
                True, "on", "Success: Powered ON" if action == "on" else "Success: Rebooted"
            )
        except lv.libvirtError as exc:
            raise FenceDeviceError(f"{uri}: {exc.get_error_message()}") from None
        finally:
            connection.close()

    def _open(self, uri: str, options: Mapping[str, str]) -> Any:
        lv = _libvirt()
        credentials = [lv.VIR_CRED_AUTHNAME, lv.VIR_CRED_PASSPHRASE]

        def answer(creds: list[list[Any]], _data: object) -> int:
            for cred in creds:
                if cred[0] == lv.VIR_CRED_AUTHNAME:
                    cred[4] = options.get("username", "")
                elif cred[0] == lv.VIR_CRED_PASSPHRASE:
                    cred[4] = options.get("password", "")
            return 0

        try:
            return lv.openAuth(uri, [credentials, answer, None], 0)
        except lv.libvirtError as exc:
            raise FenceDeviceError(f"{uri}: cannot connect: {exc.get_error_message()}") from None

    @staticmethod
    def _domain(connection: Any, name: str) -> Any:
        try:
            return connection.lookupByName(name)
        except _libvirt().libvirtError:
            raise FenceDeviceError(f"no domain {name!r} on {connection.getURI()}") from None

    @staticmethod
    def _wait(domain: Any, active: bool, options: Mapping[str, str]) -> None:
        deadline = time.monotonic() + float(options.get("power_timeout", "20"))
        while bool(domain.isActive()) != active:
            if time.monotonic() >= deadline:
                raise FenceDeviceError(
                    f"domain {domain.name()} still {'off' if active else 'on'} after "
                    f"{options.get('power_timeout', '20')} s"
                )
            time.sleep(float(options.get("stonith_status_sleep", "1")))
        time.sleep(float(options.get("power_wait", "0")))


@functools.cache
def _libvirt() -> ModuleType:
    """libvirt-python, imported on first use: listing plugins must not pay for it."""
    import libvirt

    # libvirt prints every error on stderr unless a handler takes them; ours are reported
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt


@hookimpl
def hactl_fence_agent(agent: str) -> FenceAgent | None:
    return LibvirtFenceAgent(agent) if agent in ("fence_virsh", "fence_libvirt") else None


@hookimpl
def hactl_list_fence_agents() -> list[str]:
    return ["fence_libvirt", "fence_virsh"]
