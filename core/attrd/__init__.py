"""Node attributes: the status section's transient attributes and the nodes section's
permanent ones, and command-line tools compatible with Pacemaker's ``crm_attribute`` and
``attrd_updater`` so that real resource agents (Stateful's promotion score, ping's
connectivity score, the Health* agents) work unmodified under hactl.

``status`` holds the pure CIB edits; ``tools`` the two commands; ``sbin/`` the programs
the executor puts first on an agent's PATH and in HA_SBIN_DIR.
"""

from pathlib import Path

#: the directory of the crm_attribute / attrd_updater / crm_master programs for agents
SBIN_DIR = Path(__file__).resolve().parent / "sbin"
