"""bashcoder-collect: a clean, deduplicated, license-tracked bash corpus.

Sources (directories, git repositories, Debian packages) yield raw files; the
pipeline keeps shell scripts, drops generated or odd files, scrubs credentials
and removes exact and near duplicates; the corpus writer merges the result
into `corpus.jsonl` + `manifest.json` atomically.

Pure stages (detect, filters, secrets, dedup, license) take text and return
verdicts; only `sources/`, `walk.py` and `corpus.py` touch files, processes
or the network. Tokenization and training are the trainer's business, not ours.
"""

from __future__ import annotations
