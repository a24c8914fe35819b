"""`hactl stonith`: fence agents and fence devices (pcs's `stonith` noun).

Sections, in order: agent discovery (list, describe), running one action locally (test),
and the SBD shared disks (sbd device ...). Device configuration in the CIB (create, update,
delete, level) joins as its own section. Every command reaches fence agents only through
the plugin host, so a third-party fence plugin is listed, described and tested the same way.

Secrets: parameter values whose names say they are secrets (password, passwd, ...) are
masked in every output unless --show-secrets is given; `--password-stdin` keeps a password
out of this command's own argv.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import typer

from hactl.core.cli import stonith_config, stonith_fencer
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.drivers import FenceAgent, FenceResult, SharedDiskAdmin, SharedDiskHeader
from hactl.core.errors import HactlError, PluginError, UsageError
from hactl.core.fencemeta import FenceAgentMetadata, mask_secrets
from hactl.core.plugins import PluginHost

app = typer.Typer(no_args_is_help=True, help="Fence agents, fence devices and SBD disks.")
sbd_app = typer.Typer(no_args_is_help=True, help="SBD (poison-pill fencing on shared disks).")
sbd_device_app = typer.Typer(no_args_is_help=True, help="Prepare and inspect SBD devices.")
app.add_typer(sbd_app, name="sbd")
sbd_app.add_typer(sbd_device_app, name="device")
stonith_config.register(app)
stonith_fencer.register(app)

DEFAULT_TIMEOUT_S = 20
METADATA_WORKERS = 16
#: exit codes of `stonith test --action status`, as fence agents use them
EXIT_OFF = 2


def parse_assignments(args: list[str], what: str = "parameter") -> dict[str, str]:
    """``name=value`` words into a dict; a word without ``=`` or a repeated name is an
    error naming it."""
    result: dict[str, str] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} {arg!r} is not name=value", hint="e.g. ip=192.0.2.10")
        if name in result:
            raise UsageError(f"{what} {name!r} is given twice", hint="give each one once")
        result[name] = value
    return result


def _agent(host: PluginHost, name: str) -> FenceAgent:
    return host.fence_agent(name)


def _metadata(agent: FenceAgent) -> FenceAgentMetadata:
    return FenceAgentMetadata.from_xml(agent.metadata(), source=agent.name)


# ---------------------------------------------------------------------------- agents


@app.command("list")
def list_agents(
    name_filter: str = typer.Argument(
        "", metavar="[FILTER]", help="Only agents whose name contains this."
    ),
    nodesc: bool = typer.Option(False, "--nodesc", help="Names only (no metadata is read)."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the fence agents available: bundled plugins, third-party plugins, and every
    fence_* program on PATH.

    Example: hactl stonith list ipmi
    """
    host = PluginHost()
    names = [n for n in host.list_fence_agents() if name_filter in n]

    def describe(name: str) -> dict[str, str]:
        if nodesc:
            return {"name": name}
        try:
            return {"name": name, "shortdesc": _metadata(_agent(host, name)).shortdesc}
        except HactlError as exc:
            return {"name": name, "shortdesc": f"(no metadata: {exc.message})"}

    with ThreadPoolExecutor(METADATA_WORKERS) as pool:  # external agents are programs
        rows = list(pool.map(describe, names))
    if output is OutputFormat.json:
        print_json(rows)
        return
    for row in rows:
        print(f"{row['name']} - {row['shortdesc']}" if "shortdesc" in row else row["name"])


