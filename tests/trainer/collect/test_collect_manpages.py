"""Man-page EXAMPLES to bash on rendered pages written here, the per-family page cap, and one roff page
rendered by the real groff."""

from __future__ import annotations

import gzip
import shutil

import pytest

from bashcoder.trainer.collect.manpage import examples, man_to_bash, sections
from bashcoder.trainer.collect.sources.docs import capped, family, has_examples_section, render_man

FIND_PAGE = """\
FIND(1)                     General Commands Manual                    FIND(1)

NAME
       find - search for files in a directory hierarchy

SYNOPSIS
       find [-H] [-L] [-P] [path...] [expression]

EXAMPLES
       Find files named core in or below the directory /tmp and delete them.

           find /tmp -name core -type f -print | xargs /bin/rm -f

       List the files changed today, shown with a prompt:

       $ find . -mtime 0 -type f

       Archive a tree, on two lines:

           tar -C /srv/www -cf - . \\
               | gzip -9 > www.tar.gz

SEE ALSO
       locate(1), updatedb(1)
"""

RSYNC_PAGE = """\
NAME
       rsync - a fast, versatile, remote (and local) file-copying tool

EXAMPLES
       rsync -t *.c foo:src/
              Transfer all files matching *.c from the current directory to src on machine foo.

       rsync -avz foo:src/bar /data/tmp
              Recursively transfer all files from src/bar on foo into /data/tmp.

AUTHOR
       Someone.
"""


def test_sections_are_split_at_capital_headings() -> None:
    parts = sections(FIND_PAGE)
    assert list(parts) == ["NAME", "SYNOPSIS", "EXAMPLES", "SEE ALSO"]
    assert parts["NAME"][0].strip() == "find - search for files in a directory hierarchy"
    assert parts["SEE ALSO"][0].strip() == "locate(1), updatedb(1)"


def test_indented_and_prompted_commands_are_kept_with_their_sentences() -> None:
    assert man_to_bash(FIND_PAGE, "find") == (
        "# find - search for files in a directory hierarchy\n"
        "\n"
        "# Find files named core in or below the directory /tmp and delete them.\n"
        "find /tmp -name core -type f -print | xargs /bin/rm -f\n"
        "\n"
        "# List the files changed today, shown with a prompt:\n"
        "find . -mtime 0 -type f\n"
        "\n"
        "# Archive a tree, on two lines:\n"
        "tar -C /srv/www -cf - . \\\n"
        "    | gzip -9 > www.tar.gz\n"
    )


def test_a_definition_list_takes_the_explanation_that_follows() -> None:
    text = man_to_bash(RSYNC_PAGE, "rsync")
    assert text == (
        "# rsync - a fast, versatile, remote (and local) file-copying tool\n"
        "\n"
        "# Transfer all files matching *.c from the current directory to src on machine foo.\n"
        "rsync -t *.c foo:src/\n"
        "\n"
        "# Recursively transfer all files from src/bar on foo into /data/tmp.\n"
        "rsync -avz foo:src/bar /data/tmp\n"
    )


def test_a_continued_command_is_joined_as_the_shell_sees_it() -> None:
    body = [
        "       Copy a disk image to a remote host:",
        "",
        "           dd if=/dev/sdb bs=4M status=progress \\",
        "              | ssh backup@example.com \\",
        "              'cat > /srv/images/sdb.img'",
        "",
    ]
    [(description, command)] = examples(body, "dd", frozenset())
    assert description == "Copy a disk image to a remote host:"
    assert command == (
        "dd if=/dev/sdb bs=4M status=progress \\\n    | ssh backup@example.com \\\n    'cat > /srv/images/sdb.img'"
    )


def test_prose_at_the_prose_indent_is_not_a_command() -> None:
    body = [
        "       To list every file, run find with no expression at all.",
        "       find prints each name on its own line.",
        "",
        "       The following is the usual way:",
        "",
        "           find .",
    ]
    assert examples(body, "find", frozenset()) == [("The following is the usual way:", "find .")]


