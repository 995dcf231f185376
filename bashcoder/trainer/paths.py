"""Where long work writes, checked before it starts: one line naming the flag instead of a traceback
after hours of collecting, training or measuring. No torch here: collect uses it too."""

from __future__ import annotations

import os
from pathlib import Path

from bashcoder.engine.errors import BashcoderError


def make_output_dir(out: Path, flag: str = "--out") -> Path:
    """`out` made (with its parents) as a directory and returned.

    BashcoderError naming `flag` when `out` is a file or cannot be created.
    """
    if out.exists() and not out.is_dir():
        raise BashcoderError(f"{flag} {out} is a file; name a directory.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BashcoderError(
            f"{flag} {out}: cannot create it ({exc.strerror}); choose a directory you can write."
        ) from exc
    return out


def check_output_file(path: Path, flag: str) -> None:
    """BashcoderError naming `flag` unless `path` can be written as a file: not a directory, its folder
    made and writable."""
    if path.is_dir():
        raise BashcoderError(f"{flag} {path} is a directory; name a file.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BashcoderError(f"{flag} {path}: cannot create its folder ({exc.strerror}).") from exc
    if not os.access(path.parent, os.W_OK):
        raise BashcoderError(f"{flag} {path}: its folder is not writable; choose another place.")
