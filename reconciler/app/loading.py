"""A config being loaded while its build context may still be hashed: what ``plan``,
``apply``, ``run`` and ``status`` hold between reading the config and asking the engine.

Why a value of its own: the engine is asked before the desired graph is complete, so
what the observation needs (the instance, the tag of the built image, the base images
whose ONBUILD triggers decide whether the context is read at all) has to be known from
the config alone, and the graph completed afterwards, once, with what the engine said.
"""

from __future__ import annotations

import attrs

from reconciler.config.booth_config import BoothConfig, with_context_digest
from reconciler.config.desired import build_desired
from reconciler.core.model import CONTEXT_UNREAD, ActualState, DesiredGraph
from reconciler.image.hashing import ContextHashing
from reconciler.ui.logs import get_logger

log = get_logger()


@attrs.define
class Loading:
    """A config read, its build context perhaps still being hashed (``context_hashing``):
    what needs no hash (the instance, the tag to observe) is known already, and
    :meth:`result` completes config and desired graph once."""

    config: BoothConfig
    hashing: ContextHashing | None
    _result: tuple[BoothConfig, DesiredGraph] | None = attrs.field(default=None, init=False)

    def result(self, actual: ActualState | None = None) -> tuple[BoothConfig, DesiredGraph]:
        """Config and desired graph; warnings are logged only once both are known to be
        valid, so a bad input prints its one error line and nothing else.

        ``actual``: what the engine has, the base images' ONBUILD triggers included. A
        build that reads no file of its context is then known as such, and the context
        is not walked at all (:data:`CONTEXT_UNREAD`)."""
        if self._result is None:
            config = self.config
            if self.hashing is not None:
                config = with_context_digest(config, self._context_digest(actual))
            desired = build_desired(config)
            for warning in config.warnings:
                log.warning("config.warning", detail=warning)
            self._result = config, desired
        return self._result

    def _context_digest(self, actual: ActualState | None) -> str:
        assert self.hashing is not None and self.config.build is not None
        inputs = self.config.build.inputs
        assert inputs is not None, "a config loaded without its walk keeps the inputs"
        if actual is not None and inputs.context_unread(dict(actual.base_triggers)):
            log.debug("context_hashing.unread", bases=inputs.trigger_bases)
            self.hashing.close()
            return CONTEXT_UNREAD
        return self.hashing.digest()

    def built_tag(self) -> str | None:
        """The tag of the image the graph builds (``built_image`` of the result)."""
        return self.config.build.tag if self.config.build is not None else None

    def trigger_bases(self) -> tuple[str, ...]:
        """The base images observation looks at for ONBUILD triggers (see :meth:`result`)."""
        build = self.config.build
        inputs = build.inputs if build is not None else None
        return (inputs.trigger_bases or ()) if inputs is not None else ()
