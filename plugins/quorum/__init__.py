"""Bundled quorum plugins (entry-point namespace hactl.quorum)."""
