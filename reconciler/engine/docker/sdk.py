"""The Docker SDK, imported with paramiko deferred until an SSH engine needs it.

``docker.transport`` imports its SSH adapter, and with it paramiko (and invoke, PyNaCl,
PyYAML, cryptography's backends), whenever paramiko is installed (our ``ssh`` extra):
about 60 ms on every ``booth`` command, a sixth of a converged ``booth plan``, although
only an ``ssh://`` engine ever uses it. The SDK touches paramiko only inside the adapter's
methods, so a stand-in module is registered first: ``import paramiko`` finds it, and the
first attribute read from it (an SSH connection being made) imports the real paramiko.
The standard library's ``importlib.util.LazyLoader`` cannot do this on Python 3.11: the
``import`` statement itself reads the module's ``__spec__``, which loads it. Without
paramiko installed nothing is registered and nothing changes (the SDK reports ``ssh://``
as unsupported, as before).

``docker_engine`` and ``docker_calls`` import the SDK from here; nothing else may.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    """Stands in for an installed module until one of its attributes is read."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def _defer_import(name: str) -> None:
    """Register a stand-in for ``name`` if it is installed and not imported yet."""
    spec = None if name in sys.modules else importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


_defer_import("paramiko")

import docker  # noqa: E402  (after the deferral, which is the point)
import docker.errors  # noqa: E402
import docker.tls  # noqa: E402
import docker.utils  # noqa: E402

__all__ = ["docker"]
