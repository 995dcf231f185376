"""The VS Code extension offers exactly the server's settings, starts the server, and builds and packages.

The parity tests need only Python and package.json, so they always run; `bashcoder-lsp --stdio`
(what vscode-languageclient runs when told the transport is stdio) must answer `initialize`; the
build test runs `npm ci`, `npm run compile` and `vsce package` in a copy of clients/vscode when node
is present. tests/clients/test_vscode_editor.py runs the packaged extension in a real VS Code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from editors import LSP_BIN, missing_server, skip_unless

from bashcoder.server.settings import CLIENT_KEYS, SECTION, SETTING_KEYS, ServerSettings, parse_settings

VSCODE = Path(__file__).resolve().parents[2] / "clients" / "vscode"


def manifest() -> dict[str, Any]:
    return json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))


def contributed_settings() -> dict[str, dict[str, Any]]:
    """package.json's settings by key without the `bashcoder.` prefix."""
    properties = manifest()["contributes"]["configuration"]["properties"]
    assert all(name.startswith(f"{SECTION}.") for name in properties), list(properties)
    return {name.removeprefix(f"{SECTION}."): prop for name, prop in properties.items()}


def top_key(name: str) -> str:
    """The key the server receives: VS Code sends `bashcoder.trace.server` as {"trace": {"server": ...}}."""
    return name.split(".")[0]


def server_settings_in_vscode() -> dict[str, dict[str, Any]]:
    return {key: prop for key, prop in contributed_settings().items() if top_key(key) not in CLIENT_KEYS}


def section_as_vscode_sends_it() -> dict[str, Any]:
    """`getConfiguration().get('bashcoder')` with every default: dotted keys become nested objects."""
    section: dict[str, Any] = {}
    for key, prop in contributed_settings().items():
        *parents, leaf = key.split(".")
        node = section
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = prop["default"]
    return section


def test_vscode_offers_exactly_the_servers_settings_plus_the_client_only_ones() -> None:
    keys = {top_key(key) for key in contributed_settings()}
    assert keys - CLIENT_KEYS == set(SETTING_KEYS), "package.json and bashcoder/server/settings.py drifted"
    assert CLIENT_KEYS <= keys, "a client-only key is declared in settings.py but not contributed"


def test_vscode_defaults_are_the_servers_defaults_and_raise_no_warning() -> None:
    # VS Code sends its whole section, serverPath and trace included: that must mean "all defaults",
    # with no "unknown setting" notification.
    sent = section_as_vscode_sends_it()
    assert sent["trace"] == {"server": "off"}
    assert parse_settings({SECTION: sent}) == (ServerSettings(), [])


@skip_unless(missing_server())
def test_the_client_starts_the_server_without_extra_flags_and_the_server_accepts_stdio() -> None:
    source = (VSCODE / "src" / "extension.ts").read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in source.splitlines())
    # A `transport` (TransportKind.stdio) makes vscode-languageclient append --stdio to serverPath.
    assert not re.search(r"\btransport\s*:", code), "the server options name a transport"
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": None, "capabilities": {}},
    }
    body = json.dumps(init).encode()
    exit_ = json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()
    message = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    message += b"Content-Length: %d\r\n\r\n%s" % (len(exit_), exit_)
    proc = subprocess.run([str(LSP_BIN), "--stdio"], input=message, capture_output=True, timeout=120)
    assert b"No such option" not in proc.stderr, proc.stderr[-2000:]
    header, _, rest = proc.stdout.partition(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in header.split(b"\r\n") if b":" in line)
    assert b"Content-Length" in fields, (proc.stdout[:300], proc.stderr[-2000:])
    answer = json.loads(rest[: int(fields[b"Content-Length"])])
    assert answer["id"] == 1 and "inlineCompletionProvider" in answer["result"]["capabilities"], answer


@skip_unless(missing_server())
def test_stdio_and_tcp_together_are_one_line_on_stderr() -> None:
    proc = subprocess.run(
        [str(LSP_BIN), "--stdio", "--tcp", "127.0.0.1:2087"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: --stdio and --tcp 127.0.0.1:2087 ask for two transports; choose one."
    ]


def test_every_choice_vscode_offers_is_valid_for_the_server() -> None:
    for key, prop in server_settings_in_vscode().items():
        for choice in prop.get("enum", []):
            assert parse_settings({key: choice})[1] == [], (key, choice)
        for bound in ("minimum", "maximum"):
            if bound in prop:
                assert parse_settings({key: prop[bound]})[1] == [], (key, bound)
        if "exclusiveMinimum" in prop:
            assert parse_settings({key: prop["exclusiveMinimum"]})[1] != [], key
        step = 1 if prop["type"] == "integer" else 0.001
        if "minimum" in prop:
            assert parse_settings({key: prop["minimum"] - step})[1] != [], key
        if "maximum" in prop:
            assert parse_settings({key: prop["maximum"] + step})[1] != [], key


def test_the_extension_activates_on_shell_scripts_and_offers_generate_script() -> None:
    data = manifest()
    assert (data["name"], data["publisher"]) == ("bashcoder", "bashcoder")
    assert "onLanguage:shellscript" in data["activationEvents"]
    commands = {c["command"]: f"{c['category']}: {c['title']}" for c in data["contributes"]["commands"]}
    assert commands["bashcoder.generate"] == "bashcoder: Generate script"
    # Where the server command comes from must not be settable by a workspace someone else wrote.
    assert contributed_settings()["serverPath"]["scope"] == "machine"


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not on PATH; the VS Code extension cannot be built",
)
def test_the_extension_compiles_and_packages_into_a_vsix(tmp_path: Path) -> None:
    work = tmp_path / "vscode"
    shutil.copytree(VSCODE, work, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix"))
    # No install scripts are needed (vsce-sign's only matters for signing); --prefer-offline uses the cache.
    ci = _run(["npm", "ci", "--ignore-scripts", "--prefer-offline", "--no-audit"], work, 180)
    if ci.returncode != 0 and any(
        code in ci.stderr for code in ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH")
    ):
        pytest.skip("the npm registry is unreachable and the npm cache lacks the locked packages")
    assert ci.returncode == 0, ci.stderr[-3000:]

    compiled = _run(["npm", "run", "compile"], work, 120)
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-3000:]
    assert (work / "out" / "extension.js").is_file()

    vsix = tmp_path / "bashcoder.vsix"
    packaged = _run(["npm", "run", "package", "--", "--out", str(vsix)], work, 120)
    assert packaged.returncode == 0, packaged.stdout[-3000:] + packaged.stderr[-3000:]
    names = set(zipfile.ZipFile(vsix).namelist())
    assert {"extension/package.json", "extension/out/extension.js", "extension/LICENSE.txt"} <= names
    assert any(n.startswith("extension/node_modules/vscode-languageclient/") for n in names)
    assert not any(n.startswith("extension/src/") for n in names)
