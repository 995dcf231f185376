"""Which files count as bash/sh: shebangs, extensions, completion directories; other languages and binaries out."""

from __future__ import annotations

import pytest

from bashcoder.trainer.collect.detect import decode, detect, shebang_interpreter, skip_by_name


@pytest.mark.parametrize(
    ("head", "shell"),
    [
        (b"#!/bin/bash\necho hi\n", "bash"),
        (b"#!/usr/bin/bash -eu\n", "bash"),
        (b"#! /bin/bash\n", "bash"),
        (b"#!/usr/bin/env bash\n", "bash"),
        (b"#!/usr/bin/env -S bash -euo pipefail\n", "bash"),
        (b"#!/usr/bin/env LC_ALL=C bash\n", "bash"),
        (b"#!/usr/local/bin/bash5\n", "bash"),
        (b"#!/bin/bash\r\necho crlf\r\n", "bash"),
        (b"#!/bin/sh\n", "sh"),
        (b"#!/bin/sh -e\n", "sh"),
        (b"#!/usr/bin/env sh\n", "sh"),
        (b"#!/bin/dash\n", "sh"),
        (b"#!/bin/busybox sh\n", "sh"),
    ],
)
def test_shell_shebangs_are_kept(head: bytes, shell: str) -> None:
    assert detect("some/script", head).shell == shell


@pytest.mark.parametrize(
    "head",
    [
        b"#!/bin/zsh\n",
        b"#!/usr/bin/env zsh\n",
        b"#!/usr/bin/fish\n",
        b"#!/bin/csh -f\n",
        b"#!/bin/tcsh\n",
        b"#!/bin/ksh\n",
        b"#!/usr/bin/env python3\n",
        b"#!/usr/bin/perl -w\n",
        b"#!/usr/bin/env bats\n",
        b"#!/usr/bin/awk -f\n",
    ],
)
def test_other_languages_are_skipped_even_when_named_like_shell(head: bytes) -> None:
    verdict = detect("tool.sh", head)
    assert verdict.shell is None and verdict.reason == "other-language"


def test_extensions_and_rc_files_without_shebang() -> None:
    assert detect("lib/functions.sh", b"foo() { :; }\n").shell == "sh"
    assert detect("lib/functions.bash", b"foo() { :; }\n").shell == "bash"
    assert detect("home/.bashrc", b"alias ll='ls -l'\n").shell == "bash"
    assert detect("etc/bash.bashrc", b"PS1='$ '\n").shell == "bash"
    assert detect("conf/prompt.zsh", b"autoload -U colors\n").reason == "other-language"
    assert detect("conf/config.fish", b"set -x PATH\n").reason == "other-language"
    assert detect("README", b"hello\n").reason == "not-shell"
    assert detect("Makefile", b"all:\n\techo hi\n").reason == "not-shell"


def test_bash_completion_files_are_shell() -> None:
    assert detect("usr/share/bash-completion/completions/git", b"_git() {\n").shell == "bash"
    assert detect("/usr/share/bash-completion/completions/apt", b"_apt() {\n").shell == "bash"
    assert detect("etc/bash_completion.d/tool", b"complete -F _tool tool\n").shell == "bash"
    assert detect("share/zsh/site-functions/_git", b"#compdef git\n").shell is None


def test_shebang_parser_edge_cases() -> None:
    assert shebang_interpreter(b"no shebang") is None
    assert shebang_interpreter(b"#!\n") == ""
    assert shebang_interpreter(b"#!/usr/bin/env\n") == ""
    assert shebang_interpreter(b"#!\xff\xfe\n") == ""
    assert shebang_interpreter(b"#!/usr/bin/env -u HOME bash\n") == "bash"


def test_binary_and_non_utf8_are_refused_with_their_reason() -> None:
    assert decode(b"#!/bin/sh\necho ok\n") == ("#!/bin/sh\necho ok\n", None)
    assert decode(b"#!/bin/sh\n\x00\x01payload") == (None, "binary")
    assert decode(b"#!/bin/sh\necho caf\xe9\n") == (None, "non-utf8")
    assert decode("#!/bin/sh\necho café ✓\n".encode()) == ("#!/bin/sh\necho café ✓\n", None)


def test_plainly_binary_names_are_skipped_unread() -> None:
    assert skip_by_name("usr/lib/libfoo.so.1.2")
    assert skip_by_name("share/icons/x.PNG")
    assert skip_by_name("lib/python3/__pycache__/m.cpython-311.pyc")
    assert not skip_by_name("usr/bin/tool")
    assert not skip_by_name("scripts/install.sh")
