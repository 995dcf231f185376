"""The engine: tokenizer, model, checkpoints, devices, generation.

Everything else in bashcoder depends on it; it imports nothing of ours outside
this package. Import submodules directly (`bashcoder.engine.generate`, ...);
this package only re-exports the error type.
"""

from bashcoder.engine.errors import BashcoderError

__all__ = ["BashcoderError"]
