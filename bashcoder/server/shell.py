"""Which documents the server completes: shell scripts, and nothing else.

A document is served when its languageId says shell (`shellscript` in VS Code,
`sh`/`bash` in Neovim) or when its first line is a bash/sh shebang, whatever
the client called it. Everything else gets no suggestions.
"""

from __future__ import annotations

import re

SHELL_LANGUAGE_IDS = frozenset({"shellscript", "sh", "bash"})
_SHEBANG = re.compile(r"#![ \t]*(?:\S*/)?(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:ba)?sh(?![\w.-])")


def has_shell_shebang(text: str) -> bool:
    """True when the first line is `#!/bin/bash`, `#!/usr/bin/env sh`, `#!/usr/bin/env -S bash -e`...
    (after a UTF-8 byte order mark, which some Windows editors write)."""
    return _SHEBANG.match(text[:200].removeprefix("\ufeff")) is not None


def is_shell(language_id: str | None, text: str) -> bool:
    """Whether the server should complete in a document with this languageId and text."""
    if language_id is not None and language_id.lower() in SHELL_LANGUAGE_IDS:
        return True
    return has_shell_shebang(text)
