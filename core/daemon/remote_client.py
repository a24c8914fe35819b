"""The client side of the remote API (requests over TLS), and the known hosts.

`hactl host auth NODE addr=ADDR` fetches the node's certificate, authenticates with the
hacluster-style user and password and stores the token and the certificate per node in
the known-hosts file (HACTL_KNOWN_HOSTS, default ~/.config/hactl/known-hosts.json, mode
0600); afterwards :func:`call` reaches that node's daemon with the token, verifying the
node's certificate against the pinned one.
"""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path
from typing import Any

from hactl.core.cib.store import atomic_write
from hactl.core.daemon.remote import DEFAULT_PORT
from hactl.core.errors import HactlError, NotFoundError

TIMEOUT = 30.0


class RemoteApiError(HactlError):
    pass


def known_hosts_path() -> Path:
    explicit = os.environ.get("HACTL_KNOWN_HOSTS")
    if explicit:
        return Path(explicit)
    return Path.home() / ".config" / "hactl" / "known-hosts.json"


def known_hosts() -> dict[str, dict[str, Any]]:
    try:
        data: dict[str, dict[str, Any]] = json.loads(known_hosts_path().read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise HactlError(
            "the known-hosts file is not JSON",
            where=str(known_hosts_path()),
            hint="remove it and run `hactl host auth` again",
        ) from None
    return data


def _save(hosts: dict[str, dict[str, Any]]) -> None:
    path = known_hosts_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(hosts, indent=2).encode())


def _cert_file(node: str, pem: str) -> Path:
    path = known_hosts_path().parent / "certs" / f"{node}.pem"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists() or path.read_text() != pem:
        atomic_write(path, pem.encode())
    return path


def _post(url: str, body: dict[str, Any], cert: Path, token: str | None) -> Any:
    import requests  # only for remote commands

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.post(url, json=body, headers=headers, verify=str(cert), timeout=TIMEOUT)
    except requests.exceptions.SSLError as exc:
        raise RemoteApiError(
            f"the node's TLS certificate does not match the one pinned: {exc}",
            where=url,
            hint="if the node was reinstalled, run `hactl host auth` for it again",
        ) from None
    except requests.exceptions.RequestException as exc:
        raise RemoteApiError(
            f"cannot reach the node's API: {type(exc).__name__}",
            where=url,
            hint="is its daemon running, and is the port open?",
        ) from None
    try:
        answer = response.json()
    except ValueError:
        raise RemoteApiError(
            f"not a hactl API answer (HTTP {response.status_code})", where=url
        ) from None
    if response.status_code == 401 or not answer.get("ok"):
        error = answer.get("error") or {}
        failure = RemoteApiError(
            str(error.get("message", f"HTTP {response.status_code}")),
            where=error.get("where") or url,
            hint=error.get("hint"),
        )
        failure.exit_code = int(error.get("exit_code", 1))
        raise failure
    return answer.get("result")


def authenticate(node: str, address: str, port: int, username: str, password: str) -> None:
    """Pin ``node``'s certificate and store a token for it."""
    try:
        pem = ssl.get_server_certificate((address, port), timeout=10)
    except OSError as exc:
        raise RemoteApiError(
            f"cannot reach {address}:{port}: {exc.strerror or exc}",
            where=node,
            hint="is the node's daemon running with its remote API (--remote-port)?",
        ) from None
    cert = _cert_file(node, pem)
    result = _post(
        f"https://{address}:{port}/remote/auth",
        {"username": username, "password": password},
        cert,
        None,
    )
    hosts = known_hosts()
    hosts[node] = {"address": address, "port": port, "token": result["token"], "cert": str(cert)}
    _save(hosts)


def forget(node: str) -> None:
    hosts = known_hosts()
    if hosts.pop(node, None) is None:
        raise NotFoundError(f"{node} is not a known host", hint="`hactl host list` shows them")
    _save(hosts)


def call(node: str, op: str, **arguments: Any) -> Any:
    host = known_hosts().get(node)
    if host is None:
        raise RemoteApiError(
            f"{node} is not authenticated",
            where=str(known_hosts_path()),
            hint=f"run `hactl host auth {node}` first",
        )
    url = f"https://{host['address']}:{host.get('port', DEFAULT_PORT)}/remote/{op}"
    return _post(url, arguments, Path(host["cert"]), host["token"])
