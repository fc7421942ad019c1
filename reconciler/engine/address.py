"""Where the engine booth talks to is (its :class:`EngineAddress`: URL, TLS, transport),
resolved as the docker CLI resolves it.

One name for the engine's location: ``EngineAddress`` here and ``Engine.address`` (its
URL); the inner daemon's listener is ``endpoints.InnerListener``.

Order (docker CLI ``cli/command/cli.go``): ``--context NAME``; else ``DOCKER_HOST``
(with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``); else ``DOCKER_CONTEXT``; else the
``currentContext`` of ``$DOCKER_CONFIG/config.json`` (``~/.docker``); else the local
socket. A context is read from the CLI's own store (``contexts/meta/<sha256 of the
name>/meta.json`` and its TLS files), so booth and ``docker`` always agree, whichever
docker SDK is installed (7.1 ignores contexts). Pure: files and environment in, an
:class:`EngineAddress` out; no SDK.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from reconciler.errors import ConfigError, shown
from reconciler.files import existing_file, read_small_text

DEFAULT_HOST = "unix:///var/run/docker.sock"
LOCAL_SCHEMES = ("unix", "npipe")


@attrs.frozen
class Tls:
    """TLS material: ``ca`` is None when the server is not verified."""

    ca: str | None
    cert: str | None
    key: str | None

    @property
    def verify(self) -> bool:
        return self.ca is not None


@attrs.frozen
class EngineAddress:
    url: str
    source: str  # "default" | "DOCKER_HOST" | "context NAME"
    tls: Tls | None = None

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0]

    @property
    def is_local(self) -> bool:
        """A socket on this machine: bind sources and host ports are this host's."""
        return self.scheme in LOCAL_SCHEMES

    @property
    def transport(self) -> str:
        if self.scheme == "tcp":
            return "tcp+tls" if self.tls is not None else "tcp"
        return self.scheme

    @property
    def host(self) -> str:
        """The engine's host as a person names it: ``user@host:port`` or ``host``."""
        return urlsplit(self.url).netloc if not self.is_local else "this machine"


def resolve(context: str | None = None, environ: Mapping[str, str] | None = None) -> EngineAddress:
    env = os.environ if environ is None else environ
    if context:
        return from_context(context, env)
    if env.get("DOCKER_HOST"):
        return _checked(
            EngineAddress(env["DOCKER_HOST"], "DOCKER_HOST", _env_tls(env)), "DOCKER_HOST"
        )
    name = env.get("DOCKER_CONTEXT") or _current_context(env)
    if name:
        return from_context(name, env)
    return EngineAddress(DEFAULT_HOST, "default")


def _checked(address: EngineAddress, what: str) -> EngineAddress:
    """An address the SDK and ``EngineAddress.host`` can parse, or one line naming ``what``
    set it (``tcp://[::1`` and ``tcp://host:99999`` raised deep inside them)."""
    try:
        parts = urlsplit(address.url)
        port = parts.port
    except ValueError as err:
        reason = str(err).replace("Port", "port")
        raise ConfigError(
            f"{what}: {shown(address.url)} is not an engine address ({reason}); expected "
            "unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]"
        ) from None
    if parts.scheme in ("tcp", "ssh", "http", "https") and not parts.hostname:
        raise ConfigError(f"{what}: {shown(address.url)} names no host")
    if port == 0:
        raise ConfigError(f"{what}: {shown(address.url)}: port 0 is not a port an engine uses")
    return address


def from_context(name: str, environ: Mapping[str, str]) -> EngineAddress:
    if name == "default":
        # The CLI's built-in context: DOCKER_HOST if set, else the local socket.
        if environ.get("DOCKER_HOST"):
            env_host = EngineAddress(environ["DOCKER_HOST"], "DOCKER_HOST", _env_tls(environ))
            return _checked(env_host, "DOCKER_HOST")
        return EngineAddress(DEFAULT_HOST, "context default")
    context_id = hashlib.sha256(name.encode()).hexdigest()
    store = config_dir(environ) / "contexts"
    meta_file = store / "meta" / context_id / "meta.json"
    what = f"docker context {shown(repr(name))}"
    meta_what = f"{what}: its meta.json ({meta_file})"
    if existing_file(meta_file, meta_what) is None:
        raise ConfigError(f"{what} not found (no {meta_file}); `docker context ls` lists them")
    text = read_small_text(meta_file, meta_what)
    try:
        docker = json.loads(text)["Endpoints"]["docker"]
        host = str(docker["Host"])
    except (ValueError, KeyError, TypeError, IndexError):
        raise ConfigError(
            f"{what}: its meta.json ({meta_file}) is broken: expected JSON with "
            "Endpoints.docker.Host; `docker context inspect` shows it, `docker context rm` "
            "removes it"
        ) from None
    tls_dir = store / "tls" / context_id / "docker"
    where = f"{what} (host in {meta_file})"
    return _checked(EngineAddress(host, f"context {name}", _context_tls(tls_dir, docker)), where)


