"""Bits per byte of general-purpose compressors, the baseline a model must beat."""

from __future__ import annotations

import shutil
import subprocess

COMPRESSORS = {"xz -9e": ["xz", "-9e", "-c"], "zstd -19": ["zstd", "-19", "-c", "-q"]}


def compressed_bpb(data: bytes, argv: list[str]) -> float | None:
    """Compressed size in bits per input byte, or None when the tool is missing."""
    if not data or shutil.which(argv[0]) is None:
        return None
    proc = subprocess.run(argv, input=data, capture_output=True, check=True, timeout=600)
    return 8 * len(proc.stdout) / len(data)


def baselines(data: bytes) -> dict[str, float | None]:
    return {name: compressed_bpb(data, argv) for name, argv in COMPRESSORS.items()}
