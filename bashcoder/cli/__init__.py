"""The commands: the top layer, one module per console script, and nothing imports it.

| command              | module             | does                                                  |
|----------------------|--------------------|-------------------------------------------------------|
| bashcoder-generate   | cli/generate.py    | bash from a prompt (engine/oneshot.py)                |
| bashcoder-collect    | cli/collect.py     | a corpus from sources (trainer/collect)               |
| bashcoder-train      | cli/train.py       | train a model (trainer); also `torchrun -m bashcoder.cli.train` |
| bashcoder-eval       | cli/eval.py        | measure a model (trainer/quality)                     |
| bashcoder-lsp        | cli/lsp.py         | the language server (server)                          |
| bashcoder-repl       | cli/repl.py        | the terminal assistant (repl)                         |

Each module maps click options onto a subsystem's config and calls it;
subsystems are imported inside the command function, so `--help` and
argument errors never load torch. Errors are printed by `errors.reports_errors`.
"""
