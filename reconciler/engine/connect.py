"""Which client serves an engine address: the transport, chosen once per run.

- ``unix://`` (the local engine, Docker's or Podman's): ``unix_engine``, its reads over
  the socket without importing the SDK.
- ``ssh://``: one ``ssh -N -L`` per run (``engine/ssh_tunnel.py``), then the same
  ``unix_engine`` on the tunnel's socket: one SSH connection for every request of the
  run. If ssh logs in but cannot reach the engine's socket there (not at
  ``/var/run/docker.sock``, or the server forbids socket forwarding), the SDK's SSH
  transport takes over (``docker system dial-stdio``, which asks the remote docker CLI
  where its engine is) with a warning: slower, one SSH connection per HTTP connection.
- anything else (``tcp://``, TLS): the SDK's engine, one connection pool for the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.engine.address import EngineAddress, resolve
from reconciler.engine.engine import Engine
from reconciler.errors import BoothError, DockerUnavailableError
from reconciler.ui.logs import get_logger

if TYPE_CHECKING:
    from reconciler.engine.ssh_tunnel import SshTunnel

log = get_logger()

# What ssh says when it is logged in but the socket at the other end refuses a channel.
_CHANNEL_REFUSED = ("open failed", "administratively prohibited")


# An SSH tunnel started before the engine was needed (``prestart``), for ``over_ssh``.
_started: list[SshTunnel] = []


def prestart(context: str | None) -> None:
    """Start the SSH login of an ``ssh://`` engine now, so that it overlaps the imports
    and the config's reading that come before the first request (a login is most of a
    converged plan over SSH). Whatever fails here is left for ``connect`` to report."""
    try:
        where = resolve(context)
        if where.scheme == "ssh":
            from reconciler.engine.ssh_tunnel import SshTunnel

            _started.append(SshTunnel.start(where))
    except BoothError:
        return


def close_unused() -> None:
    """End a prestarted tunnel no engine took (the run failed or ended before)."""
    while _started:
        _started.pop().close()


def connect(where: EngineAddress) -> Engine:
    if where.scheme == "unix":
        from reconciler.engine.unix import engine as unix_engine

        return unix_engine.connect(where)
    if where.scheme == "ssh":
        return over_ssh(where)
    from reconciler.engine.docker import engine as docker_engine

    return docker_engine.at(where)


def over_ssh(where: EngineAddress) -> Engine:
    """The engine behind one SSH tunnel (see the module's docstring for the fallback)."""
    from reconciler.engine.ssh_tunnel import SshTunnel, failure_line
    from reconciler.engine.unix import engine as unix_engine

    tunnel = _take_started(where) or SshTunnel.start(where)
    try:
        tunnel.wait_until_listening()
        return unix_engine.connect(where, tunnel=tunnel)
    except DockerUnavailableError:
        said = tunnel.stderr()
        tunnel.close()
        if not any(refused in said for refused in _CHANNEL_REFUSED):
            raise
    except BaseException:  # a Ctrl-C during the login, say: ssh ends with it
        tunnel.close()
        raise
    log.warning(
        "ssh.forward_refused",
        endpoint=where.url,
        detail=f"{failure_line(said)}; every connection now runs docker system dial-stdio",
    )
    from reconciler.engine.docker import engine as docker_engine

    return docker_engine.at(where)


def _take_started(where: EngineAddress) -> SshTunnel | None:
    for tunnel in _started:
        if tunnel.address == where:
            _started.remove(tunnel)
            return tunnel
    return None
