"""The fencer: which devices can fence a node, in which order, and running them.

``topology`` is pure: the fence devices of the CIB (stonith resources with their
``pcmk_*`` options), which of them can fence a target (pcmk_host_list, pcmk_host_map,
pcmk_host_check), the fencing levels that apply to a target (by name, pattern or node
attribute) and the delays before fencing. ``fencer`` is the asyncio shell that runs a
request level by level through the fence-agent plugins, with retries within the action's
timeout, and keeps the fencing history.
"""
