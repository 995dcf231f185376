"""`python -m bashcoder.trainer` (and `torchrun ... -m bashcoder.trainer`) runs bashcoder-train."""

from __future__ import annotations

from bashcoder.trainer.train_cli import command

if __name__ == "__main__":
    command()