def test_unknown_first_words_need_a_prompt_or_a_known_command_name() -> None:
    body = ["       Convert a picture:", "", "           magick in.png out.jpg", ""]
    assert examples(body, "frob", frozenset()) == []
    assert examples(body, "frob", frozenset({"magick"})) == [("Convert a picture:", "magick in.png out.jpg")]
    prompted = ["       Convert a picture:", "", "       $ magick in.png out.jpg", ""]
    assert examples(prompted, "frob", frozenset()) == [("Convert a picture:", "magick in.png out.jpg")]


def test_a_root_prompt_is_trusted_only_before_the_pages_own_command() -> None:
    body = [
        "       Reload the rules:",
        "",
        "       # iptables-restore < /etc/iptables/rules.v4",
        "",
        "       # Comment that explains the next part.",
    ]
    assert examples(body, "iptables-restore", frozenset()) == [
        ("Reload the rules:", "iptables-restore < /etc/iptables/rules.v4")
    ]


def test_a_repeated_command_appears_once() -> None:
    page = "NAME\n       ls - list\n\nEXAMPLES\n       List:\n\n           ls -l\n\n       Again:\n\n           ls -l\n"
    assert man_to_bash(page, "ls") == "# ls - list\n\n# List:\nls -l\n"


def test_pages_without_examples_give_none() -> None:
    assert man_to_bash("NAME\n       x - y\n\nDESCRIPTION\n       Does x.\n", "x") is None
    assert man_to_bash("NAME\n       x - y\n\nEXAMPLES\n       There are none worth showing.\n", "x") is None


def test_an_example_section_without_name_is_titled_by_the_command() -> None:
    page = "EXAMPLE\n       Show the date:\n\n           date -u\n"
    assert man_to_bash(page, "date") == "# date\n\n# Show the date:\ndate -u\n"


def test_families_group_subcommand_pages() -> None:
    assert family("git-commit") == "git"
    assert family("ip-address") == family("ip_route") == family("ip") == "ip"
    assert family("7z") == "7z"
    assert family("Git.Foo") == "git"


def test_each_family_is_capped_and_spread_over_its_names() -> None:
    names = [f"aws-{i:03d}" for i in range(100)] + ["ls", "git-log", "git-commit", "git"]
    keep = capped(names, limit=10)
    aws = sorted(n for n in keep if n.startswith("aws"))
    assert len(aws) == 10
    assert aws == [f"aws-{i:03d}" for i in range(0, 100, 10)]  # evenly through the sorted names
    assert {"ls", "git-log", "git-commit", "git"} <= keep  # small families are whole
    assert len(keep) == 14
    assert capped(names * 2, limit=10) == keep  # duplicates count once


FROB_ROFF = rb""".TH FROB 1 "2024-01-01" "frob 1.0" "User Commands"
.SH NAME
frob \- twiddle the bits of a file
.SH SYNOPSIS
.B frob
[\fB\-v\fR] \fIfile\fR
.SH DESCRIPTION
.B frob
twiddles bits.
.SH EXAMPLES
Twiddle every bit of a file, verbosely:
.PP
.RS
.nf
frob \-v \-\-all data.bin
.fi
.RE
.PP
Count the twiddled bits in every log file:
.PP
.RS
.nf
$ frob \-\-count /var/log/*.log
.fi
.RE
.SH "SEE ALSO"
.BR bits (1)
"""


def test_examples_heading_is_found_in_roff_source_plain_or_gzipped() -> None:
    assert has_examples_section(FROB_ROFF) and has_examples_section(gzip.compress(FROB_ROFF))
    no_examples = FROB_ROFF.split(b".SH EXAMPLES")[0]
    assert not has_examples_section(no_examples)
    assert not has_examples_section(b"\x1f\x8bnot really gzip")


@pytest.mark.skipif(
    shutil.which("groff") is None, reason="groff is not installed (apt-get install groff-base)"
)
def test_a_real_roff_page_rendered_by_groff_gives_its_examples() -> None:
    rendered = render_man(FROB_ROFF)
    assert "EXAMPLES" in rendered and "\x08" not in rendered and "\x1b" not in rendered
    assert render_man(gzip.compress(FROB_ROFF)) == rendered
    assert man_to_bash(rendered, "frob") == (
        "# frob - twiddle the bits of a file\n"
        "\n"
        "# Twiddle every bit of a file, verbosely:\n"
        "frob -v --all data.bin\n"
        "\n"
        "# Count the twiddled bits in every log file:\n"
        "frob --count /var/log/*.log\n"
    )
