"""Sealing totem datagrams: authenticated encryption, HMAC, explicit none; every bad
datagram is dropped and counted by reason."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hactl.core.errors import ConfigError
from hactl.core.totem.crypto import CryptoConfig, PacketSealer, new_session

KEY = bytes(range(256))


def pair(config: CryptoConfig | None = None, key: bytes | None = KEY, cluster: str = "alpha"):
    a = PacketSealer(
        cluster_name=cluster, node_id=1, session=new_session(1000, 1), authkey=key, config=config
    )
    b = PacketSealer(
        cluster_name=cluster, node_id=2, session=new_session(1000, 2), authkey=key, config=config
    )
    return a, b


@pytest.mark.parametrize(
    "config",
    [CryptoConfig(), CryptoConfig("aes128", "sha1"), CryptoConfig("none", "sha512")],
    ids=["aes256", "aes128", "hmac-sha512"],
)
def test_round_trip_and_overhead(config: CryptoConfig) -> None:
    a, b = pair(config)
    sealed = a.seal(b"totem packet")
    assert b.open(sealed) == b"totem packet"
    assert len(sealed) == len(b"totem packet") + a.overhead
    if config.cipher != "none":
        assert b"totem packet" not in sealed  # encrypted, not only signed


def test_tampering_replay_and_foreign_cluster_are_dropped_and_counted() -> None:
    a, b = pair()
    first = a.seal(b"one")
    assert b.open(first) == b"one"
    assert b.open(first) is None  # replayed
    flipped = bytearray(a.seal(b"two"))
    flipped[-1] ^= 1
    assert b.open(bytes(flipped)) is None
    other_key = PacketSealer(
        cluster_name="alpha", node_id=3, session=1, authkey=os.urandom(256)
    ).seal(b"x")
    assert b.open(other_key) is None
    stranger = PacketSealer(cluster_name="beta", node_id=3, session=1, authkey=KEY).seal(b"x")
    assert b.open(stranger) is None
    assert b.open(b"short") is None
    assert b.counters["replay"] == 1
    assert b.counters["bad_auth"] == 2
    assert b.counters["foreign_cluster"] == 1
    assert b.counters["malformed"] == 1
    assert b.counters["opened"] == 1


def test_reordered_packets_pass_once_and_old_sessions_are_refused() -> None:
    a, b = pair()
    packets = [a.seal(bytes([i])) for i in range(10)]
    for sealed in reversed(packets):
        assert b.open(sealed) is not None
    assert all(b.open(p) is None for p in packets)
    restarted = PacketSealer(
        cluster_name="alpha", node_id=1, session=new_session(2000, 7), authkey=KEY
    )
    assert b.open(restarted.seal(b"after restart")) == b"after restart"
    assert b.open(a.seal(b"from the old session")) is None
    assert b.counters["replay"] == 11


def test_none_only_when_configured_and_key_required_otherwise() -> None:
    with pytest.raises(ConfigError, match="at least 128 bytes"):
        PacketSealer(cluster_name="a", node_id=1, session=1, authkey=None)
    with pytest.raises(ConfigError, match="at least 128 bytes"):
        PacketSealer(cluster_name="a", node_id=1, session=1, authkey=b"short")
    with pytest.raises(ConfigError, match="needs a crypto_hash"):
        CryptoConfig("aes256", "none")
    with pytest.raises(ConfigError, match="unknown crypto_cipher"):
        CryptoConfig("rot13", "sha256")
    plain_a, plain_b = pair(CryptoConfig("none", "none"), key=None)
    assert plain_b.open(plain_a.seal(b"clear")) == b"clear"
    secure_a, _ = pair()
    assert plain_b.open(secure_a.seal(b"x")) is None
    assert plain_b.counters["wrong_mode"] == 1


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_open_never_raises(data: bytes) -> None:
    _, b = pair()
    assert b.open(data) is None
