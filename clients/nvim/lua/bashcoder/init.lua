--- bashcoder: local bash completions from `bashcoder-lsp` in Neovim >= 0.11.
---
--- This module registers the server with `vim.lsp.config`/`vim.lsp.enable` for sh/bash buffers,
--- and on attach turns on ghost text (`vim.lsp.inline_completion`, Neovim 0.12+) or, where that
--- is missing, the built-in completion menu (`vim.lsp.completion`, 0.11+), with accept mappings.
--- Completion logic lives in the server; nothing here inspects the buffer. See `:help bashcoder`.

local M = {}

local NAME = 'bashcoder'
local GENERATE = 'bashcoder.generate'

---@class bashcoder.Keys
---@field accept? string|string[]|false Accept the ghost text; falls back to the key itself.
---@field next? string|false Show the next candidate.
---@field prev? string|false Show the previous candidate.
---@field complete? string|false Open the completion menu now (vim.lsp.completion.get()).

---@class bashcoder.Opts
---@field cmd? string[] Command that starts the server.
---@field filetypes? string[] Filetypes served.
---@field settings? table Server settings, camelCase keys as in `:help bashcoder-settings`.
---@field inline? boolean Ghost text where `vim.lsp.inline_completion` exists (0.12+).
---@field completion? boolean Completion menu through `vim.lsp.completion` (0.11+).
---@field autotrigger? boolean|nil Open the menu by itself on the server's trigger characters; nil
--- means "only where ghost text is off", so typing does not ask the model twice.
---@field keys? bashcoder.Keys Insert-mode mappings, buffer-local; false disables one.

---@type bashcoder.Opts
M.defaults = {
  cmd = { 'bashcoder-lsp' },
  filetypes = { 'sh', 'bash' },
  settings = {},
  inline = true,
  completion = true,
  autotrigger = nil,
  keys = { accept = { '<Tab>', '<C-y>' }, next = '<M-]>', prev = '<M-[>', complete = '<C-Space>' },
}

---@type bashcoder.Opts
M.options = vim.deepcopy(M.defaults)

--- Last `bashcoder/status` notification: { device = string, latencyMs = number|nil, model = string }.
M.last_status = nil

local function notify(msg, level)
  vim.notify('bashcoder: ' .. msg, level or vim.log.levels.INFO)
end

---@param bufnr? integer
---@return vim.lsp.Client|nil
local function get_client(bufnr)
  return vim.lsp.get_clients({ name = NAME, bufnr = bufnr })[1]
end

--- The settings as a JSON object: an empty Lua table would be sent as [].
---@param settings? table
---@return table
local function section(settings)
  return (settings and next(settings)) and settings or vim.empty_dict()
end

--- A one-line summary for a statusline, e.g. "bashcoder cpu 23ms"; "" before the server reports.
function M.status()
  local s = M.last_status
  if not s then
    return ''
  end
  local latency = type(s.latencyMs) == 'number' and (' %dms'):format(s.latencyMs) or ''
  return ('bashcoder %s%s'):format(type(s.device) == 'string' and s.device or '?', latency)
end

