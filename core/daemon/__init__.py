"""The node daemon (`hactl daemon`): one asyncio process wiring the services of a node.

startup
    Everything checked before the daemon runs: the configuration (corosync.conf syntax,
    Corosync's rules), the authkey, which node this is, the state-directory lock. Each
    failure is one HactlError naming the file (and line) and the reason.
paths
    Default locations (/etc/hactl, /var/lib/hactl), overridable by options and variables.
node
    :class:`~hactl.core.daemon.node.NodeDaemon`: the totem ring over the configured
    transport, the quorum provider, the replicated CIB (hactl.core.controller.replica)
    with its persistence, the DC's scheduler run, and the local API. The protocol
    decisions live in hactl.core.controller; this shell only carries bytes and time.
api
    The local API: JSON lines on a Unix socket, peers checked by SO_PEERCRED (root, the
    daemon's own user, or the haclient group). The client side is hactl.core.daemon.client.
client
    What the CLI uses: :func:`~hactl.core.daemon.client.connect` and
    :class:`~hactl.core.daemon.client.LiveCibHandle` (the CIB handle of the running cluster).
sandbox
    A local cluster of N daemons on loopback (`hactl sandbox`).
"""
