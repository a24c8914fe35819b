"""The executor: runs resource operations on this node and keeps their history.

``history`` is pure: Pacemaker's operation history (``lrm_resource`` / ``lrm_rsc_op``
records with call ids, codes, times, transition keys and parameter digests) built from
results. ``executor`` is the asyncio shell: it runs operations through an injected runner
(the agent-class plugins in the daemon), one at a time per resource and a bounded number
per node, enforces timeouts, and drives recurring monitors that report only changes.
"""
