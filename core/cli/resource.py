"""`hactl resource`: resources and the agents behind them (pcs's `resource` noun).

Commands are grouped by subject in their own modules, each adding its commands here.
"""

from __future__ import annotations

import typer

from hactl.core.cli import resource_agents, resource_config, resource_runtime, resource_wait

app = typer.Typer(no_args_is_help=True, help="Resources and resource agents.")
resource_agents.register(app)
resource_config.register(app)
resource_runtime.register(app)
resource_wait.register(app)
