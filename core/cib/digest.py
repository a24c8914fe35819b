"""Operation digests as Pacemaker records them in ``lrm_rsc_op``.

The digest tells the scheduler whether a resource's parameters changed since an operation
ran (then it restarts or reloads the resource). It is Pacemaker's "v1" digest: MD5 of a
space, the ``<parameters …/>`` element with its attributes sorted by name, and a newline.
The parameters are the operation's (the resource's instance attributes, the op's own, and
its meta attributes as ``CRM_meta_*``), filtered as Pacemaker filters them: every
``CRM_meta_*`` and a few bookkeeping names go, except that a recurring operation
(``CRM_meta_interval`` not 0) keeps its timeout (``CRM_meta_timeout``, in ms), so that
changing a monitor's timeout re-creates it.

Three digests are recorded: ``op-digest`` of all parameters; ``op-restart-digest`` of only
the parameters a reload cannot apply (listed in ``op-force-restart``), for an agent that
can reload; ``op-secure-digest`` without the secret ones (listed in ``op-secure-params``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping

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
INTERVAL_META = "CRM_meta_interval"


def _escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _interval(params: Mapping[str, str]) -> int:
    try:
        return int(params.get(INTERVAL_META, "0"))
    except ValueError:
        return 0


def filter_for_digest(params: Mapping[str, str]) -> dict[str, str]:
    """The parameters that enter a digest (Pacemaker's pcmk__filter_op_for_digest)."""
    kept = {
        name: value
        for name, value in params.items()
        if name not in _NOT_DIGESTED and not name.startswith("CRM_meta_")
    }
    if _interval(params) and TIMEOUT_META in params:
        kept[TIMEOUT_META] = params[TIMEOUT_META]
    return kept


def digest_of(params: Mapping[str, str]) -> str:
    """The v1 digest of a `<parameters>` element with these attributes."""
    attributes = "".join(f' {name}="{_escape(params[name])}"' for name in sorted(params))
    return hashlib.md5(f" <parameters{attributes}/>\n".encode()).hexdigest()


def params_digest(
    params: Mapping[str, str],
    *,
    keep: Collection[str] | None = None,
    drop: Collection[str] = (),
) -> str:
    """A digest of an operation's parameters (``CRM_meta_*`` included): all of them, only
    those in `keep` (a restart digest), or without those in `drop` (a secure digest, which
    is filtered again, as Pacemaker's scheduler does)."""
    kept = filter_for_digest(params)
    if keep is not None:
        kept = {name: value for name, value in kept.items() if name in keep}
    if drop:
        kept = filter_for_digest({n: v for n, v in kept.items() if n not in drop})
    return digest_of(kept)


def op_digest(
    params: Mapping[str, str], *, interval_ms: int = 0, timeout_ms: int | None = None
) -> str:
    """Pacemaker's op-digest of an operation run with the agent parameters ``params``."""
    return params_digest(_with_meta(params, interval_ms, timeout_ms))


def _with_meta(
    params: Mapping[str, str], interval_ms: int, timeout_ms: int | None
) -> dict[str, str]:
    full = dict(params)
    if interval_ms:
        full[INTERVAL_META] = str(interval_ms)
    if timeout_ms is not None:
        full[TIMEOUT_META] = str(timeout_ms)
    return full
