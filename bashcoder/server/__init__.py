"""bashcoder.server: `bashcoder-lsp`, ghost-text and menu completions for VS Code and Neovim.

- `launch`    start-up: --tcp addresses, logging, stdout kept for the protocol (cli/lsp.py calls it)
- `framing`   the base protocol's Content-Length frames read forgivingly, in front of pygls (stdio)
- `server`    the pygls server and its thin handlers, the `bashcoder/status` notification,
              the `bashcoder.generate` command
- `service`   the model as the server uses it: load, complete at a cursor, write a script
- `worker`    the one model thread: newest request per document wins, cancellation
- `documents` the open documents and cursors; `positions` the pure LSP-position maths
- `items`     suggestions as lsprotocol items; `script` where a generated body goes
- `shell`     which documents are served; `settings` what clients may set

It imports the engine, never the trainer or the REPL.
"""
