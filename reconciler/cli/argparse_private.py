"""The one place booth leans on argparse's insides.

argparse has no public hook between an option's strings and its ``type``: a value is
converted inside ``ArgumentParser._get_values``, and that is where the Python 3.11
argparse drops a ``--`` written as an option's value (``-p=--``). Overriding it is the
only way to give such a value to the option's ``type`` and ``choices``, so ``-p=--`` is
refused as an invalid port spec, as Docker refuses it, instead of being read as no
value at all. ``tests/unit/test_private_apis.py`` checks the three private methods'
signatures and the behaviour on the installed Python (checked on CPython 3.11.7).
"""

from __future__ import annotations

import argparse
from typing import Any


class DashDashValueParser(argparse.ArgumentParser):
    """An argument parser that keeps ``--`` when it is written after ``=``."""

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # `-p=--`, `--config=--`: argparse (3.11, 3.12) drops the `--` as if it were the
        # end of options and stores an empty list. A `type=` never sees it, and a custom
        # Action gets `[]` already converted. Written after `=`, it is the value.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)
