"""The attribute manager of a running node (Pacemaker's attrd): transient attributes
written after their dampening delay.

``attrd_updater -n pingd -U 1000 -d 5s`` sets the attribute's delay and a new value: the
value is written once the delay has passed since the first change not yet written, and
every change within the delay replaces the pending value, so a flapping value costs one
write (and one transition) per delay, not one per change. An attribute's delay is kept
for its later updates (``-Y`` changes only the delay); with none, a value goes out at once.
The writes themselves are the daemon's (a status patch through the DC).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hactl.core.errors import HactlError

log = logging.getLogger("hactl.attrd")

#: write(node, name, value or None to delete)
Writer = Callable[[str, str, str | None], Awaitable[None]]
Key = tuple[str, str]  # (node, attribute name)


class AttributeManager:
    def __init__(self, write: Writer) -> None:
        self._write = write
        self.delays: dict[str, float] = {}  # attribute name -> dampening in seconds
        self.pending: dict[Key, str | None] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.writes = 0

    def update(
        self,
        node: str,
        name: str,
        value: str | None,
        *,
        delay_s: float | None = None,
        change_value: bool = True,
    ) -> bool:
        """A new value (None deletes) and/or delay; whether the write waits (dampened)."""
        if delay_s is not None:
            self.delays[name] = max(0.0, delay_s)
        if not change_value:
            return (node, name) in self._timers
        key = (node, name)
        self.pending[key] = value
        delay = self.delays.get(name, 0.0)
        if key in self._timers:
            return True  # collapses into the write already scheduled
        if delay <= 0:
            self._flush(key)
            return False
        self._timers[key] = asyncio.get_running_loop().call_later(delay, self._flush, key)
        return True

    def value(self, node: str, name: str) -> tuple[bool, str | None]:
        """(True, value) while a value waits for its delay; (False, None) otherwise."""
        key = (node, name)
        return (key in self.pending, self.pending.get(key))

    def _flush(self, key: Key) -> None:
        self._timers.pop(key, None)
        if key not in self.pending:
            return
        value = self.pending.pop(key)
        self.writes += 1
        task = asyncio.get_running_loop().create_task(self._written(key, value))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _written(self, key: Key, value: str | None) -> None:
        try:
            await self._write(key[0], key[1], value)
        except HactlError as exc:  # logged; the next change writes again
            log.error("attribute %s on %s was not written: %s", key[1], key[0], exc.message)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
