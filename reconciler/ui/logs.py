"""Logging set-up: sentences for people, structlog events for debugging and machines.

Without ``-v`` and ``--log-format json``/``console``, an info or warning event is said as
one sentence on stderr (:mod:`reconciler.ui.sentences`; warnings as ``booth: warning: …``,
yellow on a terminal), never as ``[info] session.ended removed=3``. With ``-v`` the
events are rendered by structlog's console renderer, with ``--log-format json`` as JSON
lines.

structlog (with the asyncio it pulls in) costs about 70 ms to import, a fifth of a
converged ``booth plan``; most runs log nothing at all. So modules log through
:func:`get_logger`, whose events import and configure structlog only when one actually
passes the level filter. Everything goes to stderr so stdout stays clean for plans and JSON.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import attrs

from reconciler.ui import colour
from reconciler.ui.sentences import sentence

LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
_METHOD_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
}


@attrs.define
class _Settings:
    """The process's logging choice; one per process, like structlog's own configuration."""

    log_format: str = "auto"
    min_level: int = logging.INFO
    verbose: bool = False
    structlog_ready: bool = False


_settings = _Settings()


def configure(log_format: str = "auto", verbosity: int = 0) -> None:
    """``verbosity``: -1 quiet (warnings and errors), 0 normal, 1 debug."""
    _settings.log_format = log_format
    _settings.min_level = LEVELS[max(-1, min(1, verbosity))]
    _settings.verbose = verbosity > 0
    _settings.structlog_ready = False


def _structlog() -> Any:
    import structlog

    if not _settings.structlog_ready:
        use_json = _settings.log_format == "json"
        renderer: Any
        if use_json:
            renderer = structlog.processors.JSONRenderer()
        else:
            colors = _settings.log_format == "console" or (
                _settings.log_format == "auto" and sys.stderr.isatty()
            )
            renderer = structlog.dev.ConsoleRenderer(colors=colors, pad_event_to=0)
        processors: list[Any] = [structlog.processors.add_log_level]
        if use_json:
            processors.append(structlog.processors.TimeStamper(fmt="iso", utc=True))
        processors.append(renderer)
        structlog.configure(
            processors=processors,
            wrapper_class=structlog.make_filtering_bound_logger(_settings.min_level),
            logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
            cache_logger_on_first_use=False,
        )
        _settings.structlog_ready = True
    return structlog


@attrs.frozen
class Logger:
    """structlog's event API (``log.info("step.done", index=3)``) for the levels booth uses."""

    def debug(self, event: str, **values: Any) -> None:
        self._emit("debug", event, values)

    def info(self, event: str, **values: Any) -> None:
        self._emit("info", event, values)

    def warning(self, event: str, **values: Any) -> None:
        self._emit("warning", event, values)

    def _emit(self, method: str, event: str, values: dict[str, Any]) -> None:
        if _METHOD_LEVELS[method] < _settings.min_level:
            return
        if says_sentences():
            _say(method, event, values)
            return
        getattr(_structlog().get_logger(), method)(event, **values)


def get_logger() -> Logger:
    return Logger()


def says_sentences() -> bool:
    """Whether events are said as sentences: no ``-v``, and no ``--log-format`` asking for
    events (``json`` for machines, ``console`` for structlog's rendering)."""
    return _settings.log_format == "auto" and not _settings.verbose


def _say(method: str, event: str, values: dict[str, Any]) -> None:
    text = sentence(event, values)
    if method == "warning":
        label = colour.paint("warning:", colour.YELLOW, on=colour.enabled(sys.stderr))
        text = f"booth: {label} {text}"
    print(text, file=sys.stderr, flush=True)
