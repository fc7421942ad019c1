"""Allow ``python -m reconciler``."""

from reconciler.cli import run

run()
