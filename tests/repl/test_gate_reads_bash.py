"""The gate reads what bash will run: scripts fed to shells, ANSI-C quoting, brace expansion, wrappers,
other hosts and aliases. Each way of writing a destructive command is one case."""

from __future__ import annotations

import pytest

from bashcoder.repl import treesit
from bashcoder.repl.bashlex import parse
from bashcoder.repl.expansions import MAX_BRACE_WORDS, decode_ansi_c, expand_braces
from bashcoder.repl.safety import BLIND_SPOTS, dangers

WRITTEN_ANOTHER_WAY: list[tuple[str, str]] = [
    # a shell reading its script from a here-document or a here-string
    ("bash <<'EOF'\nrm -rf ~\nEOF", "rm -r on ~"),
    ("bash <<EOF\nrm -rf ~\nEOF", "rm -r on ~"),
    ('sh <<"END"\necho bye\nreboot\nEND', "reboot stops"),
    ("sudo bash -s <<-EOF\n\trm -rf /\n\tEOF", "rm -r on /"),
    ("sh <<< 'rm -rf ~'", "rm -r on ~"),
    ('bash <<< "rm -rf /"', "rm -r on /"),
    ("source /dev/stdin <<< 'reboot'", "reboot stops"),
    # ... or from a pipe whose text is in plain sight
    ("cat <<'EOF' | sh\nrm -rf ~\nEOF", "rm -r on ~"),
    ("echo 'rm -rf /' | bash", "rm -r on /"),
    ("printf 'rm -rf %s\\n' / | sh", "rm -r on /"),
    ("echo 'mkfs.ext4 /dev/sda1' | tee run.log | sudo sh", "formats a disk"),
    # an unquoted here-document runs its $(...) whoever reads it
    ("cat <<EOF\n$(rm -rf /)\nEOF", "rm -r on /"),
    # ANSI-C quoting
    ("rm -rf $'/etc'", "rm -r on /etc"),
    ("rm -rf $'\\x2f'", "rm -r on /"),
    ("rm -rf $'\\057'", "rm -r on /"),
    ("$'\\x72m' -rf ~", "rm -r on ~"),
    # brace expansion
    ("rm -rf /{etc,usr}", "rm -r on /usr"),
    ("rm -rf /{tmp/x,etc}", "rm -r on /etc"),
    ("{rm,-rf,/}", "rm -r on /"),
    ("rm -rf {/,/tmp}", "rm -r on /"),
    # wrappers
    ("pkexec rm -rf /", "rm -r on /"),
    ("pkexec --user root rm -rf /", "rm -r on /"),
    ("busybox rm -rf /", "rm -r on /"),
    ("busybox sh -c 'rm -rf /'", "rm -r on /"),
    ("env -S 'rm -rf /'", "rm -r on /"),
    ("env -S'rm -rf /'", "rm -r on /"),
    ("env --split-string='rm -rf /'", "rm -r on /"),
    ("setsid reboot", "reboot stops"),
    ("echo / | xargs rm -rf", "rm -r on /"),
    ("echo / | xargs -I{} rm -rf {}", "rm -r on /"),
    ("printf '%s\\n' /etc | sudo xargs -I % rm -rf %", "rm -r on /etc"),
    ("xargs rm -rf <<< /", "rm -r on /"),
    # another host
    ("ssh host 'rm -rf /'", "on host: rm -r on /"),
    ("ssh -p 22 -i key user@host rm -rf /", "on user@host: rm -r on /"),
    ("ssh host sudo reboot", "on host: reboot stops"),
    ("ssh host <<'EOF'\nrm -rf ~\nEOF", "on host: rm -r on ~"),
    ("ssh host bash -s <<'EOF'\nreboot\nEOF", "on host: reboot stops"),
    # an alias defined, then used
    ("alias nuke='rm -rf /'; nuke", "rm -r on /"),
    ("alias nuke='rm -rf /'\nnuke", "rm -r on /"),
    ("alias s=sudo\ns reboot", "reboot stops"),
    ("alias wipe='cd / && rm -rf *'\nwipe", "after cd to / or ~"),
    # where tree-sitter-bash reads on after the hand lexer loses its place
    ('echo "$(cat <<EOF\ndon\'t\nEOF\n)"; rm -rf /', "rm -r on /"),
    ("x=$(cat <<EOF\nit's\nEOF\n)\nreboot", "reboot stops"),
]

