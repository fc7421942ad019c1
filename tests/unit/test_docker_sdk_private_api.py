"""The docker SDK's private parts booth leans on, checked against the installed SDK.

``docker_calls.demuxed_logs`` reads a log as the SDK's own ``logs`` does but keeps each
frame's stream, through the SDK's request helpers; ``docker_calls._patch_ssh_close``
quietens the SDK's shell-out SSH socket (used now only when an SSH engine's socket
cannot be forwarded, ``engine_connect.over_ssh``). A docker-py release that renames or
reshapes them fails here, not in a user's ``booth logs``.
"""

from __future__ import annotations

import inspect

import docker
import pytest

import reconciler.docker_calls  # noqa: F401  (installs the SSH socket's patch)

REQUEST_HELPERS = {
    "_get": ["self", "args", "kwargs"],
    "_url": ["self", "pathfmt", "args", "kwargs"],
    "_raise_for_status": ["self", "response"],
    "_disable_socket_timeout": ["self", "socket"],
    "_get_raw_response_socket": ["self", "response"],
}


@pytest.mark.parametrize("name", sorted(REQUEST_HELPERS))
def test_the_request_helpers_demuxed_logs_uses_are_there(name: str) -> None:
    helper = getattr(docker.APIClient, name)
    assert list(inspect.signature(helper).parameters) == REQUEST_HELPERS[name]


def test_the_ssh_sockets_close_is_patched_and_its_process_still_named_proc() -> None:
    from docker.transport.sshconn import SSHSocket as socket_class  # the ssh extra's

    assert socket_class.close.__qualname__ == "_patch_ssh_close.<locals>.close"
    # The patch ends ``self.proc`` when the SDK's own close fails.
    assert "self.proc = subprocess.Popen(" in inspect.getsource(socket_class)
