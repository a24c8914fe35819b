"""A plugin whose import fails (a missing dependency): hactl must report it and go on."""

import hactl_acme_missing_dependency  # noqa: F401
