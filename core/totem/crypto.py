"""Sealing totem datagrams: authentication, encryption, replay and cluster checks.

Every datagram on the wire is ``header || body``. The header is sent in clear and is
authenticated with the body::

    magic "HC" | version 1 | mode | cluster tag (8) | sender node id (4) | session (8) | counter (8)

* mode 2, ``crypto_cipher: aes256`` (or aes192/aes128): AES-GCM with the header as
  associated data; each sender session gets its own key (HKDF from the cluster key, the
  sender id and the session), and the counter is the nonce, so no nonce ever repeats;
* mode 1, ``crypto_cipher: none`` with a ``crypto_hash``: HMAC over header and body;
* mode 0, both ``none``: no protection at all, allowed only when configured so.

The cluster key comes from the authkey by HKDF-SHA256 bound to the cluster name, the
cipher and the hash. A session is the sender's start time in milliseconds (high 48 bits)
and 16 random bits; a receiver accepts, per sender, only the newest session and, within
it, each counter once (a 1024-packet sliding window). Anything that fails a check is
dropped and counted by reason, and never parsed further.

Pure: the session value and the key are given; nothing here reads a clock or a file.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hactl.core.errors import ConfigError

CIPHERS = {"none": 0, "aes128": 16, "aes192": 24, "aes256": 32}
HASHES = {"none": None, "sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
#: knet's minimum key length (1024 bits); corosync-keygen writes 2048 bits
MIN_KEY_BYTES = 128
REPLAY_WINDOW = 1024

_HEADER = struct.Struct(">2sBB8sIQQ")
_MAGIC = b"HC"
_VERSION = 1
_MODE_NONE, _MODE_HMAC, _MODE_AEAD = 0, 1, 2
_GCM_TAG = 16


def new_session(start_ms: int, random16: int) -> int:
    """A session value: start time first, so a later start is a newer session."""
    return ((start_ms & ((1 << 48) - 1)) << 16) | (random16 & 0xFFFF)


@dataclass(frozen=True)
class CryptoConfig:
    """``totem.crypto_cipher`` and ``totem.crypto_hash`` (defaults: Corosync's)."""

    cipher: str = "aes256"
    hash: str = "sha256"

    def __post_init__(self) -> None:
        if self.cipher not in CIPHERS:
            raise ConfigError(
                f"unknown crypto_cipher {self.cipher!r}",
                where="totem.crypto_cipher",
                hint="one of " + ", ".join(CIPHERS),
            )
        if self.hash not in HASHES:
            raise ConfigError(
                f"unknown crypto_hash {self.hash!r}",
                where="totem.crypto_hash",
                hint="one of " + ", ".join(HASHES),
            )
        if self.cipher != "none" and self.hash == "none":
            raise ConfigError(
                "crypto_cipher needs a crypto_hash",
                where="totem.crypto_hash",
                hint="set crypto_hash: sha256 (as Corosync requires)",
            )

    @property
    def mode(self) -> int:
        if self.cipher != "none":
            return _MODE_AEAD
        return _MODE_HMAC if self.hash != "none" else _MODE_NONE


@dataclass
class _Window:
    session: int
    highest: int = -1
    seen: int = 0  # bit i set: counter highest - i was accepted

    def check_and_mark(self, counter: int) -> bool:
        if counter > self.highest:
            shift = counter - self.highest
            self.seen = ((self.seen << shift) | 1) & ((1 << REPLAY_WINDOW) - 1)
            self.highest = counter
            return True
        offset = self.highest - counter
        if offset >= REPLAY_WINDOW or self.seen >> offset & 1:
            return False
        self.seen |= 1 << offset
        return True


class PacketSealer:
    """Seals what this node sends and opens what it receives."""

    def __init__(
        self,
        *,
        cluster_name: str,
        node_id: int,
        session: int,
        authkey: bytes | None,
        config: CryptoConfig | None = None,
    ) -> None:
        self.config = config or CryptoConfig()
        self.mode = self.config.mode
        self.node_id = node_id
        self.session = session
        self.counter = 0
        self.cluster_tag = hashlib.sha256(b"hactl cluster\0" + cluster_name.encode()).digest()[:8]
        self.counters = {
            "sealed": 0,
            "opened": 0,
            "own": 0,
            "malformed": 0,
            "foreign_cluster": 0,
            "wrong_mode": 0,
            "bad_auth": 0,
            "replay": 0,
        }
        self._windows: dict[int, _Window] = {}
        self._session_keys: dict[tuple[int, int], AESGCM] = {}
        self._key = b""
        if self.mode != _MODE_NONE:
            if authkey is None or len(authkey) < MIN_KEY_BYTES:
                got = "no key" if authkey is None else f"{len(authkey)} bytes"
                raise ConfigError(
                    f"the authkey must be at least {MIN_KEY_BYTES} bytes ({got})",
                    where="totem.keyfile",
                    hint="create one with `corosync-keygen`, or configure crypto_cipher: none "
                    "and crypto_hash: none to run unprotected",
                )
            info = f"hactl totem v1|{self.config.cipher}|{self.config.hash}|".encode()
            self._key = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=b"hactl totem key",
                info=info + cluster_name.encode(),
            ).derive(authkey)
            self._aead_bytes = CIPHERS[self.config.cipher]
            self._digest = HASHES[self.config.hash]

    @property
    def overhead(self) -> int:
        """Bytes sealing adds to a packet."""
        if self.mode == _MODE_AEAD:
            return _HEADER.size + _GCM_TAG
        if self.mode == _MODE_HMAC:
            return _HEADER.size + hashlib.new(str(self._digest)).digest_size
        return _HEADER.size

    def _aead(self, sender: int, session: int) -> AESGCM:
        key = (sender, session)
        aead = self._session_keys.get(key)
        if aead is None:
            material = HKDF(
                algorithm=hashes.SHA256(),
                length=self._aead_bytes,
                salt=None,
                info=b"session" + struct.pack(">IQ", sender, session),
            ).derive(self._key)
            aead = AESGCM(material)
            if len(self._session_keys) > 4096:  # restarted peers leave old sessions behind
                self._session_keys.clear()
            self._session_keys[key] = aead
        return aead

    def seal(self, packet: bytes) -> bytes:
        self.counter += 1
        header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            self.mode,
            self.cluster_tag,
            self.node_id,
            self.session,
            self.counter,
        )
        self.counters["sealed"] += 1
        if self.mode == _MODE_AEAD:
            nonce = struct.pack(">IQ", 0, self.counter)
            return header + self._aead(self.node_id, self.session).encrypt(nonce, packet, header)
        if self.mode == _MODE_HMAC:
            mac = hmac.new(self._key, header + packet, str(self._digest)).digest()
            return header + packet + mac
        return header + packet

    def open(self, datagram: bytes) -> bytes | None:
        """The packet inside ``datagram``, or None when it must be dropped (counted)."""
        if len(datagram) < _HEADER.size:
            self.counters["malformed"] += 1
            return None
        magic, version, mode, tag, sender, session, counter = _HEADER.unpack_from(datagram)
        if magic != _MAGIC or version != _VERSION:
            self.counters["malformed"] += 1
            return None
        if tag != self.cluster_tag:
            self.counters["foreign_cluster"] += 1
            return None
        if mode != self.mode:
            self.counters["wrong_mode"] += 1
            return None
        if sender == self.node_id:
            self.counters["own"] += 1  # multicast loops our own datagrams back
            return None
        header, body = datagram[: _HEADER.size], datagram[_HEADER.size :]
        packet: bytes
        if mode == _MODE_AEAD:
            try:
                nonce = struct.pack(">IQ", 0, counter)
                packet = self._aead(sender, session).decrypt(nonce, body, header)
            except InvalidTag:
                self.counters["bad_auth"] += 1
                return None
        elif mode == _MODE_HMAC:
            size = hashlib.new(str(self._digest)).digest_size
            packet, mac = body[:-size], body[-size:]
            expected = hmac.new(self._key, header + packet, str(self._digest)).digest()
            if len(body) < size or not hmac.compare_digest(mac, expected):
                self.counters["bad_auth"] += 1
                return None
        else:
            packet = body
        if not self._fresh(sender, session, counter):
            self.counters["replay"] += 1
            return None
        self.counters["opened"] += 1
        return packet

    def _fresh(self, sender: int, session: int, counter: int) -> bool:
        window = self._windows.get(sender)
        if window is None or session >> 16 > window.session >> 16:
            window = self._windows[sender] = _Window(session)
        elif session != window.session:
            return False  # an older (or concurrent, forged) session of that sender
        return window.check_and_mark(counter)