--- Ask the server to write a script body below the `# comment` line under the cursor.
---@param bufnr? integer
function M.generate(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = get_client(bufnr)
  if not client then
    notify('no bashcoder server is attached to this buffer', vim.log.levels.WARN)
    return
  end
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  local params = { command = GENERATE, arguments = { vim.uri_from_bufnr(bufnr), line } }
  client:request('workspace/executeCommand', params, function(err)
    if err then
      notify('generate failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
  end, bufnr)
end

--- Send new server settings (merged into the current ones) through workspace/didChangeConfiguration.
---@param settings table camelCase keys, as in `:help bashcoder-settings`
function M.configure(settings)
  M.options.settings = vim.tbl_deep_extend('force', M.options.settings or {}, settings)
  vim.lsp.config(NAME, { settings = { [NAME] = section(M.options.settings) } })
  for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
    local ours = { [NAME] = section(M.options.settings) }
    client.settings = vim.tbl_deep_extend('force', client.settings or {}, ours)
    client:notify('workspace/didChangeConfiguration', { settings = client.settings })
  end
end

---@param keys string|string[]|false|nil
---@return string[]
local function as_list(keys)
  if not keys then
    return {}
  end
  return type(keys) == 'table' and keys or { keys }
end

--- Buffer-local insert-mode mappings for a buffer the server attached to.
---@param bufnr integer
---@param inline boolean ghost text is on
---@param completion boolean the completion menu is on
local function map_keys(bufnr, inline, completion)
  local keys = M.options.keys or {}
  local function map(lhs, rhs, desc, expr)
    vim.keymap.set('i', lhs, rhs, { buffer = bufnr, expr = expr, desc = 'bashcoder: ' .. desc })
  end
  if inline then
    for _, lhs in ipairs(as_list(keys.accept)) do
      map(lhs, function()
        -- A visible menu keeps its own keys (<C-y> confirms an item, <Tab> moves in it).
        if vim.fn.pumvisible() == 0 and vim.lsp.inline_completion.get({ bufnr = bufnr }) then
          return ''
        end
        if lhs:lower() == '<tab>' and vim.snippet and vim.snippet.active({ direction = 1 }) then
          return '<Cmd>lua vim.snippet.jump(1)<CR>'
        end
        return lhs
      end, 'accept the suggestion', true)
    end
    for _, item in ipairs({ { keys.next, 1, 'next' }, { keys.prev, -1, 'previous' } }) do
      if item[1] then
        map(item[1], function()
          vim.lsp.inline_completion.select({ bufnr = bufnr, count = item[2] })
        end, item[3] .. ' suggestion')
      end
    end
  end
  if completion and keys.complete then
    map(keys.complete, function()
      vim.lsp.completion.get()
    end, 'open the completion menu')
  end
end

---@param client vim.lsp.Client
---@param bufnr integer
local function on_attach(client, bufnr)
  local opts = M.options
  local inline = opts.inline ~= false
    and vim.lsp.inline_completion ~= nil
    and client:supports_method('textDocument/inlineCompletion', bufnr)
  if inline then
    -- Per buffer: a buffer counts as disabled until enabled, whatever the client says.
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  end
  local completion = opts.completion ~= false and client:supports_method('textDocument/completion', bufnr)
  if completion then
    local autotrigger = opts.autotrigger
    if autotrigger == nil then
      autotrigger = not inline
    end
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = autotrigger })
  end
  map_keys(bufnr, inline, completion)
end

--- Define the user commands (also done by plugin/bashcoder.lua, so they exist before setup()).
function M.create_commands()
  vim.api.nvim_create_user_command('BashcoderGenerate', function()
    M.generate(0)
  end, { desc = 'bashcoder: write a script below the # comment under the cursor' })
end

--- Register and enable the server for sh/bash buffers.
---@param opts? bashcoder.Opts
function M.setup(opts)
  if vim.fn.has('nvim-0.11') == 0 then
    notify('needs Neovim 0.11 or newer (vim.lsp.config); not started', vim.log.levels.WARN)
    return
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- Lists replace, not merge: a user's { '<C-l>' } means only <C-l>.
  if opts and opts.keys and opts.keys.accept ~= nil then
    M.options.keys.accept = opts.keys.accept
  end
  local cmd = M.options.cmd
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) == 0 then
    local fix = 'install bashcoder, or pass setup({ cmd = { "/path/to/bashcoder-lsp" } })'
    notify(('"%s" is not executable; not started: %s'):format(cmd[1], fix), vim.log.levels.WARN)
    return
  end
  vim.lsp.config(NAME, {
    cmd = cmd,
    filetypes = M.options.filetypes,
    root_markers = { '.git' },
    init_options = section(M.options.settings),
    -- Merged into Neovim's own capabilities: asks the server for a status after every completion
    -- (the latency status() shows); clients that do not ask get one at each model load only.
    capabilities = { experimental = { bashcoderStatus = true } },
    settings = { [NAME] = section(M.options.settings) },
    -- One server, so one model in memory, for every project in this Neovim.
    reuse_client = function(client, config)
      return client.name == config.name
    end,
    handlers = {
      ['bashcoder/status'] = function(_, result)
        M.last_status = result
        vim.api.nvim_exec_autocmds('User', { pattern = 'BashcoderStatus', modeline = false })
        -- A statusline showing status() redraws now, not at the next keystroke.
        vim.cmd.redrawstatus()
      end,
    },
  })
  local group = vim.api.nvim_create_augroup('bashcoder', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == NAME then
        on_attach(client, args.buf)
      end
    end,
  })
  M.create_commands()
  vim.lsp.enable(NAME)
end

return M
