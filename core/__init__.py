"""hactl's core: hook specifications, plugin discovery, the CIB, the pure protocol and
policy engines and the command line. It never imports ``hactl.plugins``."""

__version__ = "0.1.0"
