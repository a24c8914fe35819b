"""Operation digests as Pacemaker records them in ``lrm_rsc_op op-digest``.

The digest tells the scheduler whether a resource's parameters changed since an operation
ran (then it restarts or reloads the resource). It is Pacemaker's "v1" digest: MD5 of a
space, the ``<parameters …/>`` element with its attributes sorted by name, and a newline.
The parameters are the resource's instance attributes (and the operation's own), without
Pacemaker's meta attributes and bookkeeping names; a recurring operation keeps its timeout
(``CRM_meta_timeout``, in ms), so that changing a monitor's timeout re-creates it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

#: names never part of a digest, besides every other CRM_meta_* attribute
_NOT_DIGESTED = frozenset(
    {
        "id",
        "crm_feature_set",
        "op-digest",
        "CRM_meta_on_node",
        "CRM_meta_on_node_uuid",
        "pcmk_external_ip",
    }
)
TIMEOUT_META = "CRM_meta_timeout"


def _escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def digest_parameters(
    params: Mapping[str, str], *, interval_ms: int = 0, timeout_ms: int | None = None
) -> dict[str, str]:
    """The parameters that enter a digest, from an operation's parameters."""
    kept = {
        name: value
        for name, value in params.items()
        if name not in _NOT_DIGESTED and not name.startswith("CRM_meta_")
    }
    if interval_ms and timeout_ms is not None:
        kept[TIMEOUT_META] = str(timeout_ms)
    return kept


def op_digest(
    params: Mapping[str, str], *, interval_ms: int = 0, timeout_ms: int | None = None
) -> str:
    """Pacemaker's op-digest of an operation run with ``params``."""
    kept = digest_parameters(params, interval_ms=interval_ms, timeout_ms=timeout_ms)
    attributes = "".join(f' {name}="{_escape(kept[name])}"' for name in sorted(kept))
    return hashlib.md5(f" <parameters{attributes}/>\n".encode()).hexdigest()
