"""`hactl quorum`: the quorum configuration, and what votequorum decides for a membership.

Until the node daemon runs, the commands that need a live cluster (status, expected-votes,
unblock) work on a corosync.conf and a membership given on the command line: the quorum
provider is run for that membership exactly as the daemon will run it, each node's messages
exchanged in one agreed order, and its answer is printed. `quorum config` and
`quorum update` work on the file and need nothing running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import typer

from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.config import ClusterConfig, check, votequorum_settings
from hactl.core.config.quorum import update_quorum_options
from hactl.core.config.rules import QUORUM_PROVIDERS, Findings
from hactl.core.daemon import paths
from hactl.core.drivers import QuorumProvider, QuorumStatus
from hactl.core.errors import ConfigError, HactlError, UsageError, ValidationError
from hactl.core.plugins import PluginHost

#: where hactl's daemon reads the cluster configuration (HACTL_CONFIG_DIR moves it)
DEFAULT_CONF = str(paths.config_dir() / paths.CONFIG_NAME)
NOT_QUORATE_EXIT = 2  # corosync-quorumtool -s: 0 quorate, 2 not quorate

app = typer.Typer(no_args_is_help=True, help="Quorum configuration and state.")

CONF_OPTION = typer.Option(DEFAULT_CONF, "--corosync-conf", "-c", help="The corosync.conf to use.")
MEMBERS_OPTION = typer.Option(
    None,
    "--members",
    "-m",
    help="Nodeids in this node's partition, comma-separated (default: every node).",
)
NODE_OPTION = typer.Option(None, "--node", "-n", help="The local node (default: lowest member).")


# ---------------------------------------------------------------------- running a partition


def _parse_members(text: str, where: str) -> frozenset[int]:
    try:
        members = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(
            f"{text!r} is not a list of nodeids", where=where, hint="write e.g. 1,2,3"
        ) from None
    if not members:
        raise UsageError("no nodeids given", where=where, hint="write e.g. 1,2,3")
    return members


class OfflinePartition:
    """One partition's quorum providers, driven the way the daemon drives them over totem:
    every member gets the ring, every message reaches every member in one order, then the
    sync completes. The clock is virtual (``advance``)."""

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.host = PluginHost()
        quorum = config.quorum
        self.provider_name = quorum.provider if quorum and quorum.provider else ""
        if self.provider_name not in QUORUM_PROVIDERS:
            raise ConfigError(
                "no votequorum provider configured",
                where=f"{config.source}: quorum.provider",
                hint="add `quorum { provider: corosync_votequorum }`",
            )
        self.known = {
            (node.nodeid if node.nodeid is not None else index + 1): node.label
            for index, node in enumerate(config.nodelist)
        }
        self.nodes: dict[int, QuorumProvider] = {}
        self.members: frozenset[int] = frozenset()
        self.now = 0
        self.ring = 0

    def _provider(self, nodeid: int) -> QuorumProvider:
        if nodeid not in self.nodes:
            self.nodes[nodeid] = self.host.quorum_provider(
                self.provider_name, {"config": self.config, "nodeid": nodeid}
            )
        return self.nodes[nodeid]

    def form(self, members: frozenset[int], where: str) -> None:
        unknown = sorted(members - set(self.known)) if self.known else []
        if unknown:
            raise UsageError(
                f"node {unknown[0]} is not in the nodelist",
                where=where,
                hint="nodeids: " + ", ".join(map(str, sorted(self.known))),
            )
        for gone in self.members - members:
            del self.nodes[gone]  # down: a node that comes back starts afresh
        self.members = members
        self.ring += 1
        ring_id = f"{min(members)}.{self.ring:x}"
        queue: list[tuple[int, object]] = []
        for nodeid in sorted(members):
            for message in self._provider(nodeid).membership_changed(ring_id, members, self.now):
                queue.append((nodeid, message))
        self.exchange(queue)
        for nodeid in sorted(members):
            self.nodes[nodeid].sync_completed(self.now)

    def exchange(self, queue: list[tuple[int, object]]) -> None:
        while queue:
            sender, message = queue.pop(0)
            data = self.nodes[sender].encode(message)
            for nodeid in sorted(self.members):
                node = self.nodes[nodeid]
                queue.extend((nodeid, m) for m in node.deliver(sender, node.decode(data), self.now))

    def advance(self, ms: int) -> None:
        end = self.now + ms
        while True:
            due = sorted(
                (deadline, nodeid)
                for nodeid, node in self.nodes.items()
                if (deadline := node.next_deadline()) is not None and deadline <= end
            )
            if not due:
                break
            self.now, nodeid = max(self.now, due[0][0]), due[0][1]
            self.exchange([(nodeid, m) for m in self.nodes[nodeid].timer_expired(self.now)])
        self.now = end

    def request(self, nodeid: int, action: Callable[[QuorumProvider], list[object]]) -> None:
        """A runtime change asked on ``nodeid`` (refusals raise), then applied everywhere."""
        self.exchange([(nodeid, m) for m in action(self.nodes[nodeid])])


def _load(conf: str) -> tuple[ClusterConfig, Findings]:
    config = ClusterConfig.load(conf)
    findings = check(config)
    findings.raise_errors(f"cluster configuration {conf}")
    return config, findings


def _partition(
    conf: str, members_text: str | None, node: int | None
) -> tuple[OfflinePartition, int]:
    config, _ = _load(conf)
    partition = OfflinePartition(config)
    members = (
        _parse_members(members_text, "--members")
        if members_text
        else frozenset(partition.known) or frozenset({1})
    )
    local = node if node is not None else min(members)
    if local not in members:
        raise UsageError(
            f"node {local} is not among the members", where="--node", hint="pick a member"
        )
    partition.form(members, "--members")
    return partition, local


# ---------------------------------------------------------------------- output


def status_text(status: QuorumStatus) -> str:
    """corosync-quorumtool -s, line for line."""
    lines = [
        "Quorum information",
        "------------------",
        f"Date:             {time.strftime('%a %b %d %H:%M:%S %Y')}",
        f"Quorum provider:  {status.provider}",
        f"Nodes:            {len(status.members)}",
        f"Node ID:          {status.node_id}",
        f"Ring ID:          {status.ring_id}",
        f"Quorate:          {'Yes' if status.quorate else 'No'}",
        "",
        "Votequorum information",
        "----------------------",
        f"Expected votes:   {status.expected_votes}",
        f"Highest expected: {status.highest_expected}",
        f"Total votes:      {status.total_votes}",
        f"Quorum:           {status.quorum} {' ' if status.quorate else 'Activity blocked'}",
        "Flags:            " + "".join(f"{flag} " for flag in status.flags),
        "",
        "Membership information",
        "----------------------",
    ]
    show_qdevice = any(m.qdevice != "NR" for m in status.members)
    header = f"{'Nodeid':>10} {'Votes':>10} " + (f"{'Qdevice':>10} " if show_qdevice else "")
    lines.append(header + "Name")
    for member in status.members:
        row = f"{member.nodeid:>10} {member.votes:>10} "
        if show_qdevice:
            row += f"{member.qdevice:>10} "
        lines.append(row + member.name + (" (local)" if member.local else ""))
    if show_qdevice:
        # the device's pseudo-row: its votes only while it votes for this node, as
        # corosync-quorumtool shows it
        local = next((m for m in status.members if m.local), None)
        casting = local is not None and ",V," in f",{local.qdevice},"
        row = f"{0:>10} {status.qdevice_votes if casting else 0:>10}            "
        row += status.qdevice_name
        lines.append(row if casting else f"{row} (votes {status.qdevice_votes})")
    return "\n".join(lines)


def _status_json(status: QuorumStatus) -> dict[str, Any]:
    data = asdict(status)
    data["members"] = [asdict(m) for m in status.members]
    return data


def _show(status: QuorumStatus, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        print_json(_status_json(status))
    else:
        print(status_text(status))


# ---------------------------------------------------------------------- commands


@app.command("status")
def status(
    conf: str = CONF_OPTION,
    members: str = typer.Option(
        None,
        "--members",
        "-m",
        help="Offline: nodeids in this node's partition, comma-separated (without it, the "
        "running cluster is asked).",
    ),
    node: int = NODE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """What corosync-quorumtool -s prints for the local node: quorum information,
    votequorum information (expected, highest expected and total votes, quorum, flags)
    and the membership with votes. Exit code 0 when quorate, 2 when not (as
    corosync-quorumtool).

    Without --members, asks the running cluster (the hactl daemon of this node). With
    --members, runs votequorum offline on the corosync.conf for that membership: "what
    would this node say if only these nodes were up".

    Examples: `hactl quorum status` (live);
    `hactl quorum status -c corosync.conf --members 1,2 --node 1` (offline)
    """
    if members is None:
        from hactl.core.daemon.client import quorum_status

        answer = quorum_status()
    else:
        partition, local = _partition(conf, members, node)
        answer = partition.nodes[local].status()
    _show(answer, output)
    if not answer.quorate:
        raise typer.Exit(NOT_QUORATE_EXIT)


@app.command("calc")
def calc(
    memberships: list[str] = typer.Argument(
        ..., help="Successive memberships of the local partition, e.g. 1,2,3 1,2"
    ),
    conf: str = CONF_OPTION,
    node: int = NODE_OPTION,
    gap_ms: int = typer.Option(
        0, "--gap-ms", help="Virtual time between two memberships (last_man_standing_window)."
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Run votequorum over a sequence of memberships and show, after each, whether the
    local node is quorate, the expected votes, total votes, quorum and flags. Pure: nothing
    runs but the arithmetic, so it answers "what would happen if…".

    Example: hactl quorum calc -c corosync.conf 1,2,3,4,5 1,2,3 1,2 --gap-ms 10000
    """
    config, _ = _load(conf)
    partition = OfflinePartition(config)
    parsed = [_parse_members(text, f"membership {i + 1}") for i, text in enumerate(memberships)]
    local = node if node is not None else min(parsed[0])
    rows: list[dict[str, Any]] = []
    for index, members in enumerate(parsed):
        where = f"membership {index + 1}"
        if local not in members:
            raise UsageError(
                f"the local node {local} is not in {','.join(map(str, sorted(members)))}",
                where=where,
                hint="every membership must contain the local node (--node)",
            )
        if index:
            partition.advance(gap_ms)
        partition.form(members, where)
        answer = partition.nodes[local].status()
        rows.append(
            {
                "step": index + 1,
                "members": ",".join(map(str, sorted(members))),
                "quorate": answer.quorate,
                "expected": answer.expected_votes,
                "total": answer.total_votes,
                "quorum": answer.quorum,
                "flags": " ".join(answer.flags),
            }
        )
    if output is OutputFormat.json:
        print_json(rows)
    else:
        print_table(rows, ["step", "members", "quorate", "expected", "total", "quorum", "flags"])