@app.command("describe")
def describe_agent(
    agent: str = typer.Argument(..., help="Fence agent name, e.g. fence_ipmilan."),
    full: bool = typer.Option(False, "--full", help="Include deprecated parameters."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Show a fence agent's description, parameters and actions.

    Example: hactl stonith describe fence_ipmilan
    """
    meta = _metadata(_agent(PluginHost(), agent))
    if output is OutputFormat.json:
        print_json(meta.model_dump(mode="json"))
        return
    print(f"{meta.name} - {meta.shortdesc}")
    if meta.longdesc:
        print()
        print(meta.longdesc)
    print()
    print("Stonith options:")
    for spec in meta.parameters:
        if (spec.deprecated and not full) or spec.name == "action":
            continue
        flags = [
            f for f, on in (("required", spec.required), ("deprecated", spec.deprecated)) if on
        ]
        label = spec.name + (f" ({', '.join(flags)})" if flags else "")
        extra = []
        if spec.options:
            extra.append("one of " + ", ".join(spec.options))
        if spec.default not in (None, ""):
            extra.append(f"default {spec.default}")
        tail = f" [{'; '.join(extra)}]" if extra else ""
        print(f"  {label}: {spec.shortdesc}{tail}")
    print()
    print("Actions: " + ", ".join(meta.actions))


# ---------------------------------------------------------------------------- test


def _result_row(
    agent: str,
    action: str,
    target: str | None,
    params: dict[str, str],
    result: FenceResult,
    show_secrets: bool,
) -> dict[str, Any]:
    return {
        "agent": agent,
        "action": action,
        "target": target,
        "params": params if show_secrets else mask_secrets(params),
        **asdict(result),
    }


@app.command("test")
def test_device(
    agent: str = typer.Argument(..., help="Fence agent name, e.g. fence_ipmilan."),
    params: list[str] = typer.Argument(
        None, metavar="[PARAM=VALUE]...", help="The device's parameters."
    ),
    action: str = typer.Option(
        "status", "--action", "-a", help="on, off, reboot, status, list or monitor."
    ),
    target: str = typer.Option(None, "--target", help="The node to act on."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT_S, "--timeout", help="Seconds."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the password from the first line of stdin (keeps it out of argv).",
    ),
    show_secrets: bool = typer.Option(
        False, "--show-secrets", help="Show secret parameter values in the output."
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Run one action of a fence agent here, with the parameters given, and report what
    the device answered. Exit status as fence agents use it: 0 success (status: on),
    2 status: off, 1 failure.

    Example: hactl stonith test fence_ipmilan --action status ip=10.0.0.5 username=admin
    lanplus=1 --password-stdin
    """
    given = parse_assignments(params or [])
    if password_stdin:
        if "password" in given or "passwd" in given:
            raise UsageError(
                "the password is given both in arguments and on stdin",
                hint="keep --password-stdin only",
            )
        given["password"] = sys.stdin.readline().rstrip("\n")
    if timeout <= 0:
        raise UsageError(f"--timeout {timeout} must be positive")
    fence_agent = _agent(PluginHost(), agent)
    fence_agent.validate(given)
    result = asyncio.run(fence_agent.execute(action, given, target, int(timeout * 1000)))
    row = _result_row(agent, action, target, given, result, show_secrets)
    if output is OutputFormat.json:
        print_json(row)
    elif result.succeeded:
        if action == "list":
            for name in result.targets:
                print(name)
        if action in ("status", "monitor") and result.power_state:
            outcome = result.power_state.upper()  # what fence agents print: Status: ON
        else:
            outcome = "succeeded" + (f", now {result.power_state}" if result.power_state else "")
        print(f"{agent} {action}: {outcome} ({result.duration_ms} ms)")
    if not result.succeeded:
        if output is OutputFormat.json:
            raise typer.Exit(1)
        reason = result.output.strip().splitlines()[-1] if result.output.strip() else "no output"
        raise HactlError(
            f"{agent} {action} failed: {reason}",
            hint="check the device's address, credentials and state",
        )
    if action == "status" and result.power_state == "off":
        raise typer.Exit(EXIT_OFF)


# ---------------------------------------------------------------------------- sbd


def _sbd_admin() -> SharedDiskAdmin:
    agent = _agent(PluginHost(), "fence_sbd")
    if not isinstance(agent, SharedDiskAdmin):
        raise PluginError(
            f"the fence_sbd plugin ({type(agent).__name__}) cannot administer SBD devices",
            hint="see `hactl plugins list --category fencing`",
        )
    return agent


def _dump_lines(header: SharedDiskHeader) -> list[str]:
    """The header as `sbd dump` prints it."""
    t = header.timeouts
    lines = [f"==Dumping header on disk {header.device}", f"Header version     : {header.version}"]
    if header.uuid:
        lines.append(f"UUID               : {header.uuid}")
    lines += [
        f"Number of slots    : {header.slots}",
        f"Sector size        : {header.sector_size}",
        f"Timeout (watchdog) : {t['watchdog']}",
        f"Timeout (allocate) : {t['allocate']}",
        f"Timeout (loop)     : {t['loop']}",
        f"Timeout (msgwait)  : {t['msgwait']}",
        f"==Header on disk {header.device} is dumped",
    ]
    return lines


SETUP_KEYS = {
    "watchdog-timeout": "watchdog",
    "allocate-timeout": "allocate",
    "loop-timeout": "loop",
    "msgwait-timeout": "msgwait",
}


@sbd_device_app.command("setup")
def sbd_setup(
    args: list[str] = typer.Argument(
        None,
        metavar="device=PATH... [OPTION=SECONDS]...",
        help="device= (1 to 3), watchdog-timeout=, "
        "allocate-timeout=, loop-timeout=, msgwait-timeout=.",
    ),
    sector_size: int = typer.Option(
        512,
        "--sector-size",
        help="512 or 4096; image files only (a block device's own size is used).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite devices that already hold an SBD header."
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Initialise SBD devices: a header with the timeouts and 255 empty slots, in the
    format of the sbd tool. msgwait defaults to twice the watchdog timeout.

    Example: hactl stonith sbd device setup device=/dev/sdb watchdog-timeout=5
    """
    devices: list[str] = []
    timeouts: dict[str, int] = {}
    for arg in args or []:
        name, sep, value = arg.partition("=")
        if name == "device" and sep and value:
            devices.append(value)
        elif name in SETUP_KEYS and sep:
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"{name}={value!r} must be a whole number of seconds >= 1")
            timeouts[SETUP_KEYS[name]] = int(value)
        else:
            raise UsageError(
                f"unknown setup option {arg!r}",
                hint="device=PATH, " + ", ".join(f"{k}=N" for k in SETUP_KEYS),
            )
    if not 1 <= len(devices) <= 3:
        raise UsageError(f"{len(devices)} devices given", hint="give 1 to 3 device=PATH")
    if sector_size not in (512, 4096):
        raise UsageError(f"--sector-size {sector_size} is not 512 or 4096")
    timeouts.setdefault("watchdog", 5)
    timeouts.setdefault("allocate", 2)
    timeouts.setdefault("loop", 1)
    timeouts.setdefault("msgwait", 2 * timeouts["watchdog"])
    admin = _sbd_admin()
    if not force:
        for device in devices:
            try:
                admin.header(device)
            except HactlError:
                continue  # not initialised (or unreadable: setup will say why)
            raise UsageError(
                "already holds an SBD header",
                where=device,
                hint="--force overwrites it (every node's slot is lost)",
            )
    headers = [admin.setup(device, timeouts, sector_size) for device in devices]
    if output is OutputFormat.json:
        print_json([asdict(h) for h in headers])
        return
    for header in headers:
        print(
            f"Initialized {header.device}: uuid {header.uuid}, {header.sector_size}-byte "
            f"sectors, msgwait {header.timeouts['msgwait']} s"
        )


@sbd_device_app.command("dump")
def sbd_dump(
    devices: list[str] = typer.Argument(..., metavar="DEVICE..."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Print the header of SBD devices (what `sbd dump` prints).

    Example: hactl stonith sbd device dump /dev/sdb
    """
    admin = _sbd_admin()
    headers = [admin.header(device) for device in devices]
    if output is OutputFormat.json:
        print_json([asdict(h) for h in headers])
        return
    for header in headers:
        print("\n".join(_dump_lines(header)))


@sbd_device_app.command("list")
def sbd_list(
    devices: list[str] = typer.Argument(..., metavar="DEVICE..."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Print the allocated slots with their last message and its sender (what `sbd list`
    prints: slot, node, message, sender, tab-separated).

    Example: hactl stonith sbd device list /dev/sdb
    """
    admin = _sbd_admin()
    listing = {device: admin.slots(device) for device in devices}
    if output is OutputFormat.json:
        print_json(
            [{"device": d, "slots": [asdict(s) for s in slots]} for d, slots in listing.items()]
        )
        return
    for device, slots in listing.items():
        if len(devices) > 1:
            print(f"=={device}")
        for slot in slots:
            print(f"{slot.index}\t{slot.node}\t{slot.message}\t{slot.sender}")


@sbd_device_app.command("allocate")
def sbd_allocate(
    device: str = typer.Argument(...),
    node: str = typer.Argument(...),
) -> None:
    """Give a node a slot on an SBD device (it keeps the one it has).

    Example: hactl stonith sbd device allocate /dev/sdb node1
    """
    index = _sbd_admin().allocate(device, node)
    print(f"{node} has slot {index} on {device}")


@sbd_device_app.command("message")
def sbd_message(
    device: str = typer.Argument(..., help="Device path; several separated by commas."),
    node: str = typer.Argument(...),
    message: str = typer.Argument(..., help="test, reset, off, crashdump, exit or clear."),
    sender: str = typer.Option(None, "--sender", help="Sender name (default: host name)."),
    wait: bool = typer.Option(
        True,
        "--wait/--no-wait",
        help="Wait msgwait afterwards, as sbd does, so that a fenced node is down on return.",
    ),
) -> None:
    """Write a message into a node's mailbox (what `sbd message` does).

    Example: hactl stonith sbd device message /dev/sdb node2 test
    """
    devices = [d for d in device.split(",") if d]
    written = asyncio.run(
        _sbd_admin().message(devices, node, message, sender or socket.gethostname(), wait)
    )
    print(f"{message} sent to {node} on " + ", ".join(written))


@sbd_device_app.command("status")
def sbd_status(
    devices: list[str] = typer.Argument(..., metavar="DEVICE..."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Check that each SBD device is readable and initialised, and show its slots.
    Exits 1 when any device is unhealthy.

    Example: hactl stonith sbd device status /dev/sdb /dev/sdc
    """
    admin = _sbd_admin()
    report: list[dict[str, Any]] = []
    for device in devices:
        try:
            header = admin.header(device)
            slots = admin.slots(device)
        except HactlError as exc:
            report.append(
                {
                    "device": device,
                    "status": "unhealthy",
                    "reason": exc.message,
                    "header": None,
                    "slots": [],
                }
            )
            continue
        report.append(
            {
                "device": device,
                "status": "healthy",
                "reason": "",
                "header": asdict(header),
                "slots": [asdict(s) for s in slots],
            }
        )
    if output is OutputFormat.json:
        print_json(report)
    else:
        for entry in report:
            header = entry["header"]
            detail = (
                f"uuid {header['uuid']}, {len(entry['slots'])} slot(s) allocated, "
                f"msgwait {header['timeouts']['msgwait']} s"
                if header
                else entry["reason"]
            )
            print(f"{entry['device']}: {entry['status']} ({detail})")
            if entry["slots"]:
                print_table(entry["slots"], ["index", "node", "message", "sender"])
    if any(e["status"] != "healthy" for e in report):
        raise typer.Exit(1)
