"""The real Corosync as the oracle: `corosync -t -c FILE` reads a configuration the way the
daemon does at startup (syntax, value types, totem and nodelist rules) and exits, starting
nothing. For each variant, hactl must accept what Corosync accepts and refuse what it
refuses, with Corosync's message. (votequorum's own rules run only when the service starts,
so `-t` does not see them; test_corosync_conf.py covers those.)"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hactl.core.config import ClusterConfig, check
from hactl.core.errors import ConfigError

BASE = """\
totem {
    version: 2
    cluster_name: oracle
    transport: knet
}

nodelist {
    node {
        ring0_addr: 127.0.0.1
        name: n1
        nodeid: 1
    }

    node {
        ring0_addr: 127.0.0.2
        name: n2
        nodeid: 2
    }
}

quorum {
    provider: corosync_votequorum
}

logging {
    to_stderr: yes
    to_syslog: no
}
"""


def totem(extra: str) -> str:
    return BASE.replace("    transport: knet\n", "    transport: knet\n" + extra)


# name -> (config text, a part of Corosync's message, or None when it accepts the file)
VARIANTS: dict[str, tuple[str, str | None]] = {
    "pcs shape": (BASE, None),
    "two_node": (
        BASE.replace("corosync_votequorum\n", "corosync_votequorum\n    two_node: 1\n"),
        None,
    ),
    "explicit timers": (totem("    token: 5000\n    join: 60\n    consensus: 7000\n"), None),
    "knet links": (
        totem(
            "    link_mode: active\n    interface {\n        linknumber: 0\n"
            "        knet_ping_interval: 500\n        knet_ping_timeout: 1500\n    }\n"
        ),
        None,
    ),
    "version 3": (BASE.replace("version: 2", "version: 3"), "only parse version 2"),
    "no version": (BASE.replace("    version: 2\n", ""), "only parse version 2"),
    "token too small": (totem("    token: 10\n"), "(10 ms) may not be less than (30 ms)"),
    "token with unit": (totem("    token: 3s\n"), 'Value of key "totem.token"'),
    "consensus below join": (
        totem("    join: 100\n    consensus: 60\n"),
        "may not be less than join timeout (100 ms)",
    ),
    "cipher without hash": (
        totem("    crypto_cipher: aes256\n    crypto_hash: none\n"),
        "crypto_cipher requires crypto_hash with value other than none",
    ),
    "duplicate nodeid": (BASE.replace("nodeid: 2", "nodeid: 1"), "Nodeid 1 appears twice"),
    "knet without nodeid": (
        BASE.replace("        nodeid: 2\n", ""),
        "Knet requires an explicit nodeid to be specified for address '127.0.0.2'.",
    ),
    "ttl on knet": (
        totem("    interface {\n        linknumber: 0\n        ttl: 5\n    }\n"),
        "Can only set ttl on multicast transport types for interface 0",
    ),
    "multi-link without names": (
        BASE.replace("        name: n2\n", "")
        .replace("127.0.0.1\n", "127.0.0.1\n        ring1_addr: 127.0.1.1\n")
        .replace("127.0.0.2\n", "127.0.0.2\n        ring1_addr: 127.0.1.2\n"),
        "for a multi-link configuration, all nodes must have a 'name' attribute",
    ),
    "no nodelist": (BASE.replace("nodelist {", "nodes {"), "No interfaces defined"),
    "missing brace": (BASE.rstrip()[:-1], "Missing closing brace"),
    "logging debug": (
        BASE.replace("    to_syslog: no\n", "    to_syslog: no\n    debug: maybe\n"),
        "unknown value for debug",
    ),
    "logging facility": (
        BASE.replace("    to_syslog: no\n", "    to_syslog: no\n    syslog_facility: nowhere\n"),
        "unknown syslog facility specified",
    ),
    "logging priority": (
        BASE.replace("    to_syslog: no\n", "    to_syslog: no\n    syslog_priority: loud\n"),
        "unknown syslog priority specified",
    ),
    "logging to_stderr": (
        BASE.replace("    to_stderr: yes\n", "    to_stderr: perhaps\n"),
        "unknown value for to_stderr",
    ),
    "logging timestamp hires": (
        BASE.replace("    to_syslog: no\n", "    to_syslog: no\n    timestamp: hires\n"),
        None,
    ),
    "logger_subsys without subsys": (
        BASE.replace(
            "    to_syslog: no\n",
            "    to_syslog: no\n    logger_subsys {\n        debug: on\n    }\n",
        ),
        "No subsys key in logger_subsys directive",
    ),
    "bad quorum value": (
        BASE.replace("corosync_votequorum\n", "corosync_votequorum\n    two_node: yes\n"),
        'Value of key "quorum.two_node" is expected to be integer in range (0..255)',
    ),
}


def hactl_verdict(text: str) -> list[str]:
    try:
        config = ClusterConfig.from_text(text, "oracle.conf")
    except ConfigError as exc:
        return [exc.message]
    return [p.message for p in check(config).errors]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_same_verdict_as_corosync(
    name: str, tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    corosync = require_tool("corosync")
    text, message = VARIANTS[name]
    path = tmp_path / "corosync.conf"
    path.write_text(text)
    real = subprocess.run(
        [corosync, "-t", "-c", str(path)], capture_output=True, text=True, timeout=30
    )
    real_output = real.stdout + real.stderr
    ours = hactl_verdict(text)
    if message is None:
        assert real.returncode == 0, real_output
        assert ours == []
    else:
        assert real.returncode != 0 and message in real_output, real_output
        assert any(message in line for line in ours), ours
