"""The daemon's logging follows the configuration's logging section; start-up checks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hactl.core.config.model import ClusterConfig
from hactl.core.daemon import logs, startup
from hactl.core.errors import ConfigError, HactlError

CONF = """\
totem {{
    version: 2
    cluster_name: t
    transport: udpu
}}
nodelist {{
    node {{
        ring0_addr: 127.0.0.1
        name: n1
        nodeid: 1
    }}
}}
quorum {{
    provider: corosync_votequorum
}}
logging {{
    to_stderr: no
    to_logfile: yes
    logfile: {logfile}
    logger_subsys {{
        subsys: TOTEM
        debug: on
    }}
}}
"""


def test_logfile_and_per_subsystem_debug(tmp_path: Path) -> None:
    logfile = tmp_path / "log" / "hactl.log"
    config = ClusterConfig.from_text(CONF.format(logfile=logfile), "c.conf")
    try:
        logs.configure(config.logging, "c.conf")
        logging.getLogger("hactl.totem").debug("token seen")
        logging.getLogger("hactl.cib").debug("not shown: cib is not in debug")
        logging.getLogger("hactl.cib").info("cib info")
        for handler in logging.getLogger("hactl").handlers:
            handler.flush()
        text = logfile.read_text()
        assert "hactl.totem DEBUG: token seen" in text
        assert "cib info" in text and "not shown" not in text
    finally:
        logging.getLogger("hactl").handlers.clear()
        logging.getLogger("hactl.totem").setLevel(logging.NOTSET)


def test_a_logfile_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = ClusterConfig.from_text(CONF.format(logfile=blocker / "x.log"), "c.conf")
    with pytest.raises(ConfigError) as caught:
        logs.configure(config.logging, "c.conf")
    assert "c.conf:" in str(caught.value) and "logging.logfile" in str(caught.value)
    logging.getLogger("hactl").handlers.clear()


def test_authkey_size_and_absence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        startup.load_authkey(tmp_path / "nokey")
    short = tmp_path / "short"
    short.write_bytes(b"x" * 16)
    with pytest.raises(ConfigError, match="16 bytes"):
        startup.load_authkey(short)


def test_state_lock_is_exclusive(tmp_path: Path) -> None:
    first = startup.StateLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(HactlError, match="another hactl daemon"):
            startup.StateLock(tmp_path).acquire()
    finally:
        first.release()
    again = startup.StateLock(tmp_path)
    again.acquire()  # free once released
    again.release()
