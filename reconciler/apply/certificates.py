"""Per-instance certificates for the ``tls`` listener, kept inside the instance's containers.

When a sidecar is created, booth makes a fresh CA, a server certificate for
``localhost``/``127.0.0.1`` and a client certificate (P-256 EC keys: milliseconds), and
copies them into the created container before it starts: the server's files where dockerd
reads them, the client's beside them. The CA key is then forgotten, so nobody can issue
another certificate this daemon trusts. A booth created next to that sidecar gets a copy
of the client's files, read back from the sidecar; so a booth replaced alone still matches
the daemon that is running. Nothing is written on the host, nothing enters a spec, and
removing the containers removes the certificates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import posixpath
import threading
from collections.abc import Mapping
from typing import Any

from reconciler.core.inner_daemon import BOOTH_CERT_PATH, CLIENT_TLS_DIR, SERVER_TLS_DIR
from reconciler.engine.engine import Engine
from reconciler.errors import EngineNotFound

# docker:dind's own certificates last 825 days; a sidecar lives no longer than that.
VALIDITY = dt.timedelta(days=825)
FILES = ("ca.pem", "cert.pem", "key.pem")
# X.509's upper bound for a common name (RFC 5280 ub-common-name); `cryptography`
# refuses a longer one.
MAX_COMMON_NAME = 64


def common_name(prefix: str, instance: str) -> str:
    """``prefix + instance``, or when that is longer than a CN may be, the instance cut
    and followed by a hash of all of it: still unique, still readable. Nothing checks
    these names (the server is verified by its SANs, the client by the CA alone)."""
    full = prefix + instance
    if len(full) <= MAX_COMMON_NAME:
        return full
    digest = hashlib.sha256(instance.encode()).hexdigest()[:12]
    keep = MAX_COMMON_NAME - len(prefix) - len(digest) - 1
    return f"{prefix}{instance[:keep]}~{digest}"


def issue(instance: str) -> dict[str, bytes]:
    """Fresh server and client files, by absolute path inside the sidecar."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate a little clock skew

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def certificate(
        subject: str, key: Any, issuer: tuple[x509.Name, Any] | None, extensions: list[Any]
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer[0] if issuer else name(subject))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + VALIDITY)
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        signer = issuer[1] if issuer else key
        return builder.sign(signer, _sha256())

    def pem_key(key: Any) -> bytes:
        return bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_name = common_name("booth CA ", instance)
    ca = certificate(ca_name, ca_key, None, [(x509.BasicConstraints(True, 0), True)])
    issuer = (ca.subject, ca_key)
    server = certificate(
        "localhost",
        server_key,
        issuer,
        [
            (x509.BasicConstraints(False, None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                False,
            ),
        ],
    )
    client = certificate(
        common_name("booth ", instance),
        client_key,
        issuer,
        [
            (x509.BasicConstraints(False, None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        ],
    )
    files = {}
    for directory, cert, key in (
        (SERVER_TLS_DIR, server, server_key),
        (CLIENT_TLS_DIR, client, client_key),
    ):
        files[f"{directory}/ca.pem"] = pem(ca)
        files[f"{directory}/cert.pem"] = pem(cert)
        files[f"{directory}/key.pem"] = pem_key(key)
    return files


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


class Issuing:
    """Certificates being issued on a thread, started before the sidecar exists.

    Issuing (importing ``cryptography``, three key pairs, three signatures) costs tens of
    milliseconds of CPU between the sidecar's create and its start, on the critical path
    of every cold ``apply``; begun when the run starts, it overlaps the network's
    creation, which is spent waiting on the engine.
    """

    def __init__(self, instance: str) -> None:
        self._result: dict[str, bytes] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._issue, args=(instance,), name="booth-certificates", daemon=True
        )
        self._thread.start()

    def _issue(self, instance: str) -> None:
        try:
            self._result = issue(instance)
        except BaseException as err:  # handed to the caller of files()
            self._error = err

    def files(self) -> dict[str, bytes]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def install_in_sidecar(
    engine: Engine, sidecar: str, instance: str, issuing: Issuing | None = None
) -> dict[str, bytes]:
    """Install fresh files in a created sidecar; return the client's, by file name."""
    files = issuing.files() if issuing is not None else issue(instance)
    engine.put_files(sidecar, files)
    return {f: files[f"{CLIENT_TLS_DIR}/{f}"] for f in FILES}


def install_in_booth(
    engine: Engine, sidecar: str, booth: str, client: Mapping[str, bytes] | None = None
) -> None:
    """Copy the client files into the booth's ``DOCKER_CERT_PATH``: those this run
    installed in the sidecar, or else the ones the sidecar holds, read back from it.

    Reading back costs the engine an archive request (tens of milliseconds of its CPU
    while the inner daemon boots), so a run that issued the files uses them directly.
    """
    if client is None:
        client = engine.read_files(sidecar, CLIENT_TLS_DIR)
    engine.put_files(booth, {f"{BOOTH_CERT_PATH}/{f}": client[f] for f in FILES})


def present(engine: Engine, container: str, directory: str) -> bool:
    """Whether ``container`` holds a complete set in ``directory``."""
    try:
        files: Mapping[str, bytes] = engine.read_files(container, directory)
    except EngineNotFound:
        return False
    return all(posixpath.basename(f) in files for f in FILES)
