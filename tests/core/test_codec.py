"""The payload codec, its keyring, the settings that give it keys, and the embedded stack's key file."""

from __future__ import annotations

import base64
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from core.codec import (
    DecryptionError,
    EncryptionCodec,
    Keyring,
    KeyringError,
    UnknownKeyError,
    create_key_file,
    new_key_line,
)
from core.settings import Settings

PERSON = {"bsn": "123456782", "given_names": "Jan", "surname": "Oosterhuis"}


def key_line(key_id: str) -> str:
    return new_key_line(key_id)


def plain(value: object) -> Payload:
    return DataConverter.default.payload_converter.to_payload(value)


async def test_a_payload_is_encrypted_with_the_current_key_and_comes_back_whole():
    codec = EncryptionCodec(Keyring.parse(key_line("2026-a")))
    original = plain(PERSON)

    [encrypted] = await codec.encode([original])

    assert encrypted.metadata["encoding"] == b"binary/encrypted"
    assert encrypted.metadata["encryption-key-id"] == b"2026-a"
    assert b"123456782" not in encrypted.SerializeToString()
    assert b"Oosterhuis" not in encrypted.SerializeToString()
    assert await codec.decode([encrypted]) == [original]


async def test_the_same_payload_encrypts_differently_each_time():
    codec = EncryptionCodec(Keyring.parse(key_line("2026-a")))
    first, second = await codec.encode([plain(PERSON), plain(PERSON)])
    assert first.data != second.data


async def test_a_payload_written_before_encryption_passes_through_decode():
    codec = EncryptionCodec(Keyring.parse(key_line("2026-a")))
    recorded = plain(PERSON)
    assert await codec.decode([recorded]) == [recorded]


async def test_after_rotation_old_payloads_stay_readable_and_new_ones_use_the_new_key():
    a, b = key_line("2026-a"), key_line("2027-b")
    before = EncryptionCodec(Keyring.parse(a))
    [written_with_a] = await before.encode([plain(PERSON)])

    after = EncryptionCodec(Keyring.parse(f"{a}\n{b}", current="2027-b"))
    [written_with_b] = await after.encode([plain(PERSON)])

    assert written_with_b.metadata["encryption-key-id"] == b"2027-b"
    assert await after.decode([written_with_a, written_with_b]) == [plain(PERSON), plain(PERSON)]
    # Only the new key, the old one dropped too early: a clear error naming the missing key.
    only_b = EncryptionCodec(Keyring.parse(b))
    with pytest.raises(UnknownKeyError, match=r"key '2026-a', which is not in the keyring \(it holds 2027-b\)"):
        await only_b.decode([written_with_a])


async def test_a_payload_altered_in_storage_is_refused():
    codec = EncryptionCodec(Keyring.parse(key_line("2026-a")))
    [encrypted] = await codec.encode([plain(PERSON)])
    altered = Payload()
    altered.CopyFrom(encrypted)
    altered.data = encrypted.data[:-1] + bytes([encrypted.data[-1] ^ 1])
    with pytest.raises(DecryptionError, match="fails its integrity check"):
        await codec.decode([altered])
    truncated = Payload(metadata=dict(encrypted.metadata), data=encrypted.data[:5])
    with pytest.raises(DecryptionError, match="fails its integrity check"):
        await codec.decode([truncated])


async def test_a_payload_relabelled_with_another_known_key_is_refused():
    a, b = key_line("2026-a"), key_line("2027-b")
    codec = EncryptionCodec(Keyring.parse(f"{a},{b}", current="2026-a"))
    [encrypted] = await codec.encode([plain(PERSON)])
    encrypted.metadata["encryption-key-id"] = b"2027-b"
    with pytest.raises(DecryptionError, match="'2027-b' fails its integrity check"):
        await codec.decode([encrypted])


def test_a_keyring_never_shows_its_keys():
    line = key_line("2026-a")
    keyring = Keyring.parse(line)
    assert line.split(":")[1] not in repr(keyring)
    assert keyring.ids == ["2026-a"] and keyring.current == "2026-a"


