"""tldr-pages to bash: placeholders filled with plausible values, and `--tldr PATH` end to end on a local
repository laid out as tldr-pages."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from collect_fixtures import MIT_TEXT, git, make_repo, read_manifest, read_records

from bashcoder.trainer.collect.tldr import fill_command, fill_placeholder, tldr_to_bash

TAR_PAGE = """\
# tar

> Archiving utility.
> Often combined with a compression method, such as `gzip` or `bzip2`.
> More information: <https://www.gnu.org/software/tar>.

- [c]reate an archive and write it to a [f]ile:

`tar {{[-c|--create]}} {{[-f|--file]}} {{path/to/target.tar}} {{path/to/file1 path/to/file2 ...}}`

- E[x]tract a (compressed) archive [f]ile into the current directory [v]erbosely:

`tar {{[-x|--extract]}} {{[-v|--verbose]}} {{[-f|--file]}} {{path/to/source.tar[.gz|.bz2|.xz]}}`

- [l]ist the contents of a tar file [v]erbosely:

`tar {{[-t|--list]}} {{[-v|--verbose]}} {{[-f|--file]}} {{path/to/source.tar}}`
"""


def test_a_page_becomes_a_commented_snippet_with_values_for_placeholders() -> None:
    text = tldr_to_bash(TAR_PAGE, "pages/common/tar.md")
    assert text is not None
    lines = text.splitlines()
    assert lines[:3] == [
        "# tar",
        "# Archiving utility.",
        "# Often combined with a compression method, such as gzip or bzip2.",
    ]
    assert "More information" not in text and "https://www.gnu.org" not in text
    assert "{{" not in text and "}}" not in text and "path/to/" not in text
    # Mnemonics lose their brackets; descriptions are capitalised comments before their command.
    assert "# Create an archive and write it to a file:" in lines
    assert "# Extract a (compressed) archive file into the current directory verbosely:" in lines
    assert "# List the contents of a tar file verbosely:" in lines
    create = lines[lines.index("# Create an archive and write it to a file:") + 1]
    assert re.fullmatch(r"tar (-c|--create) (-f|--file) target\.tar file1 file2", create), create
    extract = lines[
        lines.index("# Extract a (compressed) archive file into the current directory verbosely:") + 1
    ]
    assert re.fullmatch(
        r"tar (-x|--extract) (-v|--verbose) (-f|--file) source\.tar(\.gz|\.bz2|\.xz)?", extract
    )
    assert text.endswith("\n") and text.count("\n\n") == 3  # one blank line before each example


def test_the_same_page_and_seed_give_the_same_text() -> None:
    one = tldr_to_bash(TAR_PAGE, "pages/common/tar.md")
    assert all(tldr_to_bash(TAR_PAGE, "pages/common/tar.md") == one for _ in range(5))
    command = "tar {{[-v|--verbose]}} {{[-f|--file]}} {{path/to/source.tar[.gz|.bz2|.xz]}}"
    assert len({fill_command(command, "seed-a") for _ in range(5)}) == 1


def test_option_alternatives_give_each_spelling_across_seeds() -> None:
    seen = {fill_command("ls {{[-a|--all]}}", f"seed-{i}") for i in range(40)}
    assert seen == {"ls -a", "ls --all"}


def test_an_optional_extension_is_one_of_the_choices_or_none() -> None:
    seen = {fill_command("gunzip {{path/to/source.tar[.gz|.bz2]}}", f"s{i}") for i in range(60)}
    assert seen == {"gunzip source.tar", "gunzip source.tar.gz", "gunzip source.tar.bz2"}


def test_a_path_placeholder_becomes_a_file_name() -> None:
    filled = fill_command("cat {{path/to/file}}", "seed")
    assert re.fullmatch(r"cat file(\.txt)?", filled), filled
    assert fill_command("ls {{path/to/directory}}", "seed") == "ls src"
    assert fill_command("cp {{~/path/to/notes.md}} {{/path/to/backup.md}}", "seed") == "cp notes.md backup.md"


def test_type_words_become_example_values() -> None:
    assert fill_command("ip link set {{ethX}} up", "s") == "ip link set eth0 up"
    assert fill_command("ssh {{username}}@{{hostname}} -p {{port}}", "s") == "ssh alice@example.com -p 8080"
    assert fill_command("kill {{pid}}", "s") == "kill 1234"
    # Words that name no type keep their own spelling.
    assert fill_command("echo {{my_custom_value}}", "s") == "echo my_custom_value"
    # Ellipses mean "and more": they go.
    assert fill_command("rm {{path/to/a path/to/b ...}}", "s") == "rm a b"


def test_value_alternatives_give_one_of_them() -> None:
    rng = random.Random(0)
    assert {fill_placeholder("global|host|link|...", rng) for _ in range(40)} == {"global", "host", "link"}


def test_triple_braces_keep_the_json_inside() -> None:
    filled = fill_command("""curl {{[-d|--data]}} '{{{"name":"bob"}}}' {{url}}""", "s")
    assert re.fullmatch(r"""curl (-d|--data) '\{"name":"bob"\}' https://example\.com""", filled), filled


def test_a_page_without_examples_gives_none() -> None:
    page = "# foo\n\n> Does foo.\n> More information: <https://example.com/foo>.\n"
    assert tldr_to_bash(page, "pages/common/foo.md") is None
    assert tldr_to_bash("", "x") is None


