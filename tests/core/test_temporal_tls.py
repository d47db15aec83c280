"""Every connection to Temporal can run over TLS and mutual TLS, from settings alone: the
real dev server behind a TLS terminator that this test runs (the dev server itself takes no
certificate), with certificates made here."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError

from core.settings import Settings, TemporalAccessError
from core.temporal import connect_to
from tests.helpers import TEST_KEYRING


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None, **kinds):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage([kinds["usage"]]), critical=False)
        if "names" in kinds:
            builder = builder.add_extension(x509.SubjectAlternativeName(kinds["names"]), critical=False)
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    return certificate, key


def _write(
    folder: Path, name: str, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A CA, the frontend's certificate for localhost, a client certificate from the CA,
    and one from a stranger's CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca = _certificate("reentry test CA", None)
    stranger_ca = _certificate("stranger CA", None)
    server = _certificate(
        "temporal-frontend",
        ca,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        names=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client = _certificate("reentry-worker", ca, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = _certificate("mallory", stranger_ca, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    paths = {"ca": _write(folder, "ca", *ca)[0]}
    paths["server"], paths["server_key"] = _write(folder, "server", *server)
    paths["client"], paths["client_key"] = _write(folder, "client", *client)
    paths["stranger"], paths["stranger_key"] = _write(folder, "stranger", *stranger)
    return paths


@contextlib.asynccontextmanager
async def tls_terminator(pki: dict[str, Path], upstream: str, *, mutual: bool) -> AsyncIterator[str]:
    """TLS (and, if ``mutual``, a client certificate from the CA) in front of a plain
    gRPC frontend, as a load balancer or the cluster's own frontend would ask."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["server"], pki["server_key"])
    context.set_alpn_protocols(["h2"])
    if mutual:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki["ca"])
    host, port = upstream.rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield f"localhost:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def reaches(settings: Settings) -> bool:
    try:
        client = await asyncio.wait_for(connect_to(settings, keyring=TEST_KEYRING), timeout=15)
        await client.count_workflows()
    except Exception:
        return False
    return True


async def test_mutual_tls_from_settings_and_nothing_less(dev_env, pki):
    target = dev_env.client.service_client.config.target_host
    async with tls_terminator(pki, target, mutual=True) as address:
        given = {"temporal_address": address, "temporal_tls_ca": pki["ca"]}
        assert await reaches(Settings(**given, temporal_tls_cert=pki["client"], temporal_tls_key=pki["client_key"]))
        # No client certificate, one from another CA, or no TLS at all: no connection.
        assert not await reaches(Settings(**given))
        assert not await reaches(
            Settings(**given, temporal_tls_cert=pki["stranger"], temporal_tls_key=pki["stranger_key"])
        )
        assert not await reaches(Settings(temporal_address=address))
        # Nor when the frontend's certificate is not from the CA this process trusts.
        assert not await reaches(
            Settings(
                temporal_address=address,
                temporal_tls_ca=pki["stranger"],
                temporal_tls_cert=pki["client"],
                temporal_tls_key=pki["client_key"],
            )
        )


async def test_tls_with_the_frontends_name(dev_env, pki):
    target = dev_env.client.service_client.config.target_host
    async with tls_terminator(pki, target, mutual=False) as address:
        by_ip = address.replace("localhost", "127.0.0.1")
        assert await reaches(Settings(temporal_address=by_ip, temporal_tls_ca=pki["ca"]))
        assert await reaches(
            Settings(temporal_address=by_ip, temporal_tls_ca=pki["ca"], temporal_tls_server_name="localhost")
        )
        assert not await reaches(
            Settings(temporal_address=by_ip, temporal_tls_ca=pki["ca"], temporal_tls_server_name="temporal.elsewhere")
        )


def test_unusable_tls_settings_are_named(tmp_path, pki):
    with pytest.raises(ValidationError, match="REENTRY_TEMPORAL_TLS_CERT and REENTRY_TEMPORAL_TLS_KEY together"):
        Settings(temporal_address="temporal:7233", temporal_tls_cert=pki["client"])
    with pytest.raises(ValidationError, match="for REENTRY_TEMPORAL_ADDRESS"):
        Settings(temporal_api_key="k")
    missing = Settings(temporal_address="temporal:7233", temporal_tls_ca=tmp_path / "absent.pem")
    with pytest.raises(TemporalAccessError, match=r"REENTRY_TEMPORAL_TLS_CA .*absent.pem: No such file"):
        missing.temporal_tls_config()
    # An API key is sent over TLS only.
    assert Settings(temporal_address="x.tmprl.cloud:7233", temporal_api_key="k").temporal_tls_config() is not None