def text_key(text: bytes) -> str:
    return base64.b64encode(text).decode()


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        (f"prod:{text_key(os.urandom(16))}", "key 'prod' is 16 bytes; AES-256 needs 32"),
        ("prod:not*base64", "key 'prod' is not base64"),
        (f"prod:{text_key(b'change-me-change-me-change-me-!!')}", "key 'prod' is text"),
        (f"prod:{text_key(bytes(32))}", "key 'prod' repeats itself"),
        (f"prod:{text_key(bytes([0, 255]) * 16)}", "key 'prod' repeats itself"),
        (text_key(os.urandom(32)), "entry 1 is not `<key id>:<base64 key>`"),
        (f"{key_line('a')},{text_key(os.urandom(32))}:prod", "the id of entry 2 may hold only letters"),
        (f"{key_line('prod')},{key_line('prod')}", "key id 'prod' appears twice"),
        (f"{key_line('a')},{key_line('b')}", "several keys (a, b): name the one"),
        ("", "holds no keys"),
    ],
)
def test_the_settings_refuse_unusable_keys_with_the_reason(keys: str, reason: str):
    with pytest.raises(ValidationError) as refused:
        Settings(codec_keys=keys)
    message = str(refused.value)
    assert "REENTRY_CODEC_KEYS" in message and reason in message
    for entry in keys.split(","):
        material = entry.partition(":")[2]
        assert not material or material not in message, "the error quotes the key"


def test_the_settings_refuse_a_current_key_that_is_not_in_the_keyring():
    with pytest.raises(ValidationError, match=r"the current key '2028' is not in the keyring \(it holds a, b\)"):
        Settings(codec_keys=f"{key_line('a')}\n{key_line('b')}", codec_current_key="2028")


def test_the_settings_take_keys_with_the_current_one_named(tmp_path: Path):
    keys = f"{key_line('2026-a')}, {key_line('2027-b')}"
    keyring = Settings(codec_keys=keys, codec_current_key="2027-b", data_dir=tmp_path).keyring()
    assert keyring.ids == ["2026-a", "2027-b"] and keyring.current == "2027-b"
    for entry in keys.split(", "):
        assert entry.partition(":")[2] not in repr(Settings(codec_keys=keys, codec_current_key="2027-b"))


def test_the_settings_read_a_key_file_with_comments(tmp_path: Path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"# rotated 2027-01\n{key_line('2026-a')}\n\n{key_line('2027-b')}  # current\n")
    keyring = Settings(codec_key_file=key_file, codec_current_key="2027-b").keyring()
    assert keyring.ids == ["2026-a", "2027-b"]


def test_without_keys_a_process_is_told_how_to_give_them(tmp_path: Path):
    with pytest.raises(
        KeyringError, match="no payload encryption keys: set REENTRY_CODEC_KEYS or REENTRY_CODEC_KEY_FILE"
    ):
        Settings(data_dir=tmp_path).keyring()
    with pytest.raises(KeyringError, match="does not exist"):
        Settings(codec_key_file=tmp_path / "missing").keyring()
    with pytest.raises(ValidationError, match="not both"):
        Settings(codec_keys=key_line("a"), codec_key_file=tmp_path / "keys")


def test_the_embedded_stack_creates_its_key_file_once_and_reuses_it(tmp_path: Path):
    data_dir = tmp_path / ".data"
    settings = Settings(data_dir=data_dir)
    assert not settings.keys_configured

    assert create_key_file(settings.key_file, date(2026, 11, 26)) is True
    assert settings.key_file == data_dir / "codec-keys"
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    first = settings.keyring()
    assert first.ids[0].startswith("2026-11-26-")

    written = settings.key_file.read_bytes()
    assert create_key_file(settings.key_file, date(2026, 12, 1)) is False
    assert settings.key_file.read_bytes() == written
    assert Settings(data_dir=data_dir).keyring().keys == first.keys


def test_the_codec_endpoint_admits_the_embedded_web_ui_by_default():
    assert Settings().codec_origins == ["http://localhost:8233", "http://127.0.0.1:8233"]
    assert Settings(embedded_temporal_ui_port=9233).codec_origins == ["http://localhost:9233", "http://127.0.0.1:9233"]
    configured = Settings(codec_cors_origins="https://temporal.gemeente.internal/, https://ui.example.nl")
    assert configured.codec_origins == ["https://temporal.gemeente.internal", "https://ui.example.nl"]
