"""Temporal over TLS and mTLS (``KAOHE_TEMPORAL_TLS_*``): the API and worker connect with the CA,
client certificate and server name they are given, and a connection without the client
certificate, or without TLS, is refused.

The dev server speaks no TLS, so it sits behind a TLS-terminating proxy of this test that
requires a client certificate signed by the test's CA (what a Temporal frontend with mTLS, or
a service mesh in front of it, does); behind the proxy it is the real dev server."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kaohe.runtime import StartupError, free_port, start_stack, temporal_tls
from kaohe.settings import Settings
from tests.conftest import Client, temporal_address
from tests.helpers import cast, small_cycle

SERVER_NAME = "temporal.kaohe.test"


def _cert(subject: str, issuer_key, issuer_name, key, *, ca: bool = False, san: list | None = None, client: bool = False):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if not ca:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert=None, key=None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A CA, the frontend's certificate for SERVER_NAME, and a client certificate for Kaohe."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("kaohe test CA", ca_key, None, ca_key, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = _cert(SERVER_NAME, ca_key, ca.subject, server_key,
                   san=[x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client = _cert("kaohe-worker", ca_key, ca.subject, client_key, client=True)
    d = tmp_path / "pki"
    d.mkdir()
    return {
        "ca": _write(d / "ca.crt", ca), "server": _write(d / "server.crt", server), "server_key": _write(d / "server.key", key=server_key),
        "cert": _write(d / "client.crt", client), "key": _write(d / "client.key", key=client_key),
    }


@pytest.fixture
async def tls_frontend(pki, temporal_env):
    """``127.0.0.1:<port>``: mTLS in front of the session's dev server (ALPN h2, as gRPC wants)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server"], pki["server_key"])
    ctx.load_verify_locations(pki["ca"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols(["h2"])
    host, port = temporal_address(temporal_env).rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def test_api_and_worker_work_over_mtls(settings: Settings, pki, tls_frontend):
    s = settings.model_copy(update={
        "temporal_address": tls_frontend, "admin_password": "admin-pass-123",
        "temporal_tls_ca": pki["ca"], "temporal_tls_cert": pki["cert"], "temporal_tls_key": pki["key"],
        "temporal_tls_server_name": SERVER_NAME,
    })
    stack = await start_stack(s, embedded_temporal=False, api_port=free_port())
    client = Client(stack)
    try:
        await cast(client)
        key = await small_cycle(client, "self_review")  # opening the cycle: the API's update and the worker's step
        r = await client.as_("org").get(f"/cycles/{key}")
        assert r.json()["stages"]["self_review"] == "open"
    finally:
        await client.close()
        await stack.stop()


@pytest.mark.parametrize("without", ["client certificate", "TLS"])
async def test_without_the_client_certificate_or_without_tls_the_frontend_is_not_reached(settings: Settings, pki, tls_frontend, without):
    tls = {"temporal_tls_ca": pki["ca"], "temporal_tls_server_name": SERVER_NAME} if without == "client certificate" else {}
    s = settings.model_copy(update={"temporal_address": tls_frontend, "admin_password": "admin-pass-123", **tls})
    with pytest.raises(StartupError, match="Temporal"):
        await asyncio.wait_for(start_stack(s, embedded_temporal=False, api_port=free_port()), 60)


def test_tls_settings_become_the_clients_tls_config(pki, tmp_path: Path):
    assert temporal_tls(Settings(data_dir=tmp_path)) is False  # nothing set: plain
    config = temporal_tls(Settings(data_dir=tmp_path, temporal_tls_ca=pki["ca"], temporal_tls_cert=pki["cert"],
                                   temporal_tls_key=pki["key"], temporal_tls_server_name=SERVER_NAME))
    assert config.server_root_ca_cert == pki["ca"].read_bytes() and config.domain == SERVER_NAME
    assert config.client_cert == pki["cert"].read_bytes() and config.client_private_key == pki["key"].read_bytes()
    assert temporal_tls(Settings(data_dir=tmp_path, temporal_tls=True)).server_root_ca_cert is None  # TLS, system roots
    with pytest.raises(StartupError, match="KAOHE_TEMPORAL_TLS_KEY"):
        temporal_tls(Settings(data_dir=tmp_path, temporal_tls_cert=pki["cert"]))  # a certificate without its key
    with pytest.raises(StartupError, match="KAOHE_TEMPORAL_TLS_CA"):
        temporal_tls(Settings(data_dir=tmp_path, temporal_tls_ca=tmp_path / "missing.crt"))