@app.command("config")
def config_command(conf: str = CONF_OPTION, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show the quorum options of the configuration (as `pcs quorum config`), what
    votequorum will make of them, and Corosync's warnings about them.

    Example: hactl quorum config -c /etc/corosync/corosync.conf --output json
    """
    config, findings = _load(conf)
    quorum = config.quorum
    options = {
        key: opt.value
        for key, opt in (
            (o.key, o) for s in config.document.sections("quorum") for o in s.options()
        )
    }
    options.pop("provider", None)
    settings = votequorum_settings(config)
    device = quorum.device if quorum else None
    warnings = [str(p) for p in findings.warnings if "quorum" in (p.where or "")]
    if output is OutputFormat.json:
        print_json(
            {
                "provider": quorum.provider if quorum else None,
                "options": options,
                "device": device.model_dump(exclude={"other"}) if device else None,
                "effective": asdict(settings),
                "warnings": warnings,
            }
        )
        return
    print("Options:")
    for key, value in options.items():
        print(f"  {key}: {value}")
    if device is not None:
        print("Device:")
        print(f"  Model: {device.model}")
        for key, value in device.net.items():
            print(f"    {key}: {value}")
    print("Effective:")
    print(f"  expected_votes: {settings.expected_votes}")
    for key in ("two_node", "wait_for_all", "last_man_standing", "allow_downscale"):
        print(f"  {key}: {int(getattr(settings, key))}")
    atb = settings.auto_tie_breaker
    nodes = " ".join(map(str, settings.auto_tie_breaker_nodes))
    print(f"  auto_tie_breaker: {atb if atb != 'list' else nodes}")
    for line in warnings:
        print(f"Warning: {line}")


def _parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(
                f"{item!r} is not name=value", where="quorum update", hint="e.g. wait_for_all=1"
            )
        changes[key] = value
    return changes


@app.command("update")
def update(
    assignments: list[str] = typer.Argument(
        ..., help="name=value pairs; an empty value removes the option."
    ),
    conf: str = CONF_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Change quorum options in the configuration file (offline, as `pcs quorum update`):
    auto_tie_breaker, auto_tie_breaker_node, last_man_standing, last_man_standing_window,
    wait_for_all, two_node, expected_votes, allow_downscale, expected_votes_tracking.
    As pcs does, flags take 0 or 1, options are written in name order, and two_node
    follows the cluster (on with exactly two nodes and neither auto_tie_breaker nor a
    quorum device) unless given. The result is checked with Corosync's rules first;
    nothing is written when it fails. Comments and the order of the file are kept.

    Example: hactl quorum update -c corosync.conf wait_for_all=1 last_man_standing=1
    """
    config, _ = _load(conf)
    changes = _parse_assignments(assignments)
    updated = update_quorum_options(config, changes)
    findings = check(updated)
    if findings.errors:
        raise ValidationError(findings.errors, subject="updated configuration")
    updated.save(conf)
    warnings = [str(p) for p in findings.warnings if "quorum" in (p.where or "")]
    if output is OutputFormat.json:
        print_json({"changed": changes, "warnings": warnings})
        return
    for line in warnings:
        print(f"Warning: {line}")


def _runtime_change(
    conf: str,
    members: str | None,
    node: int | None,
    action: Callable[[QuorumProvider], list[object]],
    output: OutputFormat,
) -> None:
    partition, local = _partition(conf, members, node)
    try:
        partition.request(local, action)
    except NotImplementedError as exc:
        raise HactlError(str(exc), where="quorum provider") from None
    _show(partition.nodes[local].status(), output)


@app.command("expected-votes")
def expected_votes(
    votes: int = typer.Argument(..., help="The new expected votes."),
    conf: str = CONF_OPTION,
    members: str = MEMBERS_OPTION,
    node: int = NODE_OPTION,
    force: bool = typer.Option(False, "--force", help="Allow a change that loses quorum."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Set expected votes at runtime (corosync-quorumtool -e): refused below the votes
    present, and refused when the quorate cluster would lose quorum unless --force. Prints
    the resulting status.

    Without --members it changes the running cluster (needs the hactl daemon of this
    node); with --members it runs votequorum offline on the corosync.conf for that
    membership.

    Examples: `hactl quorum expected-votes 3` (live);
    `hactl quorum expected-votes 3 -c corosync.conf --members 1,2,3` (offline)
    """
    if members is None:
        from hactl.core.daemon.client import quorum_status

        _show(quorum_status(change="expected_votes", votes=votes, force=force), output)
        return
    _runtime_change(conf, members, node, lambda p: p.set_expected_votes(votes, force), output)


@app.command("unblock")
def unblock(
    conf: str = CONF_OPTION,
    members: str = MEMBERS_OPTION,
    node: int = NODE_OPTION,
    yes: bool = typer.Option(
        False, "--yes", "--force", help="Confirm that the missing nodes are really off."
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Cancel waiting for all nodes (pcs quorum unblock): the partition becomes quorate as
    soon as it holds a majority. Only safe when the missing nodes are powered off: as pcs,
    it names them and goes ahead only with --yes. Prints the resulting status.

    Without --members it unblocks the running cluster (needs the hactl daemon of this
    node); with --members it runs votequorum offline on the corosync.conf for that
    membership.

    Examples: `hactl quorum unblock --yes` (live);
    `hactl quorum unblock -c corosync.conf --members 1,2 --yes` (offline)
    """
    if members is None:
        from hactl.core.daemon.client import quorum_status

        current = quorum_status()
        if not yes:
            present = ", ".join(m.name or str(m.nodeid) for m in current.members)
            raise UsageError(
                "if the nodes that are not members now are not powered off or they do have "
                "access to shared resources, data corruption and/or cluster failure may "
                f"occur (members: {present})",
                where="quorum unblock",
                hint="add --yes once the missing nodes are off",
            )
        _show(quorum_status(change="unblock"), output)
        return
    partition, local = _partition(conf, members, node)
    missing = sorted(set(partition.known) - partition.members)
    if not yes:
        names = ", ".join(partition.known[n] for n in missing) or "none"
        raise UsageError(
            f"if node(s) {names} are not powered off or they do have access to shared "
            "resources, data corruption and/or cluster failure may occur",
            where="quorum unblock",
            hint="add --yes once the missing nodes are off",
        )
    partition.request(local, lambda p: p.cancel_wait_for_all())
    _show(partition.nodes[local].status(), output)