def test_alias_and_see_also_lines_are_not_descriptions() -> None:
    page = (
        "# vi\n\n> This command is an alias of `vim`.\n> See also: `nano`.\n\n"
        "- Open a file:\n\n`vi {{path/to/file}}`\n"
    )
    text = tldr_to_bash(page, "pages/common/vi.md")
    assert text is not None and "alias" not in text and "See also" not in text
    assert text.splitlines()[:3] == ["# vi", "", "# Open a file:"]


def page(name: str, description: str, examples: list[tuple[str, str]]) -> str:
    body = "".join(f"\n- {d}:\n\n`{c}`\n" for d, c in examples)
    return f"# {name}\n\n> {description}\n> More information: <https://example.com/{name}>.\n{body}"


TLDR_TREE = {
    "LICENSE.md": "Creative Commons Attribution 4.0 International\n",
    "scripts/LICENSE": MIT_TEXT,
    "scripts/build.sh": '#!/bin/bash\nset -e\nfor f in pages/*/*.md; do markdownlint "$f"; done\necho linted\n',
    "pages/common/git-commit.md": page(
        "git commit",
        "Commit files to the repository.",
        [
            ("Commit staged files with a [m]essage", "git commit {{[-m|--message]}} {{message}}"),
            ("[a]utomatically stage modified files and commit", "git commit {{[-a|--all]}} -m {{message}}"),
        ],
    ),
    "pages/common/git-log.md": page(
        "git log",
        "Show a history of commits.",
        [
            ("Show the sequence of commits starting from the current one", "git log"),
            ("Show the history of a particular file", "git log {{[-p|--patch]}} -- {{path/to/file}}"),
        ],
    ),
    "pages/linux/ip-address.md": page(
        "ip address",
        "IP address management subcommand.",
        [
            ("List network interfaces and their IP addresses", "ip {{[a|address]}}"),
            (
                "Add an IP address to a network interface",
                "sudo ip {{[a|address]}} add {{ip_address}}/24 dev {{ethX}}",
            ),
        ],
    ),
    "pages/common/empty.md": "# empty\n\n> A page with no examples at all, only a description.\n",
    "pages/windows/dir.md": page("dir", "List directory contents.", [("List files", "dir {{path/to/dir}}")]),
    "pages.de/common/tar.md": page(
        "tar", "Archivierungswerkzeug.", [("Erstelle ein Archiv", "tar cf a.tar b")]
    ),
}


@pytest.fixture
def tldr_repo(tmp_path: Path) -> Path:
    root = tmp_path / "src" / "tldr"
    make_repo(root, TLDR_TREE)
    return root


def test_tldr_pages_from_a_local_repository_become_docs_records(
    tldr_repo: Path, tmp_path: Path, collect, cache_home: Path
) -> None:
    out = tmp_path / "out"
    result = collect("--tldr", tldr_repo, "--out", out)
    assert result.exit_code == 0, result.stderr
    records = read_records(out)
    assert [(r["source"], r["group"], r["path"], r["license"]) for r in records] == [
        ("docs", "tldr/git", "pages/common/git-commit.md", "CC-BY-4.0"),
        ("docs", "tldr/git", "pages/common/git-log.md", "CC-BY-4.0"),
        ("docs", "tldr/ip", "pages/linux/ip-address.md", "CC-BY-4.0"),
    ]
    texts = {r["path"]: r["text"] for r in records}
    assert texts["pages/common/git-commit.md"] == tldr_to_bash(
        TLDR_TREE["pages/common/git-commit.md"], "pages/common/git-commit.md"
    )
    assert "sudo ip" in texts["pages/linux/ip-address.md"] and "eth0" in texts["pages/linux/ip-address.md"]
    assert all("{{" not in t and "More information" not in t for t in texts.values())
    manifest = read_manifest(out)
    info = manifest["inputs"]["docs:tldr"]
    assert info["license"] == "CC-BY-4.0"
    assert info["version"] == git("rev-parse", "HEAD", cwd=tldr_repo).strip()
    assert info["drops"]["no-examples"] == 1
    # Windows pages, translations, the repository's own scripts and license files are not pages.
    assert info["drops"]["not-a-page"] == 5
    assert info["kept"] == 3
    assert manifest["by_source"] == {
        "docs": {"files": 3, "bytes": sum(len(t.encode()) for t in texts.values())}
    }
    # Read in place: nothing cloned.
    assert not (cache_home / "bashcoder" / "git").exists() or not any(
        (cache_home / "bashcoder" / "git").iterdir()
    )


def test_tldr_output_is_the_same_on_a_second_run(tldr_repo: Path, tmp_path: Path, collect) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert collect("--tldr", tldr_repo, "--out", one).exit_code == 0
    assert collect("--tldr", tldr_repo, "--out", two).exit_code == 0
    assert (one / "corpus.jsonl").read_bytes() == (two / "corpus.jsonl").read_bytes()


def test_tldr_from_a_bare_repository(tldr_repo: Path, tmp_path: Path, collect) -> None:
    bare = tmp_path / "tldr.git"
    git("clone", "-q", "--bare", str(tldr_repo), str(bare), cwd=tmp_path)
    out = tmp_path / "out"
    result = collect("--tldr", bare, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in read_records(out)] == [
        "pages/common/git-commit.md",
        "pages/common/git-log.md",
        "pages/linux/ip-address.md",
    ]
