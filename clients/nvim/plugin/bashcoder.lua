-- Commands exist as soon as the plugin is on 'runtimepath'; the server starts with
-- require('bashcoder').setup(). See :help bashcoder.
if vim.g.loaded_bashcoder or vim.fn.has('nvim-0.11') == 0 then
  return
end
vim.g.loaded_bashcoder = true

require('bashcoder').create_commands()
