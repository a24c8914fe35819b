"""Where a node keeps things. Defaults are the packaged locations; every one can be moved
by an option of `hactl daemon` or, for the CLI and the daemon alike, a variable:

====================  ==========================  =========================================
what                  default                     variable
====================  ==========================  =========================================
configuration dir     /etc/hactl                  HACTL_CONFIG_DIR
cluster config        <config dir>/corosync.conf  (option --config)
authkey               <config dir>/authkey        (option --authkey; totem.keyfile wins)
state dir             /var/lib/hactl              HACTL_STATE_DIR
API socket            <state dir>/hactl.sock      HACTL_SOCKET
====================  ==========================  =========================================
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "corosync.conf"
AUTHKEY_NAME = "authkey"
SOCKET_NAME = "hactl.sock"


def config_dir() -> Path:
    return Path(os.environ.get("HACTL_CONFIG_DIR") or "/etc/hactl")


def state_dir() -> Path:
    return Path(os.environ.get("HACTL_STATE_DIR") or "/var/lib/hactl")


def socket_path() -> Path:
    """The local API socket the CLI talks to."""
    explicit = os.environ.get("HACTL_SOCKET")
    return Path(explicit) if explicit else state_dir() / SOCKET_NAME
