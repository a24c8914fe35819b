"""corosync.conf: reading, writing back, derived values and Corosync's option rules.

The files under data/ are a real config from the tutorials in /work/shared/seeds (copied,
unchanged) and configs in the exact shape `pcs cluster setup` writes (pcs's layout: four
spaces, a blank line between sections, a qdevice `device` block)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hactl.core.config import ClusterConfig, check, effective_totem, votequorum_settings
from hactl.core.config.syntax import parse, render
from hactl.core.errors import ConfigError, ValidationError

DATA = Path(__file__).parent / "data"
SAMPLES = sorted(DATA.glob("*.conf"))

PCS_THREE_NODES = """\
totem {
    version: 2
    cluster_name: test99
    transport: knet
}

nodelist {
    node {
        ring0_addr: rh7-1
        name: rh7-1
        nodeid: 1
    }

    node {
        ring0_addr: rh7-2
        name: rh7-2
        nodeid: 2
    }

    node {
        ring0_addr: rh7-3
        name: rh7-3
        nodeid: 3
    }
}

quorum {
    provider: corosync_votequorum
}

logging {
    to_syslog: yes
}
"""


def load(text: str) -> ClusterConfig:
    return ClusterConfig.from_text(text, "t.conf")


def messages(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [str(p) for p in findings]


# ---------------------------------------------------------------------- round trip


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_real_configs_load_and_write_back_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    config = ClusterConfig.load(path)
    assert config.to_text() == text
    assert check(config).errors == []


def test_comments_blank_lines_crlf_and_missing_final_newline_survive() -> None:
    text = "# top\r\ntotem {\r\n\t# why\r\n   version:2\r\n\r\n}\r\nlogging {\r\n}"
    assert render(parse(text)) == text


def test_seed_values_are_typed() -> None:
    config = ClusterConfig.load(DATA / "seed-knet-lms.conf")
    assert config.totem.token == 3000
    assert config.totem.crypto_cipher == "aes256"
    assert [i.link for i in config.totem.interfaces] == [0, 1]
    assert config.quorum is not None and config.quorum.last_man_standing == 1
    assert config.logging is not None and config.logging.logger_subsys[0].subsys == "QUORUM"
    assert [n.ring_addrs for n in config.nodelist][2] == {
        0: "cluster-node3",
        1: "cluster-node3-priv",
    }
    # a top-level option Corosync 1 used is kept, unmodelled, as Corosync keeps it
    assert ClusterConfig.load(DATA / "seed-two-node-udpu.conf").other == {
        "compatibility": "whitetank"
    }


def test_pcs_qdevice_config_reads_the_device() -> None:
    config = ClusterConfig.load(DATA / "pcs-qdevice.conf")
    assert config.quorum is not None and config.quorum.device is not None
    assert config.quorum.device.model == "net"
    assert config.quorum.device.net == {"algorithm": "ffsplit", "host": "qnetd.example.com"}
    settings = votequorum_settings(config, 1)
    # the device's vote is added by votequorum at runtime (expected rises to the 3 votes)
    assert (settings.qdevice_votes, settings.expected_votes) == (1, 2)


def test_quoted_values_are_read_without_quotes_and_written_with_them() -> None:
    config = load('totem {\n    cluster_name: "my cluster"\n}\n')
    assert config.totem.cluster_name == "my cluster"
    assert config.to_text() == 'totem {\n    cluster_name: "my cluster"\n}\n'
    changed = config.set_option("totem.cluster_name", " padded ")
    assert 'cluster_name: " padded "' in changed.to_text()


def test_set_option_keeps_comments_and_order_and_uses_pcs_layout() -> None:
    text = (
        "# managed by hand\ntotem {\n    version: 2\n}\n\n"
        "quorum {\n    # keep me\n    provider: corosync_votequorum\n}\n"
    )
    config = load(text)
    changed = config.set_option("quorum.two_node", "1").set_option("logging.to_syslog", "yes")
    assert changed.to_text() == (
        "# managed by hand\ntotem {\n    version: 2\n}\n\nquorum {\n    # keep me\n"
        "    provider: corosync_votequorum\n    two_node: 1\n}\n\n"
        "logging {\n    to_syslog: yes\n}\n"
    )
    assert config.to_text() == text  # the original is untouched
    assert changed.remove_option("quorum.two_node").quorum.two_node is None  # type: ignore[union-attr]


def test_new_option_goes_before_subsections() -> None:
    config = ClusterConfig.load(DATA / "pcs-qdevice.conf")
    text = config.set_option("quorum.wait_for_all", "1").to_text()
    assert "    provider: corosync_votequorum\n    wait_for_all: 1\n\n    device {" in text


def test_save_is_atomic_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "corosync.conf"
    target.write_text(PCS_THREE_NODES)
    os.chmod(target, 0o640)
    load(PCS_THREE_NODES).set_option("quorum.wait_for_all", "1").save(target)
    assert "wait_for_all: 1" in target.read_text()
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["corosync.conf"]


# ---------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("totem {\n    version: 2\n", 1, "Missing closing brace"),
        ("totem {\n}\n}\n", 3, "Unexpected closing brace"),
        ("{\n}\n", 1, "Missing section name before opening bracket '{'"),
        ("totem { version: 2\n}\n", 1, "Extra characters after opening bracket '{'"),
        ("totem {\n    version: 2 }\n}\n", 2, 'Value of key "totem.version"'),
        ("totem {\n    just words\n}\n", 2, "Line is not opening or closing section"),
        ("totem {\n    : 2\n}\n", 2, "Key name can't be empty"),
    ],
)
def test_syntax_errors_name_file_line_and_problem(text: str, line: int, message: str) -> None:
    # (a line with both ':' and '}' is an option: Corosync looks for ':' first, and the
    # value "2 }" is then no uint32)
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert caught.value.where == f"t.conf:{line}"
    assert message in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("totem.token", "3s", "(0..4294967295)"),
        ("totem.token", "3000 # a comment", "(0..4294967295)"),
        ("quorum.two_node", "yes", "(0..255)"),
        ("quorum.expected_votes", "-1", "(0..4294967295)"),
        ("totem.transport", "tcp", "one of knet, udp, udpu"),
        ("totem.crypto_hash", "sha3", "one of none, md5"),
        ("totem.interface.mcastport", "70000", "(0..65535)"),
    ],
)
def test_bad_values_name_the_option_file_and_line(option: str, value: str, expected: str) -> None:
    *sections, key = option.split(".")
    opening = "".join(f"{'    ' * i}{name} {{\n" for i, name in enumerate(sections))
    closing = "".join(f"{'    ' * i}}}\n" for i in reversed(range(len(sections))))
    text = opening + f"{'    ' * len(sections)}{key}: {value}\n" + closing
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert caught.value.where == f"t.conf:{len(sections) + 1}"
    assert f'"{option}"' in caught.value.message and expected in caught.value.message
    assert f'"{value}"' in caught.value.message


# ---------------------------------------------------------------------- derived values


@pytest.mark.parametrize(
    ("nodes", "token", "coefficient", "expected_token"),
    [
        (2, None, None, 3000),  # two nodes: no coefficient
        (3, None, None, 3650),  # 3000 + 1 x 650
        (5, None, None, 4950),  # 3000 + 3 x 650
        (5, 1000, None, 2950),
        (5, 1000, 0, 1000),  # 0 disables the coefficient
        (4, 2000, 100, 2200),
    ],
)
def test_token_grows_with_the_nodelist(
    nodes: int, token: int | None, coefficient: int | None, expected_token: int
) -> None:
    totem = "    version: 2\n"
    totem += f"    token: {token}\n" if token is not None else ""
    totem += f"    token_coefficient: {coefficient}\n" if coefficient is not None else ""
    node_text = "".join(
        f"    node {{\n        ring0_addr: 10.0.0.{i}\n        nodeid: {i}\n    }}\n"
        for i in range(1, nodes + 1)
    )
    config = load(f"totem {{\n{totem}}}\nnodelist {{\n{node_text}}}\n")
    effective = effective_totem(config)
    assert effective.token == expected_token
    # everything derived from the token uses the grown value, truncated as C does
    assert effective.consensus == int(1.2 * expected_token)
    assert effective.token_retransmit == int(expected_token / 4.2)
    assert effective.hold == int(effective.token_retransmit * 0.8 - 10)
    assert effective.links[0].knet_ping_timeout == expected_token // 2
    assert effective.links[0].knet_ping_interval == expected_token // 4


def test_defaults_of_a_pcs_three_node_cluster() -> None:
    effective = effective_totem(load(PCS_THREE_NODES))
    assert (effective.token, effective.consensus, effective.token_retransmit) == (3650, 4380, 869)
    assert (effective.join, effective.merge, effective.downcheck) == (50, 200, 1000)
    assert (effective.fail_recv_const, effective.seqno_unchanged_const) == (2500, 30)
    assert (effective.max_messages, effective.window_size, effective.send_join) == (17, 50, 0)
    assert (effective.netmtu, effective.link_mode) == (65536, "passive")
    assert (effective.crypto_cipher, effective.crypto_hash) == ("none", "none")


def test_explicit_values_and_knet_links() -> None:
    config = ClusterConfig.load(DATA / "pcs-setup-knet.conf")
    effective = effective_totem(config)
    assert effective.token == 3650 and effective.consensus == 3700  # explicit consensus kept
    link1, link2 = effective.links
    assert (link1.linknumber, link1.mcastport, link1.knet_pong_count) == (1, 5406, 2)
    assert (link1.knet_ping_interval, link1.knet_ping_timeout) == (912, 1825)
    assert (link2.mcastport, link2.knet_link_priority) == (12345, 100)
    assert (link2.knet_ping_interval, link2.knet_ping_timeout, link2.knet_pong_count) == (
        201,
        203,
        4,
    )
    assert effective.crypto_hash == "sha512"


def test_secauth_on_means_aes256_sha256_and_udp_links_are_spaced_by_two() -> None:
    config = load(
        "totem {\n version: 2\n secauth: on\n}\n"
        "nodelist {\n node {\n ring0_addr: a\n nodeid: 1\n }\n}\n"
    )
    assert effective_totem(config).crypto_cipher == "aes256"
    udp = load(
        "totem {\n version: 2\n transport: udp\n interface {\n  mcastaddr: 239.1.1.1\n"
        "  broadcast: yes\n }\n}\n"
    )
    assert effective_totem(udp).links[0].mcastport == 5405
    assert effective_totem(udp).netmtu == 1500


# ---------------------------------------------------------------------- option rules


def errors_of(text: str) -> list[str]:
    return messages(check(load(text)).errors)


def warnings_of(text: str) -> list[str]:
    return messages(check(load(text)).warnings)


BASE_TOTEM = "totem {\n    version: 2\n    cluster_name: c\n"
NODES = (
    "nodelist {\n"
    "    node {\n        ring0_addr: 10.0.0.1\n        name: a\n        nodeid: 1\n    }\n"
    "    node {\n        ring0_addr: 10.0.0.2\n        name: b\n        nodeid: 2\n    }\n"
    "}\n"
)
QUORUM = "quorum {\n    provider: corosync_votequorum\n}\n"


@pytest.mark.parametrize(
    ("totem_extra", "where", "message"),
    [
        ("    version: 3\n", "t.conf:3: totem.version", "only parse version 2"),
        ("    token: 10\n", "t.conf:4: totem.token", "may not be less than (30 ms)"),
        (
            "    join: 100\n    consensus: 60\n",
            "t.conf:5: totem.consensus",
            "may not be less than join timeout (100 ms)",
        ),
        (
            "    transport: udpu\n    crypto_cipher: aes256\n    crypto_hash: sha1\n",
            "totem.crypto_cipher",
            "only valid for the Knet transport",
        ),
        (
            "    crypto_cipher: aes256\n    crypto_hash: none\n",
            "t.conf:4: totem.crypto_cipher",
            "crypto_cipher requires crypto_hash",
        ),
        ("    token_warning: 120\n", "totem.token_warning", "between 0 (disabled) and 100"),
        (
            "    transport: udpu\n    interface {\n        linknumber: 1\n    }\n",
            "totem.interface.linknumber",
            "only link 0 is valid for the udpu transport",
        ),
        (
            "    transport: udpu\n    interface {\n        ttl: 5\n    }\n",
            "totem.interface.ttl",
            "Can only set ttl on multicast",
        ),
        (
            "    transport: udpu\n    interface {\n        knet_link_priority: 5\n    }\n",
            "totem.interface.knet_link_priority",
            "Can only set link priority on knet",
        ),
    ],
)
def test_totem_rules(totem_extra: str, where: str, message: str) -> None:
    text = BASE_TOTEM.replace("    version: 2\n", "") if "version" in totem_extra else BASE_TOTEM
    text = text + totem_extra + "}\n" + NODES + QUORUM
    found = errors_of(text)
    assert any(where in m and message in m for m in found), found


def test_nodelist_rules() -> None:
    no_id = NODES.replace("        nodeid: 2\n", "")
    assert any(
        "Knet requires an explicit nodeid to be specified for address '10.0.0.2'" in m
        for m in errors_of(BASE_TOTEM + "}\n" + no_id + QUORUM)
    )
    twice = NODES.replace("nodeid: 2", "nodeid: 1")
    found = errors_of(BASE_TOTEM + "}\n" + twice + QUORUM)
    assert any("t.conf:14: nodelist.node.nodeid" in m and "appears twice" in m for m in found)
    multi = NODES.replace("        name: b\n", "").replace(
        "ring0_addr: 10.0.0.1\n", "ring0_addr: 10.0.0.1\n        ring1_addr: 10.1.0.1\n"
    )
    found = errors_of(BASE_TOTEM + "}\n" + multi + QUORUM)
    assert any("all nodes must have a 'name' attribute" in m for m in found)
    assert any("Not all nodes have the same number of links" in m for m in found)


def device(*lines: str, net: str = "host: q") -> str:
    """A quorum { device { … } } block (inside the quorum section) for the rule tests."""
    body = "".join(f"        {line}\n" for line in lines)
    nets = "".join(f"            {line}\n" for line in net.split(";"))
    return f"device {{\n{body}        net {{\n{nets}        }}\n    }}"


@pytest.mark.parametrize(
    ("quorum_options", "message"),
    [
        (
            "two_node: 1\n    " + device("model: net"),
            "two_node and quorum device cannot be configured",
        ),
        (
            "last_man_standing: 1\n    " + device("model: net", "votes: 1"),
            "quorum.device is not compatible with last_man_standing",
        ),
        (
            "allow_downscale: 1\n    " + device("model: net", "votes: 1"),
            "not compatible with allow_downscale",
        ),
        (
            "expected_votes: 4\n    " + device("model: net"),
            "device.votes must be specified when quorum.expected_votes is set",
        ),
        (
            "expected_votes: 3\n    "
            + device("model: net", "votes: 2", net="host: q;algorithm: lms"),
            "votes is too high or expected_votes is too low",
        ),
        ("device {\n        model: disk\n    }", "unknown quorum device model 'disk'"),
        ("provider2: x", None),
    ],
)
def test_votequorum_refusals(quorum_options: str, message: str | None) -> None:
    text = BASE_TOTEM + "}\n" + NODES + QUORUM.replace("}\n", f"    {quorum_options}\n}}\n")
    found = errors_of(text)
    if message is None:
        assert found == []
    else:
        assert any(message in m for m in found), found


def test_no_nodelist_and_no_expected_votes_is_refused() -> None:
    found = errors_of(BASE_TOTEM + "}\n" + QUORUM)
    assert any("nodelist or quorum.expected_votes must be configured" in m for m in found)
    assert any("t.conf: nodelist: No interfaces defined" in m for m in found)  # knet needs it
    # multicast without a nodelist: interfaces come from bindnetaddr, votes from the option
    udp = BASE_TOTEM + (
        "    transport: udp\n    interface {\n        bindnetaddr: 10.0.0.0\n"
        "        mcastaddr: 239.255.1.1\n    }\n}\n"
    )
    assert errors_of(udp + QUORUM.replace("}", "    expected_votes: 8\n}")) == []


def test_atb_and_lms_in_an_odd_cluster_without_wfa_is_fatal_and_atb_alone_is_dropped() -> None:
    three = NODES.replace(
        "}\n",
        "    node {\n        ring0_addr: 10.0.0.3\n        name: c\n        nodeid: 3\n    }\n}\n",
        1,
    )
    three = NODES[: NODES.rindex("}")] + (
        "    node {\n        ring0_addr: 10.0.0.3\n        name: c\n        nodeid: 3\n    }\n}\n"
    )
    atb_lms = QUORUM.replace("}", "    auto_tie_breaker: 1\n    last_man_standing: 1\n}")
    assert any(
        "auto_tie_breaker & last_man_standing not available in odd sized cluster" in m
        for m in errors_of(BASE_TOTEM + "}\n" + three + atb_lms)
    )
    atb = QUORUM.replace("}", "    auto_tie_breaker: 1\n}")
    config = load(BASE_TOTEM + "}\n" + three + atb)
    assert any("auto_tie_breaker has been disabled" in m for m in messages(check(config).warnings))
    assert votequorum_settings(config, 1).auto_tie_breaker == "none"
    with_wfa = QUORUM.replace("}", "    auto_tie_breaker: 1\n    wait_for_all: 1\n}")
    assert (
        votequorum_settings(load(BASE_TOTEM + "}\n" + three + with_wfa), 1).auto_tie_breaker
        == "lowest"
    )


def test_silent_changes_are_reported_as_warnings() -> None:
    both = load(
        BASE_TOTEM
        + "}\n"
        + NODES
        + QUORUM.replace("}", "    two_node: 1\n    auto_tie_breaker: 1\n}")
    )
    settings = votequorum_settings(both, 1)
    assert (settings.two_node, settings.auto_tie_breaker, settings.wait_for_all) == (
        False,
        "lowest",
        True,
    )
    assert any("two_node has been disabled" in m for m in messages(check(both).warnings))
    wfa_off = load(
        BASE_TOTEM + "}\n" + NODES + QUORUM.replace("}", "    two_node: 1\n    wait_for_all: 0\n}")
    )
    assert votequorum_settings(wfa_off, 1).wait_for_all is False
    assert (
        votequorum_settings(
            load(BASE_TOTEM + "}\n" + NODES + QUORUM.replace("}", "    two_node: 1\n}")), 1
        ).wait_for_all
        is True
    )
    bad_atb = load(
        BASE_TOTEM
        + "}\n"
        + NODES
        + QUORUM.replace("}", "    auto_tie_breaker: 1\n    auto_tie_breaker_node: middle\n}")
    )
    assert votequorum_settings(bad_atb, 1).auto_tie_breaker == "none"
    listed = load(
        BASE_TOTEM
        + "}\n"
        + NODES
        + QUORUM.replace("}", "    auto_tie_breaker: 1\n    auto_tie_breaker_node: 2 1\n}")
    )
    assert votequorum_settings(listed, 1).auto_tie_breaker_nodes == (2, 1)
    weighted = load(
        BASE_TOTEM
        + "}\n"
        + NODES.replace("nodeid: 2\n", "nodeid: 2\n        quorum_votes: 2\n")
        + QUORUM.replace("}", "    last_man_standing: 1\n    wait_for_all: 1\n}")
    )
    assert votequorum_settings(weighted, 1).last_man_standing is False
    assert votequorum_settings(weighted, 2).votes == 2
    assert votequorum_settings(weighted, 2).expected_votes == 3


def test_missing_quorum_section_is_a_warning_naming_the_fix() -> None:
    found = warnings_of(BASE_TOTEM + "}\n" + NODES)
    assert any("quorum.provider" in m and "corosync_votequorum" in m for m in found)


def test_validation_error_lists_every_problem_one_line_each(tmp_path: Path) -> None:
    from hactl.core.config import load_checked

    path = tmp_path / "c.conf"
    path.write_text("totem {\n    version: 1\n    token: 5\n}\n" + QUORUM)
    with pytest.raises(ValidationError) as caught:
        load_checked(str(path))
    lines = caught.value.lines()
    assert len(lines) >= 3 and all("\n" not in line for line in lines)
    assert any(line.startswith(f"{path}:2: totem.version") for line in lines)
