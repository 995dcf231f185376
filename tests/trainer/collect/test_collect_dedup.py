"""Exact and near-duplicate removal: copies collapse, edits of a few lines collapse, different scripts stay."""

from __future__ import annotations

from collect_fixtures import SCRIPTS

from bashcoder.trainer.collect.config import DedupConfig
from bashcoder.trainer.collect.dedup import deduplicate, exact_key, shingle_hashes

CFG = DedupConfig()
BASE = SCRIPTS["count.sh"] + SCRIPTS["deploy.sh"] + SCRIPTS["backup.sh"]


def test_whitespace_changes_are_exact_duplicates() -> None:
    reindented = BASE.replace("    ", "\t").replace("\n", "\r\n")
    assert exact_key(BASE) == exact_key(reindented)
    assert exact_key(BASE) != exact_key(BASE.replace("web1", "web9"))


def test_near_duplicates_collapse_and_the_first_wins() -> None:
    edited = BASE.replace("web1 web2 web3", "app1 app2").replace("-mtime +30", "-mtime +14")
    docs = [("a", BASE), ("b", edited), ("c", SCRIPTS["lib/log.sh"] + SCRIPTS["posix.sh"])]
    kept, dropped = deduplicate(docs, lambda d: d[1], CFG)
    assert [d[0] for d in kept] == ["a", "c"]
    assert [(d[0], reason) for d, reason in dropped] == [("b", "duplicate-near")]


def test_exact_copies_are_reported_as_exact() -> None:
    docs = [("a", BASE), ("b", BASE + "\n\n")]
    kept, dropped = deduplicate(docs, lambda d: d[1], CFG)
    assert [d[0] for d in kept] == ["a"]
    assert dropped[0][1] == "duplicate-exact"


def test_distinct_scripts_all_survive() -> None:
    docs = sorted(SCRIPTS.items())
    kept, dropped = deduplicate(docs, lambda d: d[1], CFG)
    assert len(kept) == len(SCRIPTS) and not dropped


def test_threshold_is_respected() -> None:
    # Half of the text replaced: far below Jaccard 0.7, so both stay.
    half = BASE[: len(BASE) // 2] + SCRIPTS["lib/log.sh"] * 2
    kept, _ = deduplicate([BASE, half], lambda d: d, CFG)
    assert len(kept) == 2
    strict = DedupConfig(near_threshold=1.0)
    edited = BASE.replace("web1 web2 web3", "app1 app2")
    kept, _ = deduplicate([BASE, edited], lambda d: d, strict)
    assert len(kept) == 2


def test_dedup_is_deterministic() -> None:
    docs = [f"{BASE}\necho variant {i}\n" for i in range(8)] + list(SCRIPTS.values())
    first = deduplicate(docs, lambda d: d, CFG)
    second = deduplicate(docs, lambda d: d, CFG)
    assert first == second


def test_shingle_hashes_are_stable_and_distinct() -> None:
    a = shingle_hashes(BASE, 5)
    assert (a == shingle_hashes(BASE, 5)).all()
    assert len(a) > 50
    assert len(shingle_hashes("echo hi", 5)) == 1
    assert len(shingle_hashes("", 5)) == 0
