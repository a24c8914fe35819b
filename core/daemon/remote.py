"""The remote API: HTTPS for managing a node from another one (pcsd's role).

Served by the node daemon with aiohttp on ``ring0_addr:PORT`` (2224 by default, pcsd's
port) over TLS with the node's own certificate (made on first start under
``STATE_DIR/tls``, an ECDSA P-256 key, mode 0600). Clients pin that certificate when they
authenticate (`hactl host auth`), as pcs keeps its known hosts.

Authentication, on every request:

* ``POST /remote/auth`` with ``{"username", "password"}``: the hacluster-style user of
  this node. Users are in ``CONFIG_DIR/api-users`` (``user:scrypt$N$r$p$salt$hash`` lines,
  written by :func:`write_user`); the answer is a token, kept hashed in
  ``STATE_DIR/api-tokens.json`` and valid until revoked;
* anything else needs ``Authorization: Bearer TOKEN``.

Wrong or missing credentials get 401 and a warning in the log naming the peer address.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import ssl
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from hactl.core.cib.store import atomic_write
from hactl.core.errors import ConfigError, HactlError

log = logging.getLogger("hactl.api")

DEFAULT_PORT = 2224
USERS_NAME = "api-users"
TOKENS_NAME = "api-tokens.json"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


# ----------------------------------------------------------------------------- users


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + (
        f"{encoded(salt).decode()}${encoded(digest).decode()}"
    )


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            dklen=32,
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


def read_users(path: Path) -> dict[str, str]:
    """user -> password hash; a missing file is no users (every auth fails)."""
    users: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return users
    except OSError as exc:
        raise ConfigError(f"cannot read the API users: {exc.strerror}", where=str(path)) from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, stored = line.partition(":")
        if not sep or not stored.startswith("scrypt$"):
            raise ConfigError(
                "not a `user:scrypt$…` line",
                where=f"{path}:{number}",
                hint="set passwords with `hactl host passwd USER`",
            )
        users[user] = stored
    return users


def write_user(path: Path, user: str, password: str) -> None:
    """Set ``user``'s password in the users file (created 0600), atomically."""
    users = read_users(path)
    users[user] = hash_password(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, "".join(f"{u}:{h}\n" for u, h in sorted(users.items())).encode())


# ----------------------------------------------------------------------------- tokens


class TokenStore:
    """Issued tokens, kept as SHA-256 hashes (a stolen file does not give the tokens)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tokens: dict[str, dict[str, str]] = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            self._tokens = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def issue(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[self._key(token)] = {"user": user, "issued": dt.datetime.now().isoformat()}
        atomic_write(self.path, json.dumps(self._tokens).encode())
        return token

    def user_of(self, token: str) -> str | None:
        entry = self._tokens.get(self._key(token))
        return entry["user"] if entry else None


# ----------------------------------------------------------------------------- TLS


def ensure_certificate(directory: Path, name: str, address: str) -> tuple[Path, Path]:
    """This node's certificate and key, made once (self-signed, for ``name`` and
    ``address``); clients pin it at `hactl host auth`."""
    cert_path, key_path = directory / "node.crt", directory / "node.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name)]
    try:
        alt_names.append(x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        alt_names.append(x509.DNSName(address))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write(key_path, key_bytes)  # atomic_write creates files 0600
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


# ----------------------------------------------------------------------------- server


class RemoteApi:
    """The HTTPS server; ``handlers`` are the operations a token holder may call
    (``POST /remote/<op>`` with a JSON body, answered like the local API)."""

    def __init__(
        self,
        *,
        address: str,
        port: int,
        users_path: Path,
        state_dir: Path,
        node_name: str,
        handlers: Mapping[str, Handler],
    ) -> None:
        self.address = address
        self.port = port
        self.users_path = users_path
        self.tokens = TokenStore(state_dir / TOKENS_NAME)
        self.tls_dir = state_dir / "tls"
        self.node_name = node_name
        self.handlers = dict(handlers)
        self._runner: Any = None

    async def start(self) -> None:
        from aiohttp import web

        read_users(self.users_path)  # a broken users file is refused at start
        cert, key = ensure_certificate(self.tls_dir, self.node_name, self.address)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/remote/auth", self._auth)
        app.router.add_post("/remote/{op}", self._call)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address, self.port, ssl_context=context)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise HactlError(
                f"cannot serve the remote API on {self.address}:{self.port}: {exc.strerror}",
                where="--remote-port",
                hint="another process uses the port; give another, or --remote-port 0 to "
                "run without the remote API",
            ) from None
        log.info("remote API on https://%s:%d", self.address, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @staticmethod
    def _unauthorized(request: Any, why: str, hint: str = "") -> Any:
        from aiohttp import web

        log.warning(
            "remote API: 401 for %s %s from %s: %s",
            request.method,
            request.path,
            request.remote,
            why,
        )
        return web.json_response(
            {
                "ok": False,
                "code": 401,
                "error": {
                    "message": f"401 unauthorized: {why}",
                    "hint": "authenticate with `hactl host auth NODE`",
                },
            },
            status=401,
        )

    async def _auth(self, request: Any) -> Any:
        from aiohttp import web

        try:
            body = await request.json()
            user, password = str(body["username"]), str(body["password"])
        except (ValueError, KeyError, TypeError):
            return self._unauthorized(request, "no username and password given")
        stored = read_users(self.users_path).get(user)
        if stored is None or not check_password(password, stored):
            return self._unauthorized(
                request,
                f"wrong user or password (user {user!r})",
                "check both; `hactl host passwd USER` on that node sets the password",
            )
        token = self.tokens.issue(user)
        log.info("remote API: %s authenticated from %s", user, request.remote)
        return web.json_response({"ok": True, "result": {"token": token, "node": self.node_name}})

    async def _call(self, request: Any) -> Any:
        from aiohttp import web

        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        user = self.tokens.user_of(token) if token else None
        if user is None:
            return self._unauthorized(request, "no valid token" if token else "no token")
        op = request.match_info["op"]
        handler = self.handlers.get(op)
        if handler is None:
            return web.json_response(
                {"ok": False, "error": {"message": f"unknown operation {op!r}"}}, status=404
            )
        try:
            body = await request.json() if request.can_read_body else {}
            result = await handler(dict(body))
        except HactlError as exc:
            error = {
                "message": exc.message,
                "where": exc.where,
                "hint": exc.hint,
                "exit_code": exc.exit_code,
            }
            return web.json_response({"ok": False, "error": error}, status=400)
        except ValueError as exc:
            return web.json_response(
                {"ok": False, "error": {"message": f"bad request: {exc}"}}, status=400
            )
        log.debug("remote API: %s by %s from %s", op, user, request.remote)
        return web.json_response({"ok": True, "result": result})


def ssl_fingerprint(pem: bytes) -> str:
    der = ssl.PEM_cert_to_DER_cert(pem.decode())
    return hashlib.sha256(der).hexdigest()


def default_users_path() -> Path:
    from hactl.core.daemon import paths

    return paths.config_dir() / USERS_NAME
