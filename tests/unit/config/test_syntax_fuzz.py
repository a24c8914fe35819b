"""Any text: the reader either refuses it with a ConfigError naming a line, or reads it,
and what it read writes back byte for byte. Never another exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hactl.core.config import ClusterConfig, check
from hactl.core.config.syntax import parse, render
from hactl.core.errors import ConfigError

# lines made of the characters that matter to the grammar, plus some noise
line = st.text(alphabet=' \t{}:#ab1"\u00a0\r', max_size=12)
structured = st.sampled_from(
    [
        "totem {",
        "quorum {",
        "nodelist {",
        "node {",
        "interface {",
        "logging {",
        "}",
        "version: 2",
        "two_node: 1",
        "token: x",
        "ring0_addr: 10.0.0.1",
        "nodeid: 1",
        "# comment",
        "",
        "provider: corosync_votequorum",
        "auto_tie_breaker_node: 1 2",
    ]
)
texts = st.lists(st.one_of(line, structured), max_size=30).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(texts, st.booleans())
def test_read_refuse_or_round_trip(text: str, final_newline: bool) -> None:
    text = text + "\n" if final_newline else text
    try:
        tree = parse(text, "f.conf")
    except ConfigError as exc:
        assert exc.where is not None and exc.where.startswith("f.conf:")
        return
    assert render(tree) == text
    try:
        config = ClusterConfig.from_document(tree, "f.conf")
    except ConfigError as exc:
        assert exc.where is not None and exc.where.startswith("f.conf:")
        return
    assert config.to_text() == text
    findings = check(config)
    for problem in findings.errors + findings.warnings:
        assert problem.where and problem.where.startswith("f.conf")
