"""Is the input ready to run? Complete, still open (continue on a new line), or wrong.

`bash -n` (through `engine.syntax.bash_check`) decides. An input that merely
stops too early (an open `if`, an unclosed quote, a trailing `|`, a heredoc
without its terminator, a trailing backslash) makes bash complain about the
*end of the file*; any other complaint is a real error, and the input runs
anyway so bash reports it, as a shell would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bashcoder.engine.syntax import bash_check
from bashcoder.repl.bashlex import code_only

State = Literal["empty", "meta", "complete", "incomplete", "error"]

META = re.compile(r"^:[A-Za-z]")
"""`:help`, `:set ...`: a colon then a letter. `:` followed by a space is bash's null command."""
_EOF_MESSAGES = ("unexpected end of file", "unexpected EOF while looking for matching")
_OPEN_HEREDOC = "delimited by end-of-file"
# bash's own complaint, not its quote of the user's line (`echo "unexpected end of file"`).
_EOF_COMPLAINT = re.compile(r"(?:line \d+: )?(?:syntax error: )?(?:" + "|".join(_EOF_MESSAGES) + ")")


@dataclass(frozen=True)
class Verdict:
    """What Enter should do with the input."""

    state: State
    """'empty' and 'meta' and 'complete' and 'error' submit; 'incomplete' continues."""
    message: str = ""
    """bash's complaint for 'error' and 'incomplete'."""

    @property
    def submits(self) -> bool:
        return self.state != "incomplete"

    @property
    def in_heredoc(self) -> bool:
        """An open here-document: its lines are text, and its delimiter must start the line."""
        return self.state == "incomplete" and _OPEN_HEREDOC in self.message


def is_meta(text: str) -> bool:
    """A REPL command such as `:set temperature 0.5` (one line, colon and a letter)."""
    return bool(META.match(text.strip())) and "\n" not in text.strip()


def ends_in_continuation(text: str) -> bool:
    """True when the last line ends in an unescaped backslash outside a comment (bash reads on)."""
    stripped = code_only(text).rstrip(" \t")
    return (len(stripped) - len(stripped.rstrip("\\"))) % 2 == 1


def classify(text: str) -> Verdict:
    """The verdict on `text` as a whole (runs `bash -n`, nothing is executed)."""
    if not text.strip():
        return Verdict("empty")
    if is_meta(text):
        return Verdict("meta")
    if ends_in_continuation(text):
        return Verdict("incomplete", "line ends in a backslash")
    result = bash_check(text)
    heredoc = next((c for c in result.complaints if _OPEN_HEREDOC in c), None)
    if result.ok:
        return Verdict("incomplete", heredoc) if heredoc else Verdict("complete")
    # Inside a compound command bash warns of the open here-document first, then of the end.
    if any(_EOF_COMPLAINT.match(c) for c in result.complaints):
        return Verdict("incomplete", heredoc or result.message)
    return Verdict("error", result.message)
