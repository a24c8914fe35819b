"""The daemon's logging, as the configuration's ``logging`` section says (Corosync's
option names): ``to_stderr`` (default yes: the daemon runs in the foreground, systemd
keeps stderr), ``to_logfile`` + ``logfile``, ``to_syslog``, ``debug: on|trace`` for
everything and ``logger_subsys { subsys: TOTEM debug: on }`` per subsystem. Subsystems
are loggers named ``hactl.<subsys in lower case>``: totem, quorum, cib, controller, api."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from hactl.core.config.model import Logging
from hactl.core.errors import ConfigError

FORMAT = "%(asctime)s [%(process)d] %(name)s %(levelname)s: %(message)s"


def configure(settings: Logging | None, source: str) -> None:
    settings = settings or Logging()
    root = logging.getLogger("hactl")
    root.handlers.clear()
    root.propagate = False
    root.setLevel(logging.DEBUG if settings.debug in ("on", "trace") else logging.INFO)
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = []
    if settings.to_stderr is not False:
        handlers.append(logging.StreamHandler(sys.stderr))
    if settings.to_logfile:
        if not settings.logfile:
            raise ConfigError(
                "to_logfile is on but no logfile is given",
                where=f"{source}:{settings.lines.get('to_logfile', 0)}: logging.to_logfile",
                hint="add `logfile: /var/log/hactl/hactl.log`",
            )
        path = Path(settings.logfile)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(path))
        except OSError as exc:
            raise ConfigError(
                f"cannot open the log file: {exc.strerror}",
                where=f"{source}:{settings.lines.get('logfile', 0)}: logging.logfile",
                hint="give a writable path",
            ) from None
    if settings.to_syslog and Path("/dev/log").exists():
        syslog = logging.handlers.SysLogHandler(address="/dev/log")
        syslog.setFormatter(logging.Formatter("hactl[%(process)d]: %(name)s: %(message)s"))
        root.addHandler(syslog)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    for subsystem in settings.logger_subsys:
        logger = logging.getLogger(f"hactl.{subsystem.subsys.lower()}")
        if subsystem.debug in ("on", "trace"):
            logger.setLevel(logging.DEBUG)
        elif subsystem.debug == "off":
            logger.setLevel(logging.INFO)
