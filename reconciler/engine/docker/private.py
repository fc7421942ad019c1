"""Every place booth leans on the Docker SDK's, requests' or the socket module's insides.

booth prefers public APIs; what is here has none that does the job (each docstring says
why, and what was tried). Nothing else in the package reads a dependency's private
attribute, overrides its methods or patches it: ``tests/unit/test_private_apis.py``
checks each one against the installed libraries, on real objects and sockets, so a
release that changes them fails there, not in a user's ``booth run``. Checked against
docker 7.2.0, requests 2.34.2, urllib3 2.8.0 and CPython 3.11.

Imported only by ``docker_calls`` and ``docker_engine`` (through ``docker_sdk``).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.engine.docker.sdk import docker
from reconciler.engine.seam import Stream


def hijacked_socket(handle: Any) -> Stream:
    """The socket under the connection the SDK hands back for an attach or an exec
    (``attach_socket``, ``exec_start(socket=True)``).

    Over ``unix://`` and plain ``tcp://`` the SDK returns the ``socket.SocketIO`` its HTTP
    response read through; over TLS the ``ssl.SSLSocket`` and over SSH its socket or
    channel, which are usable as they are. booth's loops need the socket itself:
    ``select`` works on a SocketIO, but it has neither ``recv``/``sendall`` nor
    ``shutdown``, and ``booth exec -i`` ends its stdin with ``shutdown(SHUT_WR)``. Its
    only public handle on the socket is ``fileno()``; a socket made from a ``dup`` of it
    would be a second descriptor with its own timeout (the first one's cannot be read
    without ``_sock`` either) and the engine would see the stream end only when both are
    closed. So this reads ``SocketIO._sock``, as the SDK itself does for TLS (docker
    7.2.0 ``APIClient._get_raw_response_socket``, ``_disable_socket_timeout``); the
    attribute has been there since Python 3.0."""
    if isinstance(handle, socket.SocketIO):
        sock: Stream = handle._sock  # type: ignore[attr-defined]
        return sock
    stream: Stream = handle
    return stream


class APIClient(docker.APIClient):
    """The SDK's client with two methods overridden: both are public, but what they fix
    depends on how the SDK and requests call them.

    ``merge_environment_settings``: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
    replace a session's own CA file on every request (psf/requests#3829, still so in
    2.34.2): the engine's CA must win, as in the docker CLI. The public alternative,
    ``trust_env = False``, would also drop the proxy variables and ``.netrc``.

    ``version``: the engine's unversioned ``/version`` is asked once. The SDK's
    constructor asks it to learn the API version (through ``self.version(api_version=
    False)``, docker 7.2.0), booth again for the engine's identity (the plan's first
    line), and dockerd answers it by asking containerd and runc for theirs. Without the
    override a run asks twice; nothing else changes.
    """

    _unversioned: dict[str, Any] | None = None

    def seed_version(self, document: Mapping[str, Any]) -> None:
        """The ``/version`` another client of this engine already asked (see above)."""
        self._unversioned = dict(document)

    def version(self, api_version: bool = True) -> dict[str, Any]:
        if api_version:
            return super().version(api_version)
        if self._unversioned is None:
            self._unversioned = super().version(api_version=False)
        return self._unversioned

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if verify is None and isinstance(self.verify, str):
            verify = self.verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


def quiet_close(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """``original`` (``SSHSocket.close``), ending the ssh process when it fails."""

    def close(self: Any) -> None:
        try:
            original(self)
        except OSError:
            with contextlib.suppress(OSError):
                self.proc.terminate()

    close.__wrapped__ = original  # type: ignore[attr-defined]  # for the test: the SDK's own
    return close


def quieten_ssh_close() -> None:
    """Patch the SDK's shell-out SSH socket (``docker.transport.sshconn.SSHSocket``) so
    that its ``close`` does not raise.

    Its ``close`` writes to ssh's stdin: after the engine ended a stream (every exec
    does) ssh has exited and that raises BrokenPipeError, from inside the SDK's own
    calls (``exec_start`` closes the response in a ``finally``: the exec's output is lost
    to the exception). The socket is made inside the SDK's connection class, so there is
    no subclass to hand it; the class's ``close`` is replaced, once, by one that ends the
    ssh process instead. Used only when an SSH engine's socket cannot be forwarded
    (``engine_connect.over_ssh``). Checked against docker 7.2.0 (the socket's process is
    ``self.proc``). Without paramiko the SDK has no SSH transport and nothing is patched.
    """
    try:
        from docker.transport.sshconn import SSHSocket
    except ImportError:  # no paramiko: ssh:// fails with its own message at connect
        return
    if SSHSocket.close.__qualname__ != _QUIET_CLOSE:
        SSHSocket.close = quiet_close(SSHSocket.close)  # type: ignore[method-assign,assignment]


_QUIET_CLOSE = "quiet_close.<locals>.close"
quieten_ssh_close()
