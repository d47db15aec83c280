"""Encryption of everything reentry stores in Temporal: a payload codec and its keyring.

Temporal keeps workflow and activity inputs, results, update arguments, memos and failure
details in its database and shows them in its Web UI. A case's payloads carry a
resident's BSN, name and criminal-justice data, so every payload is encrypted before it
leaves the process: AES-256-GCM with a fresh 96-bit nonce per payload. The id of the key
(not secret) travels in the payload's metadata, so that a new key can take over while
the payloads written with older keys stay readable.

An encrypted payload::

    metadata  encoding: binary/encrypted
              encryption-key-id: <key id>
    data      12-byte nonce || AES-256-GCM(the original payload, serialised) || 16-byte tag

the layout of Temporal's encryption samples. A payload without that encoding was written
before encryption was switched on: decoding passes it through unchanged.

A keyring is written as ``<key id>:<base64 of 32 random bytes>`` entries, separated by
commas, spaces or new lines; in a key file, ``#`` starts a comment. Error messages name
key ids, never key material or payload contents.

One codec for every process: each Temporal client's data converter (``core.temporal``),
the API's codec server for the Web UI (``api.routes.codec``) and the ``reentry codec``
commands.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

logger = logging.getLogger("reentry.codec")

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE_NAME = "codec-keys"
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NEW_KEY_HINT = "make one with `reentry codec new-key`"
_KEY_ID_RULE = "may hold only letters, digits, '.', '_' and '-', and starts with a letter or digit (at most 64)"

# 32 random bytes are all printable ASCII with a chance of about 1e-14, and hold fewer
# than 16 distinct values with a far smaller one: such a "key" was typed, not drawn.
_PRINTABLE = frozenset(range(0x20, 0x7F))
_MIN_DISTINCT_BYTES = 16


class KeyringError(ValueError):
    """Keys that cannot be used. The message says why, and never quotes key material."""


class DecryptionError(ValueError):
    """An encrypted payload that this keyring cannot decrypt."""


class UnknownKeyError(DecryptionError):
    """A payload encrypted with a key that is not in the keyring."""


@dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys; ``current`` encrypts new payloads, all of them decrypt."""

    keys: Mapping[str, bytes] = field(repr=False)
    current: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError(f"the keyring holds no keys; {NEW_KEY_HINT}")
        for key_id, key in self.keys.items():
            _check_key(key_id, key)
        if self.current not in self.keys:
            # Quoted only when it looks like an id: it may be a key pasted in the wrong place.
            named = repr(self.current) if KEY_ID_PATTERN.match(self.current) else "(not a key id)"
            raise KeyringError(f"the current key {named} is not in the keyring (it holds {', '.join(self.keys)})")

    @property
    def ids(self) -> list[str]:
        return list(self.keys)

    def derive(self, purpose: bytes) -> dict[str, bytes]:
        """A key of its own for another purpose, from each key of the ring (an HMAC-SHA256
        of the purpose under it), named by the same id: it rotates with the ring."""
        return {key_id: hmac.new(key, purpose, hashlib.sha256).digest() for key_id, key in self.keys.items()}

    @classmethod
    def parse(cls, text: str, *, current: str | None = None, source: str = "the keyring") -> Keyring:
        """Read ``id:base64key`` entries; ``current`` names the key for new payloads (with a
        single key it may be omitted). ``source`` names where the text came from in errors."""
        keys: dict[str, bytes] = {}
        lines = (line.split("#", 1)[0] for line in text.splitlines())
        entries = (e for line in lines for e in re.split(r"[\s,]+", line) if e)
        for number, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.partition(":")
            # An entry that does not parse is not quoted: it may be a key the wrong way round.
            if not colon or not key_id:
                raise KeyringError(f"{source}: entry {number} is not `<key id>:<base64 key>`")
            if not KEY_ID_PATTERN.match(key_id):
                raise KeyringError(f"{source}: the id of entry {number} {_KEY_ID_RULE}")
            if key_id in keys:
                raise KeyringError(f"{source}: key id {key_id!r} appears twice")
            try:
                keys[key_id] = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(f"{source}: key {key_id!r} is not base64; {NEW_KEY_HINT}") from None
        if not keys:
            raise KeyringError(f"{source} holds no keys; {NEW_KEY_HINT}")
        if current is None:
            if len(keys) > 1:
                raise KeyringError(
                    f"{source} holds several keys ({', '.join(keys)}): name the one that encrypts new payloads"
                    " with REENTRY_CODEC_CURRENT_KEY"
                )
            current = next(iter(keys))
        try:
            return cls(keys=keys, current=current)
        except KeyringError as err:
            raise KeyringError(f"{source}: {err}") from None

    @classmethod
    def read(cls, path: Path, *, current: str | None = None) -> Keyring:
        """The keyring in a key file."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyringError(f"the key file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as err:
            raise KeyringError(f"the key file {path} cannot be read: {type(err).__name__}") from None
        with contextlib.suppress(OSError):
            if os.name == "posix" and path.stat().st_mode & 0o077:
                logger.warning("the key file %s is open to other users of this machine: chmod 600 it", path)
        return cls.parse(text, current=current, source=f"the key file {path}")


def _check_key(key_id: str, key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise KeyringError(
            f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES} (44 base64 characters); {NEW_KEY_HINT}"
        )
    if set(key) <= _PRINTABLE:
        raise KeyringError(f"key {key_id!r} is text (a placeholder or a password), not a random key; {NEW_KEY_HINT}")
    if len(set(key)) < _MIN_DISTINCT_BYTES:
        raise KeyringError(f"key {key_id!r} repeats itself: a placeholder, not a random key; {NEW_KEY_HINT}")


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the keyring's current key; decrypts with whichever key
    a payload names, and passes payloads that were never encrypted through."""

    def __init__(self, keyring: Keyring) -> None:
        super().__init__()
        self.keyring = keyring
        self.current = keyring.current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher, key_id = self._ciphers[self.current], self.current.encode()
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id},
                    data=nonce + cipher.encrypt(nonce, payload.SerializeToString(), None),
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"a payload is encrypted with key {key_id[:64]!r}, which is not in the keyring"
                f" (it holds {', '.join(self._ciphers)}): add that key to REENTRY_CODEC_KEYS or the key file"
            )
        try:
            return Payload.FromString(cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None))
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
            raise DecryptionError(
                f"a payload encrypted with key {key_id!r} fails its integrity check: it was altered, or the key"
                f" named {key_id!r} here is not the key that encrypted it"
            ) from None


def new_key_id(today: date) -> str:
    """A fresh key id that sorts by date, e.g. ``2026-11-26-3fa1``."""
    return f"{today.isoformat()}-{secrets.token_hex(2)}"


def new_key_line(key_id: str) -> str:
    """A keyring entry with a fresh random key."""
    if not KEY_ID_PATTERN.match(key_id):
        raise KeyringError(f"a key id {_KEY_ID_RULE}")
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode('ascii')}"


KEY_FILE_HEADER = """\
# reentry's payload encryption keys: `<key id>:<base64 of 32 random bytes>`, one per line.
# Keep every key that ever encrypted a payload: a case's history stays encrypted with it.
# With several keys, REENTRY_CODEC_CURRENT_KEY names the one that encrypts new payloads.
"""


def create_key_file(path: Path, today: date) -> bool:
    """Write a key file with one fresh key, readable by its owner only, unless the file
    exists. True when it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(KEY_FILE_HEADER + new_key_line(new_key_id(today)) + "\n")
    return True
