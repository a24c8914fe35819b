"""Runs actions of one agent through hactl's agent class and prints the results as JSON.

The tests start it under `ip netns exec` or `unshare --mount` so that an agent that
changes the machine (IPaddr2, Filesystem) changes only a namespace the test owns.
usage: python run_actions.py SPEC PARAMS_JSON ACTION...
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

from hactl.core.agentmeta import AgentSpec
from hactl.core.drivers import OperationRequest
from hactl.core.plugins import PluginHost


def main() -> None:
    spec, params, actions = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    agent_class = PluginHost().agent_class(AgentSpec.parse(spec).standard)
    results = []
    for action in actions:
        request = OperationRequest(resource="r1", agent=spec, action=action, params=params)
        results.append({"action": action, **asdict(asyncio.run(agent_class.execute(request)))})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
