"""The User-based Security Model's cryptography (RFC 3414, RFC 3826, RFC 7860), all through ``cryptography``.

- **Keys.** A password becomes a key by hashing 1 MiB of the password repeated (RFC 3414 A.2.1): the
  costly step, a few milliseconds, cached per (hash, password). The key is then *localised* to one
  authoritative engine, ``H(Ku || engineID || Ku)`` (RFC 3414 §2.6), cached per engine. The privacy key
  is derived and localised with the *authentication* protocol's hash, as every implementation does.
- **Authentication.** HMAC over the whole message with the digest field zeroed, truncated: HMAC-MD5-96 and
  HMAC-SHA-96 (RFC 3414 §6, §7), HMAC-SHA-224/256/384/512 truncated to 128/192/256/384 bits (RFC 7860).
- **Privacy.** DES-CBC (RFC 3414 §8: the first 8 octets of the localised key, the next 8 a pre-IV, the
  salt boots ‖ a counter), through TripleDES with K1 = K2 = K3, which *is* single DES; AES-128-CFB
  (RFC 3826: IV = boots ‖ time ‖ a 64-bit salt); AES-192/256-CFB likewise, with the localised key extended
  to 24/32 octets either by Blumenthal's draft (``Kul ‖ H(Kul) ‖ …``: net-snmp's AES-192/AES-256,
  snmpsim's AES256BLMT) or by Reeder's (each extension is the previous key run through password-to-key
  and localised again: Cisco's, net-snmp's AES-192-C/AES-256-C). Names follow ``ftthnoc.config``.

Nothing here does I/O or knows the message format: ``v3.py`` calls ``sign``, ``encrypt`` and ``decrypt``.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: RFC 3414 A.2.1: the password is repeated to fill one mebibyte, and that is hashed
PASSWORD_TO_KEY_OCTETS: Final = 1_048_576


@dataclass(frozen=True, slots=True)
class AuthProtocol:
    name: str
    hash: type[hashes.HashAlgorithm]
    #: octets of msgAuthenticationParameters (the truncated HMAC)
    mac_length: int


@dataclass(frozen=True, slots=True)
class PrivProtocol:
    name: str
    cipher: Literal["DES", "AES"]
    #: octets of localised key the cipher uses (DES: 8 of key and 8 of pre-IV)
    key_length: int
    extension: Literal["none", "blumenthal", "reeder"] = "none"


AUTH_PROTOCOLS: Final[dict[str, AuthProtocol]] = {
    "MD5": AuthProtocol("MD5", hashes.MD5, 12),  # usmHMACMD5AuthProtocol, RFC 3414 §6
    "SHA": AuthProtocol("SHA", hashes.SHA1, 12),  # usmHMACSHAAuthProtocol, RFC 3414 §7
    "SHA224": AuthProtocol("SHA224", hashes.SHA224, 16),  # usmHMAC128SHA224AuthProtocol, RFC 7860
    "SHA256": AuthProtocol("SHA256", hashes.SHA256, 24),  # usmHMAC192SHA256AuthProtocol
    "SHA384": AuthProtocol("SHA384", hashes.SHA384, 32),  # usmHMAC256SHA384AuthProtocol
    "SHA512": AuthProtocol("SHA512", hashes.SHA512, 48),  # usmHMAC384SHA512AuthProtocol
}
PRIV_PROTOCOLS: Final[dict[str, PrivProtocol]] = {
    "DES": PrivProtocol("DES", "DES", 16),  # usmDESPrivProtocol, RFC 3414 §8
    "AES": PrivProtocol("AES", "AES", 16),  # usmAesCfb128Protocol, RFC 3826
    "AES192": PrivProtocol("AES192", "AES", 24, "blumenthal"),  # draft-blumenthal-aes-usm-04
    "AES256": PrivProtocol("AES256", "AES", 32, "blumenthal"),
    "AES192C": PrivProtocol("AES192C", "AES", 24, "reeder"),  # draft-reeder-snmpv3-usm-3desede-00 §2.1
    "AES256C": PrivProtocol("AES256C", "AES", 32, "reeder"),
}


class DecryptionError(ValueError):
    """The ciphertext or the privacy parameters cannot be what the protocol sends."""


# ----------------------------------------------------------------------------------------- keys
def _digest(algorithm: type[hashes.HashAlgorithm], data: bytes) -> bytes:
    h = hashes.Hash(algorithm())
    h.update(data)
    return h.finalize()


@lru_cache(maxsize=128)
def password_to_key(password: bytes, auth: AuthProtocol) -> bytes:
    """Ku: the hash of 1 MiB of the password repeated (RFC 3414 A.2.1, RFC 7860 §4.2.1). Cached: it is
    the costly step (a few ms), and one password serves every engine a user is localised to."""
    if not password:
        raise ValueError("an SNMPv3 password cannot be empty")
    repeated = password * (PASSWORD_TO_KEY_OCTETS // len(password) + 1)
    return _digest(auth.hash, repeated[:PASSWORD_TO_KEY_OCTETS])


def localize_key(ku: bytes, engine_id: bytes, auth: AuthProtocol) -> bytes:
    """Kul = H(Ku ‖ snmpEngineID ‖ Ku) (RFC 3414 §2.6)."""
    return _digest(auth.hash, ku + engine_id + ku)


def _extend(kul: bytes, engine_id: bytes, auth: AuthProtocol, priv: PrivProtocol) -> bytes:
    """The localised privacy key at the cipher's length: truncated, or extended as the protocol says."""
    key = kul
    while len(key) < priv.key_length:
        if priv.extension == "blumenthal":  # Kul ‖ H(Kul), H of the whole key so far, until long enough
            key += _digest(auth.hash, key)
        elif priv.extension == "reeder":  # the key so far as a password: password-to-key, localised again
            key += localize_key(password_to_key(key, auth), engine_id, auth)
        else:
            raise ValueError(f"{auth.name} gives a {len(kul)}-octet key, {priv.name} needs {priv.key_length}")
    return key[: priv.key_length]


