"""Shell completion scripts, generated from the argument parser by shtab.

shtab reads the same parser ``booth`` parses with, so a new command, option or choice
completes the moment it exists, in bash, zsh (a native ``_arguments`` completion, not
bash's emulated) and tcsh. It replaced a hand-written generator that walked argparse's
private ``_actions`` and knew only bash. Imported only by ``booth completion``.
"""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "tcsh")

# shtab's hints (shtab.FILE, shtab.DIRECTORY) spelled out, so that the parser can carry
# them without every ``booth`` process importing shtab.
FILE = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}
DIRECTORY = {"bash": "_shtab_compgen_dirs", "zsh": "_files -/", "tcsh": "d"}


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    import shtab

    text: str = shtab.complete(parser, shell=shell)
    return text if text.endswith("\n") else text + "\n"