def config_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get("DOCKER_CONFIG")
    return Path(configured) if configured else Path.home() / ".docker"


def _current_context(environ: Mapping[str, str]) -> str | None:
    try:
        config = json.loads((config_dir(environ) / "config.json").read_text())
    except (OSError, ValueError):
        return None  # as the CLI: an unreadable config means the default context
    name = config.get("currentContext") if isinstance(config, dict) else None
    return str(name) if name and name != "default" else None


def _context_tls(tls_dir: Path, docker: Mapping[str, object]) -> Tls | None:
    files = {f: str(tls_dir / f"{f}.pem") for f in ("ca", "cert", "key")}
    present = {f: p for f, p in files.items() if Path(p).is_file()}
    if not present and not docker.get("SkipTLSVerify"):
        return None
    verify = not docker.get("SkipTLSVerify")
    return Tls(
        ca=present.get("ca") if verify else None,
        cert=present.get("cert"),
        key=present.get("key"),
    )


def _env_tls(environ: Mapping[str, str]) -> Tls | None:
    """TLS as the docker CLI and SDK read it: ``DOCKER_TLS_VERIFY`` (any non-empty value)
    verifies against ``DOCKER_CERT_PATH/ca.pem``; ``DOCKER_TLS`` or a cert path alone
    encrypt without verifying."""
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    cert_path = environ.get("DOCKER_CERT_PATH")
    if not (verify or environ.get("DOCKER_TLS") or cert_path):
        return None
    directory = Path(cert_path) if cert_path else config_dir(environ)
    cert, key = directory / "cert.pem", directory / "key.pem"
    has_client = cert.is_file() and key.is_file()
    return Tls(
        ca=str(directory / "ca.pem") if verify else None,
        cert=str(cert) if has_client else None,
        key=str(key) if has_client else None,
    )


def unreachable(where: EngineAddress, detail: str) -> str:
    """The message for an engine booth cannot connect to (``detail``: the SDK's, whole)."""
    if where.scheme == "ssh" and "paramiko" in detail:
        return (
            f"ssh:// endpoints ({where.url}, {where.source}) need booth's ssh extra: "
            "pip install 'booth-reconciler[ssh]'"
        )
    return (
        f"cannot reach the Docker engine at {shown(where.url)} ({where.source}): "
        f"{root_cause(detail)}; is the engine running and are DOCKER_HOST/--context right?"
    )


# What is left of an SDK/urllib3 connection error once its wrappers are peeled off:
# "[Errno 111] Connection refused", "FileNotFoundError(2, 'No such file or directory')",
# "RemoteDisconnected('Remote end closed connection without response')".
_CAUSES = (
    re.compile(r"\[Errno -?\d+\] ([^'\"()\]]+)"),
    re.compile(r"\w+Error\(-?\d+, '([^']+)'\)"),
    re.compile(r"RemoteDisconnected\('([^']+)'\)"),
    re.compile(r"(timed out)"),
    re.compile(r"(\d{3}) (?:Client|Server) Error.*: (.+)$"),
)
_PREFIX = "Error while fetching server API version: "


def root_cause(detail: str) -> str:
    """The one phrase of a connection error a person needs ("connection refused")."""
    text = detail.removeprefix(_PREFIX).strip()
    for pattern in _CAUSES:
        found = pattern.search(text)
        if found is None:
            continue
        if len(found.groups()) == 2:
            return f"it answered HTTP {found.group(1)} {found.group(2)}, not as a Docker engine"
        cause = found.group(1).strip().rstrip(".")
        return cause[:1].lower() + cause[1:]
    text = re.sub(r"\w*ConnectionPool\([^)]*\): ", "", text)
    return shown(text if len(text) <= 160 else text[:157] + "...")
