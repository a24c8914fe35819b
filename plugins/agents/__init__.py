"""Bundled agents plugins (entry-point namespace hactl.agents)."""
