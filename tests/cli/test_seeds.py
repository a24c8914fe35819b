"""The configuration commands of the tutorials in /work/shared/seeds, run as hactl against an
offline CIB (``pcs`` replaced by ``hactl``, crm shell lines translated to pcs's grammar);
the CIB they build must pass the real crm_verify.

What is adapted, and why:
- Values the tutorial text lost (``ip=`` with nothing after it) get documentation addresses.
- Agents not installed on this machine (systemd units, pgsqlms) are created with --force,
  which pcs also requires for them; a bare agent name pcs cannot resolve gets its standard.
- Lines where the tutorial itself is wrong must fail with a one-line error naming the
  problem: corosync options set as cluster properties, constraints naming a resource the
  tutorial never creates, a placeholder constraint id.
- Commands that need a running cluster (status, fence, cleanup, node add, debug-start,
  quorum) are not configuration commands and are not run here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SEED_000 = [
    # the tutorial runs this on a fresh cluster, whose stonith is configured elsewhere
    "property set stonith-enabled=false",
    "resource create WebService ocf:heartbeat:apache",
    "cluster cib {dir}/backup_cib.xml",
    "cluster cib-push {dir}/backup_cib.xml",
]

SEED_003 = [  # crm shell configuration, in pcs's grammar
    "property set stonith-enabled=false",
    "property set no-quorum-policy=ignore",
    "resource create vip ocf:heartbeat:IPaddr2 ip=192.0.2.10 cidr_netmask=24 nic=bond1 "
    "op monitor interval=10s",
    "resource create httpd ocf:heartbeat:apache configfile=/etc/apache2/apache2.conf "
    "statusurl=http://localhost/server-status "
    "op start timeout=60s op stop timeout=60s op monitor timeout=20s",
    "constraint colocation add httpd with vip INFINITY id=httpd-with-vip",
    "constraint location add preferred-node vip vm-node1 100",
    "resource create ping-gateway ocf:pacemaker:ping host_list=192.0.2.254 multiplier=1000 "
    "op monitor interval=10s",
    "resource clone ping-gateway cloned-ping-gateway",
    "constraint location vip rule id=vip-needs-gateway score=-INFINITY "
    "not_defined pingd or pingd lte 0",
]

# (command, expected exit code, text the error must contain)
SEED_002: list[tuple[str, int, str]] = [
    *[
        (
            f"stonith create fence-node{n} fence_ipmilan pcmk_host_list=cluster-node{n} "
            f"ipaddr=192.168.200.1{n} username=admin password=ipmi_password lanplus=1 cipher=1 "
            "op monitor interval=60s",
            0,
            "",
        )
        for n in (1, 2, 3)
    ],
    ("property set stonith-enabled=true", 0, ""),
    (
        "resource create vip-public ocf:heartbeat:IPaddr2 ip=192.168.100.100 cidr_netmask=24 "
        "nic=eth0 op monitor interval=10s",
        0,
        "",
    ),
    (
        "resource create webserver systemd:httpd op monitor interval=30s op start timeout=60s "
        "op stop timeout=60s --force",
        0,
        "",
    ),
    ("constraint order vip-public then webserver", 0, ""),
    ("constraint colocation add webserver with vip-public INFINITY", 0, ""),
    (
        "resource create vg-cluster ocf:heartbeat:LVM-activate vgname=cluster_vg "
        "vg_access_mode=system_id "
        "op monitor interval=30s op start timeout=90s",
        0,
        "",
    ),
    (
        "resource create fs-cluster Filesystem device=/dev/cluster_vg/cluster_lv "
        "directory=/mnt/cluster fstype=xfs "
        "op monitor interval=20s op start timeout=60s op stop timeout=60s",
        0,
        "",
    ),
    ("resource group add cluster-storage vg-cluster fs-cluster", 0, ""),
    (
        "resource create postgres-db pgsql pgctl=/usr/pgsql-14/bin/pg_ctl "
        "psql=/usr/pgsql-14/bin/psql "
        "pgdata=/var/lib/pgsql/14/data pgport=5432 op start timeout=120s op stop timeout=120s "
        "op monitor interval=30s timeout=60s",
        0,
        "",
    ),
    ("constraint order cluster-storage then postgres-db", 0, ""),
    ("constraint colocation add postgres-db with cluster-storage INFINITY", 0, ""),
    ("property set token=1000", 1, "corosync.conf option"),
    ("property set token_retransmits_before_loss_const=20", 1, "corosync.conf option"),
    ("property set token_warning=75%", 1, "corosync.conf option"),
    ("resource defaults resource-stickiness=100", 0, ""),
    ("resource meta webserver migration-threshold=3", 0, ""),
    ("resource meta webserver failure-timeout=300s", 0, ""),
    ("property set concurrent-fencing=true", 0, ""),
    ("property set stonith-max-attempts=5", 0, ""),
    ("property set stonith-action=reboot", 0, ""),
    ("property set cluster-recheck-interval=2min", 0, ""),
    ("property set dc-deadtime=20s", 0, ""),
    ("property set election-timeout=2min", 0, ""),
    ("resource op remove webserver monitor", 0, ""),
    ("resource op add webserver monitor interval=60s timeout=30s", 0, ""),
    ("resource op remove postgres-db monitor", 0, ""),
    ("resource op add postgres-db monitor interval=15s timeout=45s on-fail=restart", 0, ""),
    ("resource create app-service systemd:myapp op monitor interval=30s --force", 0, ""),
    ("constraint location app-service prefers cluster-node1=100", 0, ""),
    ("constraint location app-service prefers cluster-node2=50", 0, ""),
    (
        "resource create app-clone systemd:myapp clone notify=true globally-unique=false --force",
        0,
        "",
    ),
    ("resource clone app-service clone-max=3 clone-node-max=1", 0, ""),
    (
        "resource create postgres-ha ocf:heartbeat:pgsqlms bindir=/usr/pgsql-14/bin "
        "pgdata=/var/lib/pgsql/14/data "
        "op start timeout=60s op stop timeout=60s op promote timeout=30s op demote timeout=120s "
        "op monitor interval=15s role=Master op monitor interval=30s role=Slave "
        "promotable notify=true --force",
        0,
        "",
    ),
    (
        "constraint colocation add vip-db with master postgres-ha-clone INFINITY",
        1,
        "resource 'vip-db' does not exist",
    ),
    (
        "constraint order promote postgres-ha-clone then start vip-db",
        1,
        "resource 'vip-db' does not exist",
    ),
    ("resource meta webserver migration-threshold=5 failure-timeout=600s", 0, ""),
    ("property set token=5000", 1, "corosync.conf option"),
    ("stonith update fence-node3 pcmk_reboot_timeout=90s", 0, ""),
    ("stonith update fence-node1 pcmk_delay_max=30s", 0, ""),
    (
        "constraint remove complex-constraint-id",
        1,
        "constraint 'complex-constraint-id' does not exist",
    ),
    ("property set stop-orphan-resources=false", 0, ""),
    ("property set stop-orphan-actions=false", 0, ""),
    # the tutorial's read commands (pcs 0.9 spellings included)
    ("resource config webserver", 0, "webserver"),
    ("constraint --full", 0, "order-vip-public-webserver-mandatory"),
    ("constraint config --full", 0, "colocation-postgres-db-cluster-storage-INFINITY"),
    ("stonith config fence-node3", 0, "pcmk_reboot_timeout=90s"),
    ("resource show --full", 0, "Resource: webserver"),
    ("stonith show fence-node3", 0, "pcmk_reboot_timeout=90s"),
    ("constraint show --full", 0, "order-vip-public-webserver-mandatory"),
    ("node attribute", 0, ""),
]


def _run_all(hactl, cib: Path, commands: list[tuple[str, int, str]]) -> None:
    for command, code, text in commands:
        result = hactl(f"-f {cib} {command.format(dir=cib.parent)}")
        assert result.code == code, f"{command}: exit {result.code}\n{result.err}"
        if code:
            assert text in result.err, result.err
            assert len(result.err.strip().splitlines()) == 1, result.err
            assert "hint:" in result.err
        elif text:
            assert text in result.out


@pytest.mark.parametrize(
    "commands",
    [
        pytest.param([(c, 0, "") for c in SEED_000], id="000-pcs-cib"),
        pytest.param([(c, 0, "") for c in SEED_003], id="003-crm-translated"),
        pytest.param(SEED_002, id="002-enterprise-guide"),
    ],
)
def test_seed_commands_build_a_cib_crm_verify_accepts(
    hactl, crm_verify, tmp_path, commands
) -> None:
    cib = tmp_path / "cib.xml"
    _run_all(hactl, cib, commands)
    verdict = crm_verify(cib)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert hactl(f"-f {cib} cluster verify").code == 0
