"""The cluster's shared key, as corosync-keygen makes it: random bytes (256 by default, 128
to 4096 allowed), file mode 0400. It goes where hactl's daemon reads it: <config
dir>/authkey (/etc/hactl/authkey unless HACTL_CONFIG_DIR says otherwise; corosync-keygen's
/etc/corosync/authkey is the same thing for Corosync)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hactl.core.daemon import paths
from hactl.core.errors import ConfigError, UsageError

DEFAULT_AUTHKEY = str(paths.config_dir() / paths.AUTHKEY_NAME)
DEFAULT_KEY_BYTES = 256
MIN_KEY_BYTES = 128
MAX_KEY_BYTES = 4096


def write_authkey(
    path: str | os.PathLike[str], size: int = DEFAULT_KEY_BYTES, force: bool = False
) -> Path:
    """Write a new key to ``path`` atomically: it appears complete, mode 0400, or not at
    all. An existing file is kept unless ``force``. The key itself is never printed."""
    target = Path(path)
    if not MIN_KEY_BYTES <= size <= MAX_KEY_BYTES:
        raise UsageError(
            f"key size {size} is out of range",
            where="--size",
            hint=f"give {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes (default {DEFAULT_KEY_BYTES})",
        )
    if target.is_dir():
        raise ConfigError("is a directory", where=str(target), hint="give a file path")
    if target.exists() and not force:
        raise ConfigError(
            "the key file already exists",
            where=str(target),
            hint="use --force to replace it (every node then needs the new key)",
        )
    directory = target.parent
    if not directory.is_dir():
        raise ConfigError(
            "no such directory", where=str(directory), hint="create it first (mkdir -p)"
        )
    temp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o400)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror}", where=str(directory)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o400)
        if force:
            os.replace(temp, target)
        else:
            os.link(temp, target)  # fails if someone created the file meanwhile: no clobber
            temp.unlink()
    except FileExistsError:
        temp.unlink(missing_ok=True)
        raise ConfigError(
            "the key file already exists", where=str(target), hint="use --force to replace it"
        ) from None
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write: {exc.strerror}", where=str(target)) from None
    return target
