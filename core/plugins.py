"""Plugin discovery and calling: stevedore finds, pluggy calls.

Each category has its own entry-point namespace; a command loads only the categories (or
the single named plugin) it needs, so that ``hactl --help`` imports no plugin at all. Every
loaded plugin is registered with one pluggy manager, which checks its hook implementations
against hookspecs.py. A plugin that fails to import or to validate is recorded as broken
with its reason, and the others keep working.

Switches (environment):
  HACTL_DISABLED_PLUGINS  comma-separated ``name`` or ``category:name`` never to load
  HACTL_TRACE_PLUGINS     set to 1 to print every hook call and its result on stderr
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
import types
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pluggy
import stevedore

from hactl.core import hookspecs
from hactl.core.errors import PluginError

if TYPE_CHECKING:  # only annotations: `hactl plugins list` need not build these classes
    from hactl.core.drivers import AgentClass, FenceAgent, QuorumProvider, Transport
    from hactl.core.events import (
        CibChangeEvent,
        FenceEvent,
        MembershipEvent,
        OperationEvent,
        QuorumEvent,
    )

    Event = MembershipEvent | QuorumEvent | OperationEvent | FenceEvent | CibChangeEvent

log = logging.getLogger("hactl.plugins")

#: category -> entry-point namespace
NAMESPACES: dict[str, str] = {
    "transports": "hactl.transports",
    "quorum": "hactl.quorum",
    "agents": "hactl.agents",
    "fencing": "hactl.fencing",
    "hooks": "hactl.hooks",
}

#: event class name -> the broadcast hook that carries it
_EVENT_HOOKS: dict[str, str] = {
    "MembershipEvent": "hactl_membership_changed",
    "QuorumEvent": "hactl_quorum_changed",
    "OperationEvent": "hactl_operation_result",
    "FenceEvent": "hactl_fence_result",
    "CibChangeEvent": "hactl_cib_changed",
}


@dataclass
class PluginRecord:
    """What `hactl plugins list` shows for one entry point."""

    category: str
    name: str
    target: str
    distribution: str
    version: str
    status: str  # loaded, broken, disabled, available (found, not imported)
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _disabled_names() -> set[str]:
    raw = os.environ.get("HACTL_DISABLED_PLUGINS", "")
    return {item.strip() for item in raw.split(",") if item.strip()}


def _describe_failure(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class PluginHost:
    """Owns the pluggy manager; the rest of hactl reaches plugins only through its
    typed methods, never through ``pm.hook`` directly."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._records: dict[tuple[str, str], PluginRecord] = {}
        self._installed: dict[str, list[importlib.metadata.EntryPoint]] | None = None
        self._distributions: dict[importlib.metadata.Distribution, tuple[str, str]] = {}
        self._complete: set[str] = set()  # categories loaded in full
        self._hook_views: dict[object, object] = {}  # plugin -> what pluggy registered
        self._disabled = _disabled_names()
        if os.environ.get("HACTL_TRACE_PLUGINS") == "1":
            self.pm.add_hookcall_monitoring(self._trace_before, self._trace_after)

    # ------------------------------------------------------------------ discovery

    def _entry_points(self, category: str) -> list[importlib.metadata.EntryPoint]:
        if category not in NAMESPACES:
            raise PluginError(
                f"unknown plugin category {category!r}",
                hint="one of " + ", ".join(NAMESPACES),
            )
        if self._installed is None:
            # one scan of the installed distributions per host (each scan reads every
            # distribution's entry_points.txt); a new host sees what was installed since
            installed = importlib.metadata.entry_points()
            self._installed = {
                namespace: list(installed.select(group=namespace))
                for namespace in NAMESPACES.values()
            }
        return list(self._installed[NAMESPACES[category]])

    def _distribution(self, ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
        """(name, version) of the distribution offering ``ep``; its metadata file is read
        once, however many entry points it declares."""
        dist = ep.dist
        if dist is None:
            return "?", "?"
        if dist not in self._distributions:
            metadata = dist.metadata
            self._distributions[dist] = (metadata["Name"], metadata["Version"])
        return self._distributions[dist]

    def _record_for(self, category: str, ep: importlib.metadata.EntryPoint) -> PluginRecord:
        key = (category, ep.name)
        if key not in self._records:
            distribution, version = self._distribution(ep)
            self._records[key] = PluginRecord(
                category=category,
                name=ep.name,
                target=ep.value,
                distribution=distribution,
                version=version,
                status="available",
            )
        return self._records[key]

    def _is_disabled(self, category: str, name: str) -> bool:
        return name in self._disabled or f"{category}:{name}" in self._disabled

    def load(self, category: str, name: str | None = None) -> list[PluginRecord]:
        """Import and register the plugins of ``category`` (only ``name`` when given).
        Never raises for a broken plugin: its record says what went wrong."""
        if category in self._complete:
            return self.records(category)
        entry_points = self._entry_points(category)
        wanted: list[str] = []
        for ep in entry_points:
            record = self._record_for(category, ep)
            if name is not None and ep.name != name:
                continue
            if self._is_disabled(category, ep.name):
                record.status, record.reason = "disabled", "listed in HACTL_DISABLED_PLUGINS"
            elif record.status == "available":
                wanted.append(ep.name)
        if wanted:
            # stevedore memoises a namespace's entry points for the process and keeps a file
            # cache that can go stale (an egg-info beside the sources); hand it the list just
            # read, so that it loads exactly what this host sees.
            stevedore.ExtensionManager.ENTRY_POINT_CACHE[NAMESPACES[category]] = entry_points
            manager = stevedore.NamedExtensionManager(
                NAMESPACES[category],
                names=wanted,
                on_load_failure_callback=self._load_failed(category),
            )
            for ext in manager:
                self._register(category, ext.name, ext.plugin)
        if name is None:
            self._complete.add(category)
        return [r for r in self.records(category) if name is None or r.name == name]

    def _load_failed(self, category: str) -> Any:
        def callback(_manager: Any, ep: importlib.metadata.EntryPoint, exc: BaseException) -> None:
            record = self._record_for(category, ep)
            record.status, record.reason = "broken", _describe_failure(exc)
            log.warning("plugin %s:%s failed to load: %s", category, ep.name, record.reason)

        return callback

    def _hook_view(self, plugin: object) -> object:
        """What pluggy is shown of a plugin: a module holding the plugin module's marked hook
        implementations only. Registered whole, a module has pluggy inspect every name it
        imports (a tenth of `hactl plugins list`); a bare module has no other names (an
        object would show pluggy its dunder attributes). The view is kept so that a plugin
        registers once."""
        if not isinstance(plugin, types.ModuleType):
            return plugin
        if plugin not in self._hook_views:
            marker = f"{hookspecs.PROJECT}_impl"
            implementations = {
                name: value for name, value in vars(plugin).items() if hasattr(value, marker)
            }
            view = types.ModuleType(plugin.__name__)
            vars(view).update(implementations)
            self._hook_views[plugin] = view
        return self._hook_views[plugin]

    def _register(self, category: str, name: str, plugin: object) -> None:
        record = self._records[(category, name)]
        plugin = self._hook_view(plugin)
        try:
            if not self.pm.is_registered(plugin):
                self.pm.register(plugin, name=f"{category}:{name}")
                self._check_hooks_known(plugin)
        except (pluggy.PluginValidationError, ValueError) as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            record.status, record.reason = "broken", _describe_failure(exc)
            log.warning("plugin %s:%s rejected: %s", category, name, record.reason)
            return
        record.status, record.reason = "loaded", ""

    def _check_hooks_known(self, plugin: object) -> None:
        """A ``hactl_*`` implementation with no matching spec is a typo or a plugin written
        for another version of hactl: refuse it rather than silently never calling it."""
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                raise pluggy.PluginValidationError(
                    plugin, f"unknown hook {caller.name!r} (not in hactl's hookspecs)"
                )

    def load_all(self) -> list[PluginRecord]:
        for category in NAMESPACES:
            self.load(category)
        return self.records()

    def records(self, category: str | None = None) -> list[PluginRecord]:
        return sorted(
            (r for r in self._records.values() if category in (None, r.category)),
            key=lambda r: (list(NAMESPACES).index(r.category), r.name),
        )

    def names(self, category: str) -> list[str]:
        """Entry-point names offered in a category, without importing anything."""
        return sorted({ep.name for ep in self._entry_points(category)})

    # ------------------------------------------------------------------ drivers

    def _first(self, category: str, plugin_name: str, hook: str, **hook_args: Any) -> Any:
        """Ask the plugin registered under ``name`` first; if it is absent or declines,
        load the whole category so that catch-all (trylast) plugins get their turn."""
        self.load(category, plugin_name)
        caller = getattr(self.pm.hook, hook)
        result = caller(**hook_args)
        if result is None and category not in self._complete:
            self.load(category)
            result = caller(**hook_args)
        if result is None:
            record = self._records.get((category, plugin_name))
            if record is not None and record.status in ("broken", "disabled"):
                raise PluginError(
                    f"the {category} plugin {plugin_name!r} is {record.status}: {record.reason}",
                    hint="see `hactl plugins list`",
                )
            offered = ", ".join(self.names(category)) or "none installed"
            raise PluginError(
                f"no {category} plugin provides {plugin_name!r}",
                hint=f"installed: {offered}; see `hactl plugins list`",
            )
        return result

    def transport(self, name: str, options: Mapping[str, Any]) -> Transport:
        result: Transport = self._first(
            "transports", name, "hactl_transport", name=name, options=options
        )
        return result

    def quorum_provider(self, name: str, options: Mapping[str, Any]) -> QuorumProvider:
        result: QuorumProvider = self._first(
            "quorum", name, "hactl_quorum_provider", name=name, options=options
        )
        return result

    def agent_class(self, standard: str) -> AgentClass:
        result: AgentClass = self._first("agents", standard, "hactl_agent_class", standard=standard)
        return result

    def fence_agent(self, agent: str) -> FenceAgent:
        result: FenceAgent = self._first("fencing", agent, "hactl_fence_agent", agent=agent)
        return result

    def list_agents(self) -> list[str]:
        self.load("agents")
        return sorted({a for listing in self.pm.hook.hactl_list_agents() for a in listing})

    def list_fence_agents(self) -> list[str]:
        self.load("fencing")
        return sorted({a for listing in self.pm.hook.hactl_list_fence_agents() for a in listing})

    # ------------------------------------------------------------------ events

    def emit(self, event: Event) -> None:
        """Tell every listening plugin about ``event``. A listener that raises is logged
        and skipped; the others still hear about it."""
        self.load("hooks")
        hook_name = _EVENT_HOOKS[type(event).__name__]
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            kwargs = {"event": event} if "event" in impl.argnames else {}
            try:
                impl.function(**kwargs)
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)

    # ------------------------------------------------------------------ tracing

    @staticmethod
    def _trace_before(hook_name: str, impls: Any, kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(i.plugin_name for i in impls)
        print(f"[hactl plugins] {hook_name}({dict(kwargs)}) -> [{names}]", file=sys.stderr)

    @staticmethod
    def _trace_after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
        print(f"[hactl plugins] {hook_name} = {outcome.get_result()!r}", file=sys.stderr)
