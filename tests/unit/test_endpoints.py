"""The ``daemon-endpoint`` key: specs per mode, the certificates booth makes, and the
archive it copies them in with. Pure: no engine."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from booth_builders import without_contract
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from reconciler.apply import certificates
from reconciler.config.booth_config import CliInputs, load_config
from reconciler.config.desired import SIDECAR_COMMAND, build_cluster_desired, build_desired
from reconciler.core.inner_daemon import CLIENT_TLS_DIR, SERVER_TLS_DIR, InnerListener
from reconciler.core.model import Role
from reconciler.engine.archives import tar as _tar
from reconciler.errors import ConfigError


def graph(tmp_path: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    (tmp_path / ".booth").mkdir(exist_ok=True)
    (tmp_path / ".booth" / "config.toml").write_text(f"dind = true\n{extra}", encoding="utf-8")
    return build_desired(load_config(str(tmp_path), None, CliInputs(), host_env={}))


def env_of(resource) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(item.partition("=")[::2] for item in without_contract(resource.spec["Env"]))


def test_tls_is_the_default_and_needs_no_penalty(tmp_path: Path) -> None:
    desired = graph(tmp_path)
    sidecar, booth = desired.get(Role.SIDECAR), desired.get(Role.BOOTH)
    assert sidecar is not None and booth is not None
    assert sidecar.inner_listener == booth.inner_listener == InnerListener.TLS
    command = sidecar.spec["Cmd"]
    assert "--host=tcp://127.0.0.1:2376" in command and "--tlsverify" in command
    assert not any("2375" in word for word in command)
    env = env_of(booth)
    assert env["DOCKER_HOST"] == "tcp://localhost:2376"
    assert env["DOCKER_TLS_VERIFY"] == "1"
    assert env["DOCKER_CERT_PATH"] == "/etc/booth/docker-tls"


def test_tcp_is_exactly_the_seed(tmp_path: Path) -> None:
    desired = graph(tmp_path, 'daemon-endpoint = "tcp"\n')
    sidecar, booth = desired.get(Role.SIDECAR), desired.get(Role.BOOTH)
    assert sidecar is not None and booth is not None
    assert tuple(sidecar.spec["Cmd"]) == SIDECAR_COMMAND
    assert "--tls=false" in SIDECAR_COMMAND
    assert without_contract(booth.spec["Env"]) == ["DOCKER_HOST=tcp://localhost:2375"]
    assert "VolumesFrom" not in booth.spec["HostConfig"]


def test_unix_shares_a_socket_volume(tmp_path: Path) -> None:
    desired = graph(tmp_path, 'daemon-endpoint = "unix"\n')
    sidecar, booth = desired.get(Role.SIDECAR), desired.get(Role.BOOTH)
    assert sidecar is not None and booth is not None
    assert sidecar.spec["Volumes"] == {"/booth-docker": {}}
    assert "--host=unix:///booth-docker/docker.sock" in sidecar.spec["Cmd"]
    assert not any(word.startswith("--host=tcp") for word in sidecar.spec["Cmd"])
    assert booth.spec["HostConfig"]["VolumesFrom"] == [f"{sidecar.name}:ro"]
    assert env_of(booth) == {"DOCKER_HOST": "unix:///booth-docker/docker.sock"}


def test_the_spec_is_the_same_on_every_build(tmp_path: Path) -> None:
    # Certificates are made at execute time: a plan never replaces because of them.
    assert [r.spec_hash for r in graph(tmp_path)] == [r.spec_hash for r in graph(tmp_path)]


def test_modes_differ_in_the_spec_so_switching_replaces(tmp_path: Path) -> None:
    hashes = {
        mode: graph(tmp_path, f'daemon-endpoint = "{mode}"\n').get(Role.SIDECAR).spec_hash  # type: ignore[union-attr]
        for mode in ("tls", "unix", "tcp")
    }
    assert len(set(hashes.values())) == 3


def test_kubernetes_keeps_the_tcp_endpoint(tmp_path: Path) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text("dind = true\n", encoding="utf-8")
    config = load_config(str(tmp_path), None, CliInputs(), host_env={})
    sidecar = build_cluster_desired(config).get(Role.SIDECAR)
    assert sidecar is not None and tuple(sidecar.spec["Cmd"]) == SIDECAR_COMMAND


def test_an_unknown_endpoint_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config.toml:2: daemon-endpoint must be one of tls"):
        graph(tmp_path, 'daemon-endpoint = "ssh"\n')


def test_issued_certificates_chain_to_one_ca() -> None:
    files = certificates.issue("demo-10000")
    assert set(files) == {
        f"{d}/{f}" for d in (SERVER_TLS_DIR, CLIENT_TLS_DIR) for f in certificates.FILES
    }
    assert files[f"{SERVER_TLS_DIR}/ca.pem"] == files[f"{CLIENT_TLS_DIR}/ca.pem"]
    ca = x509.load_pem_x509_certificate(files[f"{SERVER_TLS_DIR}/ca.pem"])
    server = x509.load_pem_x509_certificate(files[f"{SERVER_TLS_DIR}/cert.pem"])
    client = x509.load_pem_x509_certificate(files[f"{CLIENT_TLS_DIR}/cert.pem"])
    for cert in (server, client):
        cert.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    # Fresh for every sidecar: nothing is shared between instances or runs.
    assert (
        certificates.issue("demo-10000")[f"{SERVER_TLS_DIR}/ca.pem"]
        != files[f"{SERVER_TLS_DIR}/ca.pem"]
    )


def test_certificates_issued_ahead_are_a_whole_fresh_set() -> None:
    """The set issued on a thread while earlier steps run is the set ``issue`` makes."""
    files = certificates.Issuing("demo-10000").files()
    assert set(files) == set(certificates.issue("demo-10000"))
    server = x509.load_pem_x509_certificate(files[f"{SERVER_TLS_DIR}/cert.pem"])
    server.verify_directly_issued_by(
        x509.load_pem_x509_certificate(files[f"{SERVER_TLS_DIR}/ca.pem"])
    )
    assert (
        "booth CA demo-10000"
        in x509.load_pem_x509_certificate(
            files[f"{CLIENT_TLS_DIR}/ca.pem"]
        ).subject.rfc4514_string()
    )


def test_a_failure_while_issuing_ahead_reaches_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(instance: str) -> dict[str, bytes]:
        raise ValueError(f"no keys for {instance}")

    monkeypatch.setattr(certificates, "issue", broken)
    issuing = certificates.Issuing("demo-10000")
    with pytest.raises(ValueError, match="no keys for demo-10000"):
        issuing.files()


def test_the_archive_creates_only_our_directories() -> None:
    data = _tar({"/etc/booth/tls/server/ca.pem": b"x", "/etc/booth/docker-tls/key.pem": b"y"})
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert "etc" not in members
    assert members["etc/booth"].isdir() and members["etc/booth/tls/server"].isdir()
    assert members["etc/booth/tls/server/ca.pem"].mode == 0o644
