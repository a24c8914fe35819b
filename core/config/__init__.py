"""The cluster configuration: corosync.conf read into typed models and written back.

config = ClusterConfig.load("/etc/corosync/corosync.conf")
findings = check(config)              # Corosync's startup rules: errors and warnings
effective_totem(config).token         # the values Corosync really runs with
votequorum_settings(config, nodeid)   # what votequorum makes of the quorum section
config.set_option("quorum.two_node", "1").save(path)   # comments and order survive
"""

from hactl.core.config.derived import EffectiveTotem, effective_totem
from hactl.core.config.model import ClusterConfig, Interface, Logging, Node, Quorum, Totem
from hactl.core.config.quorum import VotequorumSettings, votequorum_settings
from hactl.core.config.reload import reload_findings
from hactl.core.config.rules import Findings, check, load_checked

__all__ = [
    "ClusterConfig",
    "EffectiveTotem",
    "Findings",
    "Interface",
    "Logging",
    "Node",
    "Quorum",
    "Totem",
    "VotequorumSettings",
    "check",
    "effective_totem",
    "load_checked",
    "reload_findings",
    "votequorum_settings",
]
