"""License classification: LICENSE texts, Debian copyright files, SPDX headers and the allowed rule."""

from __future__ import annotations

import textwrap

import pytest
from collect_fixtures import DEP5_MIT, GPL3_TEXT, MIT_TEXT

from bashcoder.trainer.collect.license import (
    allowed,
    classify_text,
    combine,
    from_debian_copyright,
    normalize_expression,
    spdx_header,
)

APACHE = (
    "                                 Apache License\n                           Version 2.0, January 2004\n"
)
BSD3 = (
    "Redistribution and use in source and binary forms, with or without modification, are permitted...\n"
    "3. Neither the name of the copyright holder nor the names of its contributors may be used to endorse"
)
BSD2 = "Redistribution and use in source and binary forms, with or without modification, are permitted..."
ISC = (
    "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee "
    "is hereby granted, provided that the above copyright notice and this permission notice appear in all copies."
)
ZERO_BSD = (
    "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee "
    'is hereby granted.\n\nTHE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES'
)
UNLICENSE = "This is free and unencumbered software released into the public domain.\n"
CC0 = "Creative Commons Legal Code\n\nCC0 1.0 Universal\n"
GPL2 = "GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991\n"
LGPL21 = "GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999\n"


@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        (MIT_TEXT, "MIT"),
        (APACHE, "Apache-2.0"),
        (BSD3, "BSD-3-Clause"),
        (BSD2, "BSD-2-Clause"),
        (ISC, "ISC"),
        (ZERO_BSD, "0BSD"),
        (UNLICENSE, "Unlicense"),
        (CC0, "CC0-1.0"),
        (GPL3_TEXT, "GPL-3.0-only"),
        (GPL2, "GPL-2.0-only"),
        (LGPL21, "LGPL-2.1-only"),
        ("All rights reserved.", "unknown"),
        ("SPDX-License-Identifier: Apache-2.0 OR MIT\n", "Apache-2.0 OR MIT"),
    ],
)
def test_license_texts(text: str, spdx: str) -> None:
    assert classify_text(text) == spdx


def test_debian_machine_readable_copyright() -> None:
    assert from_debian_copyright(DEP5_MIT.format(name="tool")) == "MIT"
    dual = DEP5_MIT.replace("License: Expat\n\nFiles: debian", "License: GPL-2+ or Artistic\n\nFiles: debian")
    assert from_debian_copyright(dual) == "GPL-2.0-or-later OR Artistic-1.0"


def test_debian_free_form_copyright() -> None:
    text = textwrap.dedent(
        """\
        This package was debianized by someone.
        This program is free software; you can redistribute it and/or modify it under the terms of the
        GNU General Public License as published by the Free Software Foundation; either version 2, or
        (at your option) any later version.
        On Debian systems, the complete text of the GNU General Public License can be found in
        `/usr/share/common-licenses/GPL-2'.
        """
    )
    assert from_debian_copyright(text) == "GPL-2.0-or-later"
    assert from_debian_copyright("see /usr/share/common-licenses/GPL-3 for details") == "GPL-3.0-only"


def test_spdx_header_in_a_script() -> None:
    assert spdx_header("#!/bin/sh\n# SPDX-License-Identifier: GPL-2.0-or-later\necho\n") == "GPL-2.0-or-later"
    assert spdx_header("#!/bin/sh\necho no header\n") is None


def test_normalizing_debian_names() -> None:
    assert normalize_expression("Expat") == "MIT"
    assert normalize_expression("GPL-2+ or Artistic") == "GPL-2.0-or-later OR Artistic-1.0"
    assert normalize_expression("BSD-3-clause and (MIT or GPL-2)") == "BSD-3-Clause AND (MIT OR GPL-2.0-only)"


@pytest.mark.parametrize(
    ("expr", "extra", "ok"),
    [
        ("MIT", (), True),
        ("Apache-2.0", (), True),
        ("0BSD", (), True),
        ("CC0-1.0", (), True),
        ("GPL-3.0-only", (), False),
        ("GPL-3.0-only", ("GPL-3.0-only",), True),
        ("GPL-3.0-only", ("gpl-3.0-only",), True),
        ("MIT OR GPL-2.0-only", (), True),
        ("MIT AND GPL-2.0-only", (), False),
        ("(MIT OR Apache-2.0) AND BSD-3-Clause", (), True),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", ("GPL-2.0-or-later",), True),
        ("unknown", (), False),
        ("unknown", ("unknown",), True),
    ],
)
def test_allowed_rule(expr: str, extra: tuple[str, ...], ok: bool) -> None:
    assert allowed(expr, frozenset(extra)) is ok


def test_combining_several_license_files() -> None:
    assert combine(["MIT", "Apache-2.0"], alternatives=True) == "Apache-2.0 OR MIT"
    assert combine(["MIT", "unknown"], alternatives=False) == "MIT"
    assert combine(["unknown"], alternatives=False) == "unknown"