STILL_HARMLESS = [
    "cat <<'EOF'\n$(rm -rf /)\nEOF",
    "cat <<'EOF'\nrm -rf /\nEOF",
    "grep x <<< 'rm -rf /'",
    "echo 'rm -rf /' | grep rm",
    "echo 'rm -rf /' > notes.txt",
    "bash script.sh <<< 'rm -rf /'",
    "bash -c 'echo hi' <<< 'rm -rf /'",
    "echo / | xargs ls",
    "find . -name '*.o' | xargs rm -rf",
    "ssh host ls /",
    "ssh host 'rm -rf /tmp/x'",
    "rm -rf '/{etc,usr}'",
    "rm -rf ./{build,dist}",
    "rm -rf ~/{a,b}",
    "echo {rm,-rf,/}",
    "rm -rf $'./build'",
    "alias ll='ls -l'; ll /",
    "env -S 'ls -l' /",
    "busybox ls /",
    "pkexec apt update",
    "x=$(cat <<EOF\nit's\nEOF\n)\necho ok",
]


@pytest.mark.parametrize(("command", "reason"), WRITTEN_ANOTHER_WAY)
def test_commands_written_another_way_still_ask(command: str, reason: str) -> None:
    reasons = [d.reason for d in dangers(command)]
    assert any(reason in r for r in reasons), f"{command!r}: {reasons}"


@pytest.mark.parametrize("command", STILL_HARMLESS)
def test_the_same_shapes_with_harmless_contents_do_not_ask(command: str) -> None:
    assert dangers(command) == []


def test_tree_sitter_reads_past_a_here_document_that_derails_the_hand_lexer() -> None:
    text = 'echo "$(cat <<EOF\ndon\'t\nEOF\n)"; rm -rf /'
    assert [c.words[0].text for c in parse(text)] == ["echo"]  # the hand lexer's bracket matching is lost
    structured = treesit.read(text)
    assert structured is not None and [c.words[0].text for c in structured if c.words] == ["echo", "rm"]


def test_text_tree_sitter_rejects_is_read_by_the_hand_lexer_alone() -> None:
    text = "x=1 sudo rm -rf / 2>/dev/null <<< 'hi'"  # valid bash that tree-sitter-bash does not parse
    assert treesit.read(text) is None
    assert {d.rule for d in dangers(text)} == {"rm-root"}


@pytest.mark.parametrize(
    ("word", "words"),
    [
        ("/{etc,usr}", ["/etc", "/usr"]),
        ("a{b,c}d{1,2}", ["abd1", "abd2", "acd1", "acd2"]),
        ("{x{1,2},y}", ["x1", "x2", "y"]),
        ("{1..3}", ["1", "2", "3"]),
        ("{a..e..2}", ["a", "c", "e"]),
        ("{01..03}", ["01", "02", "03"]),
        ("{}", ["{}"]),
        ("{a}", ["{a}"]),
        ("{a,b", ["{a,b"]),
    ],
)
def test_brace_expansion_makes_the_words_bash_makes(word: str, words: list[str]) -> None:
    assert expand_braces(word) == words


def test_brace_expansion_is_bounded() -> None:
    assert len(expand_braces("{1..100000}")) == MAX_BRACE_WORDS
    assert len(expand_braces("{a,b}" * 20)) == MAX_BRACE_WORDS


def test_ansi_c_escapes_decode_as_in_bash() -> None:
    assert decode_ansi_c(r"\x2fetc") == "/etc"
    assert decode_ansi_c(r"\057\t\n\\\'") == "/\t\n\\'"
    assert decode_ansi_c(r"\u00e9\cA") == "é\x01"


def test_what_the_gate_cannot_see_is_not_flagged_and_is_listed() -> None:
    assert dangers("echo cm0gLXJmIC8K | base64 -d | sh") == []  # rm -rf / in base64: decoded at run time
    assert any("base64 -d | sh" in spot for spot in BLIND_SPOTS)  # and :help says so (test_repl_loop)