@dataclass(frozen=True, slots=True)
class UserKeys:
    """One user's keys localised to one engine."""

    auth: AuthProtocol | None
    auth_key: bytes
    priv: PrivProtocol | None
    priv_key: bytes


@lru_cache(maxsize=256)
def localized_keys(engine_id: bytes, auth_name: str | None, password: bytes, priv_name: str | None,
                   priv_password: bytes) -> UserKeys:
    """The keys of a user at ``engine_id``; ``None`` names: no authentication / no privacy. Cached per
    engine (and per password: a changed password is a new entry)."""
    if auth_name is None:
        return UserKeys(None, b"", None, b"")
    auth = AUTH_PROTOCOLS[auth_name]
    auth_key = localize_key(password_to_key(password, auth), engine_id, auth)
    if priv_name is None:
        return UserKeys(auth, auth_key, None, b"")
    priv = PRIV_PROTOCOLS[priv_name]
    kul = localize_key(password_to_key(priv_password, auth), engine_id, auth)
    return UserKeys(auth, auth_key, priv, _extend(kul, engine_id, auth, priv))


# ----------------------------------------------------------------------------------------- authentication
def sign(keys: UserKeys, message: bytes) -> bytes:
    """msgAuthenticationParameters of ``message`` (whose own digest field holds zeros)."""
    assert keys.auth is not None
    h = hmac.HMAC(keys.auth_key, keys.auth.hash())
    h.update(message)
    return h.finalize()[: keys.auth.mac_length]


def verify(keys: UserKeys, message: bytes, auth_at: int, digest: bytes) -> bool:
    """Whether ``digest``, found at ``auth_at`` in ``message``, authenticates it (compared in constant time)."""
    assert keys.auth is not None
    n = keys.auth.mac_length
    if len(digest) != n:
        return False
    zeroed = message[:auth_at] + bytes(n) + message[auth_at + n:]
    return constant_time.bytes_eq(sign(keys, zeroed), digest)


# ----------------------------------------------------------------------------------------- privacy
#: salts: one counter per process from a random start (RFC 3414 §8.1.1.1, RFC 3826 §3.1.2.1); never
#: reused with one key while the process lives (2^32 DES and 2^64 AES messages)
_salts = itertools.count(int.from_bytes(os.urandom(8), "big"))
_U32: Final = 2**32 - 1
_U64: Final = 2**64 - 1


def encrypt(keys: UserKeys, boots: int, engine_time: int, plaintext: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, msgPrivacyParameters) of a scopedPDU sent with ``boots`` and ``engine_time``."""
    priv = keys.priv
    assert priv is not None
    salt_n = next(_salts)
    if priv.cipher == "DES":
        salt = boots.to_bytes(4, "big") + (salt_n & _U32).to_bytes(4, "big")
        padded = plaintext + bytes(-len(plaintext) % 8)
        enc = _des(keys.priv_key, salt).encryptor()
        return enc.update(padded) + enc.finalize(), salt
    salt = (salt_n & _U64).to_bytes(8, "big")
    enc = _aes(keys.priv_key, boots, engine_time, salt).encryptor()
    return enc.update(plaintext) + enc.finalize(), salt


def decrypt(keys: UserKeys, boots: int, engine_time: int, salt: bytes, ciphertext: bytes) -> bytes:
    """The plaintext scopedPDU (DES: with its padding); ``DecryptionError`` when the parameters cannot be
    right. A wrong key gives garbage, not an error: the scopedPDU's decoder finds it."""
    priv = keys.priv
    assert priv is not None
    if len(salt) != 8:
        raise DecryptionError(f"msgPrivacyParameters of {len(salt)} octets ({priv.name} sends 8)")
    if priv.cipher == "DES":
        if len(ciphertext) % 8:
            raise DecryptionError(f"a DES ciphertext of {len(ciphertext)} octets (a multiple of 8)")
        dec = _des(keys.priv_key, salt).decryptor()
    else:
        dec = _aes(keys.priv_key, boots, engine_time, salt).decryptor()
    return dec.update(ciphertext) + dec.finalize()


def _des(priv_key: bytes, salt: bytes) -> Cipher[modes.CBC]:
    key, pre_iv = priv_key[:8], priv_key[8:16]
    iv = bytes(a ^ b for a, b in zip(pre_iv, salt, strict=True))
    return Cipher(TripleDES(key * 3), modes.CBC(iv))  # K1 = K2 = K3: EDE is single DES


def _aes(priv_key: bytes, boots: int, engine_time: int, salt: bytes) -> Cipher[CFB]:
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt
    return Cipher(algorithms.AES(priv_key), CFB(iv))
