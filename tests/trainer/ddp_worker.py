"""Run under torchrun by test_train_distributed.py: train a few steps, then dump this rank's weights.

Dumping from every rank is the test's doing; the trainer itself writes from rank 0 only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from safetensors.torch import save_file
from trainer_helpers import micro_config

from bashcoder.trainer.train import train

if __name__ == "__main__":
    data, out, dumps = map(Path, sys.argv[1:4])
    result = train(micro_config(data, out, max_steps=6, save_interval=3, eval_interval=3, log_interval=2))
    state = {k: v.detach().contiguous() for k, v in result.model.state_dict().items()}
    save_file(state, str(dumps / f"rank{os.environ['RANK']}.safetensors"))
