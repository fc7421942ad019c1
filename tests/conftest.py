"""Settings for every test suite: the Hypothesis profiles and CI's skip allow-list.

Hypothesis profiles, chosen with ``HYPOTHESIS_PROFILE``:

- ``dev`` (Hypothesis's defaults): a new random search on every run, failures remembered
  in ``.hypothesis/`` and replayed first;
- ``ci`` (``.ci/run`` selects it): ``derandomize=True``, so a run tests the same examples
  every time and a failure reproduces with the same command; no deadline (CI machines are
  shared and their timing is noisy), no example database, and the failing example's
  reproduction blob printed.

Without ``HYPOTHESIS_PROFILE`` Hypothesis chooses as usual (``ci`` where it detects a CI
environment, such as ``CI`` being set; ``default`` elsewhere).

Skip allow-list: with ``--skip-allowlist FILE`` (``.ci/run`` passes
``tests/expected-skips.txt``), a test that is skipped, xfails or is deselected by a
conftest or plugin (not by ``-k``, ``-m`` or ``--deselect``) without an entry in FILE fails
the run, and so does an entry for a test that ran and was not skipped (the plugin
is tests/skip_allowlist.py; the file's format is described in its own header).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from skip_allowlist import SkipAllowlist

settings.register_profile("dev", settings.get_profile("default"))
settings.register_profile(
    "ci",
    settings.get_profile("default"),
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("booth").addoption(
        "--skip-allowlist",
        metavar="FILE",
        default=None,
        help="fail the run when a test is skipped (or xfails) without an entry in FILE",
    )


def pytest_configure(config: pytest.Config) -> None:
    option = config.getoption("--skip-allowlist")
    if option:
        path = Path(option)
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if not path.is_file():
            raise pytest.UsageError(f"--skip-allowlist: no such file: {option}")
        config.pluginmanager.register(SkipAllowlist(path), "booth-skip-allowlist")


def pytest_report_header() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE") or "(Hypothesis's choice)"
    current = settings.default
    assert current is not None
    return (
        f"hypothesis profile: {chosen}, derandomize={current.derandomize},"
        f" deadline={current.deadline}"
    )
