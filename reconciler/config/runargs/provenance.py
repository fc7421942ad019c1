"""Which config line or flag a late failure's value came from.

``plan`` checks what it can; the engine still refuses some values only when it creates
or starts a container (a bind source removed since, a device that vanished, a value
its host does not support). Its message names the value, not where the user wrote it,
and a booth's run-args come from several places (``run-args``, ``common-args``,
``env-file`` in the config file, ``--run-arg`` on the command line). This finds the
run-arg word whose value the message quotes and names its source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reconciler.config.runargs.routing import Word
from reconciler.errors import BoothError, RunInterrupted

# A value quoted in an engine message stands between characters that no path, name
# or option value uses around it (quotes, spaces, colons).
_PIECES = re.compile(r"[=,:\s]+")
_MIN_PIECE = 3


def attributed(err: BoothError, words: Sequence[Word]) -> BoothError:
    """``err`` with the source of the run-arg it quotes appended, when one does."""
    if isinstance(err, RunInterrupted):
        return err  # names a step, not a value
    message = str(err)
    found = quoted_word(message, words)
    if found is None:
        return err
    return type(err)(f"{message} (the value comes from {found.source}: {found.text!r})")


def quoted_word(message: str, words: Sequence[Word]) -> Word | None:
    """The word with the longest value that the message quotes as a whole token."""
    best: tuple[int, Word] | None = None
    for word in words:
        for piece in _PIECES.split(word.text):
            if len(piece) < _MIN_PIECE or piece.startswith("-"):
                continue  # a flag's name, or too short to tell
            if _quotes(message, piece) and (best is None or len(piece) > best[0]):
                best = (len(piece), word)
    return best[1] if best is not None else None


def _quotes(message: str, piece: str) -> bool:
    pattern = rf"(?<![\w./-]){re.escape(piece)}(?![\w./-])"
    return re.search(pattern, message) is not None
