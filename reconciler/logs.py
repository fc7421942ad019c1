"""structlog set-up: a console renderer for people, JSON lines for machines.

Configured once per process by ``cli.py``; modules only ``structlog.get_logger()``.
Everything goes to stderr so stdout stays clean for plans and JSON.
"""

from __future__ import annotations

import logging
import sys

import structlog

LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}


def configure(log_format: str = "auto", verbosity: int = 0) -> None:
    """``verbosity``: -1 quiet (warnings and errors), 0 normal, 1 debug."""
    use_json = log_format == "json"
    renderer: structlog.typing.Processor
    if use_json:
        renderer = structlog.processors.JSONRenderer()
    else:
        colors = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
        renderer = structlog.dev.ConsoleRenderer(colors=colors, pad_event_to=0)
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
    ]
    if use_json:
        processors.append(structlog.processors.TimeStamper(fmt="iso", utc=True))
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[max(-1, min(1, verbosity))]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
