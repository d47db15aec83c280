"""The person key: one pseudonym for one person across detentions, so that a new case can
show the municipality's earlier cases of the same resident, and never the BSN itself.

A keyed hash, HMAC-SHA256 of the BSN, with a key derived from each codec key
(``core.codec``): it lives with the other keys, and is rotated with them. A case's key is
made with the current key when its read-model row is written; a lookup makes the BSN's
key under every key of the ring, so that cases keyed before a rotation still match.
Without the keys the column says nothing: it cannot be reversed or recomputed from a BSN.
"""

from __future__ import annotations

import hashlib
import hmac

from temporalio.client import Client

from core.codec import EncryptionCodec, Keyring

_DERIVATION = b"reentry person key v1"


class PersonKeys:
    def __init__(self, keyring: Keyring) -> None:
        self._keys = keyring.derive(_DERIVATION)
        self._current = keyring.current

    def _of(self, key_id: str, bsn: str) -> str:
        return hmac.new(self._keys[key_id], bsn.encode(), hashlib.sha256).hexdigest()

    def current(self, bsn: str) -> str:
        """The key a case is stored under now."""
        return self._of(self._current, bsn)

    def every(self, bsn: str) -> list[str]:
        """The keys the person's cases may be stored under, one per key of the ring."""
        return sorted(self._of(key_id, bsn) for key_id in self._keys)


def person_keys_of(client: Client) -> PersonKeys | None:
    """The person keys of a client's codec; None for a client without reentry's codec."""
    codec = client.data_converter.payload_codec
    return PersonKeys(codec.keyring) if isinstance(codec, EncryptionCodec) else None
