"""Bundled fencing plugins (entry-point namespace hactl.fencing)."""
