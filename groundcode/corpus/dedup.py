"""Reposts and near-duplicates: exact groups, then MinHash + LSH over character shingles.

Canonical form first: repost prefixes (``转发：``, ``//@名字:`` chains), ``#话题#``
markers, URLs, @mentions, whitespace and punctuation go, so "the same comment
reposted with a hashtag" is exactly equal. Near-duplicates are then found
without comparing all pairs: 3-character shingles are hashed once into one
flat array, MinHash signatures are column minima computed per permutation
with numpy (``np.minimum.reduceat``), LSH bands bucket the signatures, and
only bucket-mates are verified by the exact Jaccard similarity of their
shingle sets. Groups are closed with union-find; the first item of a group
(callers pass items earliest first) is the one kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)

REPOST_PREFIX = re.compile(r"^(?:\s*(?:转发|转|repost|RT)\s*[:：]\s*)+", re.IGNORECASE)
REPOST_CHAIN = re.compile(r"//\s*@[^:：\s]{1,30}\s*[:：]")
HASHTAG = re.compile(r"#[^#\n]{1,40}#")
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION = re.compile(r"@[\w\u4e00-\u9fff\-]{1,30}")

MASK32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class DupGroup(Generic[K]):
    keep: K
    members: list[tuple[K, float]] = field(default_factory=list)  # (duplicate, similarity to keep)


def canonical(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    t = REPOST_PREFIX.sub("", t)
    t = REPOST_CHAIN.sub("", t)
    t = HASHTAG.sub("", t)
    t = URL.sub("", t)
    t = MENTION.sub("", t)
    return "".join(ch for ch in t.lower() if unicodedata.category(ch)[0] in ("L", "N"))


def _shingles(text: str, k: int) -> np.ndarray:
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if cps.size < k:
        return np.empty(0, dtype=np.uint64)
    sh = np.zeros(cps.size - k + 1, dtype=np.uint64)
    for i in range(k):
        sh = (sh << np.uint64(21)) | cps[i : cps.size - k + 1 + i]
    return np.unique(sh)


def _mix32(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, low 32 bits: spreads shingle ids before the permutations."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return z & MASK32


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def _bands_for(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands x rows with a candidate threshold well below ``threshold`` (recall first; Jaccard verifies)."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        if num_perm % rows:
            continue
        bands = num_perm // rows
        if (1 / bands) ** (1 / rows) <= max(0.3, threshold - 0.25):
            best = (bands, rows)
    return best


def find_duplicates(
    items: Sequence[tuple[K, str]],
    *,
    threshold: float = 0.9,
    shingle: int = 3,
    num_perm: int = 64,
    seed: int = 1,
) -> list[DupGroup[K]]:
    """Groups of duplicates; the first item of each group (in ``items`` order) is kept."""
    n = len(items)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    canon = [canonical(t) for _, t in items]
    first_of: dict[str, int] = {}
    reps: list[int] = []
    for i, c in enumerate(canon):
        if not c:
            continue
        if c in first_of:
            union(first_of[c], i)
        else:
            first_of[c] = i
            reps.append(i)

    shingles = {i: _shingles(canon[i], shingle) for i in reps}
    cand_idx = [i for i in reps if shingles[i].size > 0]
    sims: dict[tuple[int, int], float] = {}
    if len(cand_idx) > 1:
        lengths = np.array([shingles[i].size for i in cand_idx])
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        flat = _mix32(np.concatenate([shingles[i] for i in cand_idx]))
        rng = np.random.default_rng(seed)
        a = rng.integers(1, 2**32, size=num_perm, dtype=np.uint64) | np.uint64(1)
        b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64)
        sig = np.empty((num_perm, len(cand_idx)), dtype=np.uint64)
        for p in range(num_perm):
            hv = (a[p] * flat + b[p]) & MASK32
            sig[p] = np.minimum.reduceat(hv, offsets)
        bands, rows = _bands_for(threshold, num_perm)
        seen_pairs: set[tuple[int, int]] = set()
        for band in range(bands):
            block = sig[band * rows : (band + 1) * rows]
            key = np.zeros(block.shape[1], dtype=np.uint64)
            for r in range(rows):
                key = key * np.uint64(0x100000001B3) ^ block[r]
            order = np.argsort(key, kind="stable")
            sk = key[order]
            cuts = np.flatnonzero(np.diff(sk)) + 1
            for grp in np.split(order, cuts):
                if grp.size < 2 or grp.size > 2000:
                    continue
                members = sorted(grp.tolist())
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        seen_pairs.add((members[x], members[y]))
        for x, y in seen_pairs:
            i, j = cand_idx[x], cand_idx[y]
            si, sj = shingles[i], shingles[j]
            # Size filter: Jaccard >= t needs min/max size >= t.
            if min(si.size, sj.size) < threshold * max(si.size, sj.size):
                continue
            s = _jaccard(si, sj)
            if s >= threshold:
                sims[(i, j)] = s
                union(i, j)

    groups: dict[int, list[int]] = {}
    for i in range(n):
        if canon[i]:
            groups.setdefault(find(i), []).append(i)
    out: list[DupGroup[K]] = []
    for root in sorted(groups):
        members = groups[root]
        if len(members) < 2:
            continue
        keep = members[0]
        dups: list[tuple[K, float]] = []
        for m in members[1:]:
            if canon[m] == canon[keep]:
                s = 1.0
            else:
                key2 = (min(keep, m), max(keep, m))
                s = sims.get(key2)  # type: ignore[assignment]
                if s is None:
                    sk_ = shingles.get(keep, _shingles(canon[keep], shingle))
                    sm_ = shingles.get(m, _shingles(canon[m], shingle))
                    s = _jaccard(sk_, sm_)
            dups.append((items[m][0], float(s)))
        out.append(DupGroup(items[keep][0], dups))
    return out
