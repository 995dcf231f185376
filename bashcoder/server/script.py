"""Where `bashcoder.generate` writes a script body: below a `# comment` line (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bashcoder.server.positions import line_bounds


@dataclass(frozen=True)
class ScriptSpot:
    """A comment line that asks for a script, and where its body goes."""

    prefix: str
    """The text through the comment line, ending with a line break (the model's prompt)."""
    suffix: str
    """The text after the comment line."""
    insert_at: int
    """String index in the document where the body is inserted."""
    lead: str
    """What the insertion starts with: "\\n" when the comment is the last line and has no break."""


def script_spot(text: str, line: int) -> ScriptSpot:
    """The spot below comment line `line`; ValueError naming the fix when it is not one."""
    bounds = line_bounds(text, line)
    if bounds is None:
        raise ValueError(
            f"line {line} is past the end of the document; put the cursor on a `# comment` line."
        )
    start, end = bounds
    comment = text[start:end].strip()
    if not comment.startswith("#") or comment.startswith("#!") or not comment.lstrip("#").strip():
        raise ValueError(
            f"line {line + 1} is not a `# comment`; write what the script should do as a comment "
            "(e.g. `# back up ~/photos to /mnt/backup`) and run the command on that line."
        )
    brk = 2 if text.startswith("\r\n", end) else 1 if end < len(text) else 0
    insert_at = end + brk
    return ScriptSpot(
        prefix=text[:end] + (text[end:insert_at] or "\n"),
        suffix=text[insert_at:],
        insert_at=insert_at,
        lead="" if brk else "\n",
    )


def insertion(spot: ScriptSpot, body: str) -> str:
    """The text to insert for a generated body: whole lines, after a break if the comment needed one."""
    body = body.strip("\n")
    return spot.lead + body + "\n" if body.strip() else ""
