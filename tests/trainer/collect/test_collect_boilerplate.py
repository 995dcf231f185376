"""License headers and debhelper sections are stripped from scripts, counted in the manifest, and the
file's declared license is still recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from collect_fixtures import SCRIPTS, read_manifest, read_records, write_tree

from bashcoder.trainer.collect.boilerplate import strip_boilerplate

BODY = 'set -e\nrsync -a --delete "$HOME/" nas:/backup/home/\necho "backup done at $(date -Is)"\n'
GPL_HEADER_SCRIPT = (
    "#!/bin/bash\n"
    "#\n"
    "# backup.sh - copy the home directory to the NAS every night.\n"
    "#\n"
    "# Copyright (C) 2019 Jane Doe <jane@example.com>\n"
    "#\n"
    "# This program is free software; you can redistribute it and/or modify\n"
    "# it under the terms of the GNU General Public License as published by\n"
    "# the Free Software Foundation; either version 2 of the License, or\n"
    "# (at your option) any later version.\n"
    "#\n"
    "\n" + BODY
)
DH_SECTION = (
    "# Automatically added by dh_installsystemd/13.11.4\n"
    'if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then\n'
    "\tdeb-systemd-helper unmask 'foo.service' >/dev/null || true\n"
    "\tdeb-systemd-helper --quiet was-enabled 'foo.service' || true\n"
    "fi\n"
    "# End automatically added section\n"
)
POSTINST = (
    "#!/bin/sh\nset -e\n\n"
    'case "$1" in\n    configure)\n'
    "        update-alternatives --install /usr/bin/editor editor /usr/bin/foo 50\n"
    "        ;;\nesac\n\n" + DH_SECTION + "\nexit 0\n"
)


def test_a_license_header_goes_and_the_description_stays() -> None:
    stripped = strip_boilerplate(GPL_HEADER_SCRIPT)
    assert stripped.text == (
        "#!/bin/bash\n# backup.sh - copy the home directory to the NAS every night.\n\n" + BODY
    )
    assert stripped.counts == {"license-header": 1}


def test_a_description_after_the_license_stays_too() -> None:
    text = (
        "#!/usr/bin/env bash\n"
        "# SPDX-License-Identifier: MIT\n"
        "# Copyright (c) 2023 Example Corp.\n"
        "#\n"
        "# Rotate the nginx logs and compress the old ones.\n"
        "\n" + BODY
    )
    stripped = strip_boilerplate(text)
    assert (
        stripped.text == "#!/usr/bin/env bash\n# Rotate the nginx logs and compress the old ones.\n\n" + BODY
    )
    assert "SPDX" not in stripped.text and "Copyright" not in stripped.text


def test_scripts_without_boilerplate_are_left_byte_for_byte() -> None:
    later = SCRIPTS["backup.sh"] + "# Copyright notices further down are code comments, not a header.\n"
    for text in [*SCRIPTS.values(), later, "", "echo hi"]:
        stripped = strip_boilerplate(text)
        assert stripped.text == text and not stripped.counts


def test_debhelper_sections_are_dropped() -> None:
    stripped = strip_boilerplate(POSTINST)
    assert "Automatically added" not in stripped.text and "deb-systemd-helper" not in stripped.text
    assert stripped.text == (
        "#!/bin/sh\nset -e\n\n"
        'case "$1" in\n    configure)\n'
        "        update-alternatives --install /usr/bin/editor editor /usr/bin/foo 50\n"
        "        ;;\nesac\n\nexit 0\n"
    )
    assert stripped.counts == {"debhelper-section": 1}


def test_two_debhelper_sections_are_counted_twice() -> None:
    text = POSTINST.replace(
        "\nexit 0\n", "\n" + DH_SECTION.replace("dh_installsystemd", "dh_installinit") + "\nexit 0\n"
    )
    stripped = strip_boilerplate(text)
    assert stripped.counts == {"debhelper-section": 2}
    assert "deb-systemd-helper" not in stripped.text and stripped.text.endswith("esac\n\nexit 0\n")


def test_an_unterminated_debhelper_marker_is_left_alone() -> None:
    text = POSTINST.replace("# End automatically added section\n", "")
    stripped = strip_boilerplate(text)
    assert stripped.text == text and not stripped.counts


@pytest.mark.parametrize(
    "text", [GPL_HEADER_SCRIPT, POSTINST, GPL_HEADER_SCRIPT.replace("set -e\n", DH_SECTION)]
)
def test_stripping_twice_changes_nothing_more(text: str) -> None:
    once = strip_boilerplate(text)
    assert once.counts
    twice = strip_boilerplate(once.text)
    assert twice.text == once.text and not twice.counts


def test_crlf_scripts_stay_crlf() -> None:
    crlf = GPL_HEADER_SCRIPT.replace("\n", "\r\n")
    stripped = strip_boilerplate(crlf)
    assert stripped.text == strip_boilerplate(GPL_HEADER_SCRIPT).text.replace("\n", "\r\n")
    assert "\n" not in stripped.text.replace("\r\n", "")
    dh = strip_boilerplate(POSTINST.replace("\n", "\r\n"))
    assert dh.counts == {"debhelper-section": 1}
    assert dh.text == strip_boilerplate(POSTINST).text.replace("\n", "\r\n")


def test_the_collector_strips_boilerplate_and_counts_it_in_the_manifest(tmp_path: Path, collect) -> None:
    root = write_tree(
        tmp_path / "scripts",
        {
            "backup.sh": GPL_HEADER_SCRIPT,
            "postinst.sh": POSTINST,
            "deploy.sh": SCRIPTS["deploy.sh"],
        },
    )
    out = tmp_path / "out"
    result = collect("--dir", root, "--out", out)
    assert result.exit_code == 0, result.stderr
    texts = {r["path"]: r["text"] for r in read_records(out)}
    assert texts["backup.sh"] == strip_boilerplate(GPL_HEADER_SCRIPT).text
    assert texts["postinst.sh"] == strip_boilerplate(POSTINST).text
    assert texts["deploy.sh"] == SCRIPTS["deploy.sh"]
    manifest = read_manifest(out)
    assert manifest["removed"] == {"debhelper-section": 1, "license-header": 1}
    assert manifest["inputs"][f"dir:{root.resolve()}"]["removed"] == manifest["removed"]
    # Sizes in the manifest are those of the stripped texts.
    assert manifest["bytes"] == sum(len(t.encode()) for t in texts.values())


def test_a_script_that_was_only_boilerplate_is_dropped_as_too_small(tmp_path: Path, collect) -> None:
    only_dh = "#!/bin/sh\nset -e\n" + DH_SECTION
    only_license = (
        "#!/bin/sh\n# Copyright (C) 2020 Someone\n# Licensed under the Apache License, Version 2.0\n"
        "# http://www.apache.org/licenses/LICENSE-2.0\nexit 0\n"
    )
    root = write_tree(
        tmp_path / "scripts",
        {"postinst.sh": only_dh, "stub.sh": only_license, "deploy.sh": SCRIPTS["deploy.sh"]},
    )
    assert len(only_dh.encode()) >= 48 and len(only_license.encode()) >= 48  # big enough before stripping
    out = tmp_path / "out"
    result = collect("--dir", root, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in read_records(out)] == ["deploy.sh"]
    manifest = read_manifest(out)
    assert manifest["drops"]["too-small"] == 2
    assert manifest["removed"] == {"debhelper-section": 1, "license-header": 1}


def test_the_spdx_license_is_recorded_though_its_header_is_stripped(tmp_path: Path, collect) -> None:
    text = (
        "#!/bin/bash\n# SPDX-License-Identifier: Apache-2.0\n# Copyright 2022 The Authors\n\n"
        "# Print the ten biggest files below a directory.\n" + SCRIPTS["count.sh"].split("\n", 1)[1]
    )
    root = write_tree(tmp_path / "scripts", {"biggest.sh": text})
    out = tmp_path / "out"
    assert collect("--dir", root, "--out", out).exit_code == 0
    [record] = read_records(out)
    assert record["license"] == "Apache-2.0"
    assert "SPDX" not in record["text"] and "Copyright" not in record["text"]
    assert record["text"].startswith("#!/bin/bash\n# Print the ten biggest files below a directory.\n")
    assert read_manifest(out)["by_license"]["Apache-2.0"]["files"] == 1


def test_records_of_an_earlier_corpus_are_stripped_when_merged(tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    out.mkdir()
    old = {
        "text": GPL_HEADER_SCRIPT,
        "source": "dir",
        "group": "/old/root",
        "path": "backup.sh",
        "license": "unknown",
        "sha256": "",
    }
    (out / "corpus.jsonl").write_text(json.dumps(old) + "\n")
    root = write_tree(tmp_path / "scripts", {"deploy.sh": SCRIPTS["deploy.sh"]})
    result = collect("--dir", root, "--out", out)
    assert result.exit_code == 0, result.stderr
    texts = {r["path"]: r["text"] for r in read_records(out)}
    assert texts["backup.sh"] == strip_boilerplate(GPL_HEADER_SCRIPT).text
    assert read_manifest(out)["inputs"]["dir:/old/root"]["removed"] == {"license-header": 1}
