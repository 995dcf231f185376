"""The server completes shell scripts and stays silent in every other file."""

from __future__ import annotations

import pytest

from bashcoder.server.shell import has_shell_shebang, is_shell


@pytest.mark.parametrize("language_id", ["shellscript", "sh", "bash", "Bash"])
def test_shell_language_ids_are_served(language_id: str) -> None:
    assert is_shell(language_id, "")


@pytest.mark.parametrize(
    "first_line",
    [
        "#!/bin/bash",
        "#!/bin/sh",
        "#!/usr/bin/env bash",
        "#! /usr/bin/env -S bash -e",
        "#!/usr/local/bin/bash -eu",
        "\ufeff#!/bin/bash",  # after a byte order mark
    ],
)
def test_a_bash_or_sh_shebang_is_served_whatever_the_language_id(first_line: str) -> None:
    assert has_shell_shebang(first_line + "\necho hi\n")
    assert is_shell("plaintext", first_line + "\n")
    assert is_shell(None, first_line)


@pytest.mark.parametrize(
    ("language_id", "text"),
    [
        ("python", "import os\n"),
        ("python", "#!/usr/bin/env python3\n"),
        ("plaintext", "#!/bin/bashful\n"),
        ("zsh", "#!/bin/zsh\n"),
        ("markdown", "# title\n#!/bin/bash\n"),
        (None, ""),
    ],
)
def test_other_files_are_not(language_id: str | None, text: str) -> None:
    assert not is_shell(language_id, text)
