"""Bundled transports plugins (entry-point namespace hactl.transports)."""
