"""The Hypothesis profiles of tests/conftest.py: ``ci`` makes failures reproducible."""

from __future__ import annotations

import os

from hypothesis import settings


def test_ci_profile_is_derandomized_without_deadline_or_database() -> None:
    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.deadline is None
    assert ci.database is None
    assert ci.print_blob is True


def test_dev_profile_searches_randomly() -> None:
    assert settings.get_profile("dev").derandomize is False


def test_the_profile_named_by_hypothesis_profile_is_active() -> None:
    name = os.environ.get("HYPOTHESIS_PROFILE")
    if name:
        assert settings.default == settings.get_profile(name)
