"""The controller's protocol logic, pure: the DC rule and the replicated CIB.

:mod:`.dc` states the rule that makes one node the DC (designated controller);
:mod:`.replica` is the state machine every node runs to keep one CIB across the cluster:
a join/sync round after every membership change (the highest CIB version wins), changes
applied by the DC only and broadcast as v2 patchsets in totem's agreed order, the node
states the DC records in the status section. Nothing here touches a socket, a clock or a
file: the daemon (hactl.core.daemon) feeds events in and carries the outputs out.

The seam to transition execution (issue 9): the DC's replica emits ``CibChanged`` after
each change it applies; the daemon runs the scheduler on it and hands the transition to an
executor interface.
"""
