"""Exact and near-duplicate detection for reposted comments (pure functions, no database).

Reposts on Chinese social media are the same text with decorations: a
``转发：`` prefix, ``//@name:`` chains, ``#话题#`` topics, links, different
punctuation or spacing, and sometimes a few changed characters. So:

1. every text gets a *canonical form* (NFKC, lower case, decorations removed,
   only letters and digits kept); equal canonical forms are exact duplicates;
2. the first text of each exact group then takes part in a near-duplicate pass:
   MinHash signatures over character shingles of the canonical form, LSH
   banding to find candidate pairs without comparing all pairs, and every
   candidate verified by the exact Jaccard similarity of the shingle sets;
3. verified pairs are joined with union-find; the earliest item of a group
   (items come in priority order, earliest first) is kept.

Hashing is vectorised with numpy: all shingles of all texts are hashed in one
pass, and each of the ``num_perm`` hash functions is a multiply-shift over the
whole array with a segmented minimum per text. 100,000 comments take seconds
(see the report in ``bench``), well inside the 60 s budget of SPEC §8.

Texts whose canonical form is shorter than the shingle size only match exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    pass
from numpy.typing import NDArray

K = TypeVar("K", bound=Hashable)

# Applied after NFKC, so full-width ＃ and ： are already # and :.
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000，。！？、；“”（）《》]+|\bt\.cn/\w+", re.IGNORECASE
)
_REPOST_CHAIN = re.compile(r"//\s*@[^:\s]{1,30}\s*:")
_REPLY = re.compile(r"回复\s*@[^:\s]{1,30}\s*:")
_PREFIX = re.compile(
    r"^(?:\s*(?:转发微博|轉發微博|转发理由|转发|轉發|转|repost|rt)\s*:)+", re.IGNORECASE
)
_REPOST_WORDS = re.compile(r"转发微博|轉發微博")
_HASHTAG = re.compile(r"#[^#\n]{1,40}#")
_MENTION = re.compile(r"@[\w\-]{1,30}")
# Letters and digits stay (str.isalnum, i.e. Unicode L and N); the rest goes.
_NOT_ALNUM = re.compile(r"[\W_]+")

# Large LSH buckets (many near-identical texts sharing a band) are not expanded
# into all pairs: each member is compared with the bucket's first member and a
# window of its predecessors, which keeps the pass near-linear.
_FULL_BUCKET = 64
_WINDOW = 16
_CHUNK_CHARS = 1 << 21


@dataclass(frozen=True)
class DupGroup(Generic[K]):
    """One group of duplicates: ``keep`` stays, ``members`` (key, similarity to keep) go."""

    keep: K
    members: list[tuple[K, float]] = field(default_factory=list)

    @property
    def duplicates(self) -> list[K]:
        return [k for k, _ in self.members]


def canonical(text: str) -> str:
    """The form two reposts of the same text share: decorations gone, letters and digits only."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _URL.sub(" ", t)
    t = _PREFIX.sub(" ", t)
    t = _REPOST_WORDS.sub(" ", t)
    t = _REPOST_CHAIN.sub(" ", t)
    t = _REPLY.sub(" ", t)
    t = _HASHTAG.sub(" ", t)
    t = _MENTION.sub(" ", t)
    return _NOT_ALNUM.sub("", t)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index (earlier item) becomes the root.
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def _bands(num_perm: int, threshold: float) -> tuple[int, int]:
    """(bands, rows): the most selective banding that still finds a pair at ``threshold`` 99.8% of the time."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= 0.998:
            return bands, rows
    return num_perm, 1


def _mix64(x: NDArray[Any]) -> NDArray[Any]:
    """splitmix64 finaliser: spreads a 64-bit value's bits (uint64 arithmetic wraps)."""
    import numpy as np

    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _shingle_hashes(texts: Sequence[str], k: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """64-bit hashes of every k-character shingle of every text, and each text's start offset.

    Text i owns ``hashes[starts[i]:starts[i + 1]]`` (``len(text) - k + 1`` entries;
    every text here is at least k long).
    """
    import numpy as np

    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    n = len(cps) - k + 1
    prime = np.uint64(0x100000001B3)
    h = cps[:n].astype(np.uint64)
    for j in range(1, k):
        h *= prime
        h += cps[j : j + n]
    h = _mix64(h)
    # Drop the k-1 shingles at the end of each text that run into the next one.
    keep = np.ones(n, dtype=bool)
    ends = np.cumsum(lengths)
    for j in range(1, k):
        pos = ends - k + j
        keep[pos[pos < n]] = False
    counts = lengths - k + 1
    return h[keep], np.concatenate(([0], np.cumsum(counts)))


def _minhash_rows(
    hashes: NDArray[Any], seg: NDArray[Any], mult: NDArray[Any], out: NDArray[Any], cols: range
) -> None:
    """Fill ``out[:, cols]``: per hash function (a multiply-shift), the minimum over each segment."""
    import numpy as np

    buf = np.empty_like(hashes)
    shift = np.uint64(32)
    for p in cols:
        np.multiply(hashes, mult[p], out=buf)
        np.right_shift(buf, shift, out=buf)
        out[:, p] = np.minimum.reduceat(buf, seg)


def _signatures(texts: Sequence[str], k: int, num_perm: int, seed: int) -> NDArray[Any]:
    """MinHash signatures (texts x num_perm, uint32), computed chunk by chunk to bound memory.

    numpy releases the GIL inside its loops, so the hash functions are split
    across a few threads (the budget machine has 2 cores).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    rng = np.random.default_rng(seed)
    mult = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    n = len(texts)
    sig = np.empty((n, num_perm), dtype=np.uint32)
    workers = max(1, min(4, os.cpu_count() or 1, num_perm))
    parts = [range(w, num_perm, workers) for w in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        lo = 0
        while lo < n:
            hi, size = lo, 0
            while hi < n and (hi == lo or size + len(texts[hi]) <= _CHUNK_CHARS):
                size += len(texts[hi])
                hi += 1
            hashes, starts = _shingle_hashes(texts[lo:hi], k)
            block = np.empty((hi - lo, num_perm), dtype=np.uint32)
            futures = [
                pool.submit(_minhash_rows, hashes, starts[:-1], mult, block, cols) for cols in parts
            ]
            for f in futures:
                f.result()
            sig[lo:hi] = block
            lo = hi
    return sig


def _candidates(sig: NDArray[Any], bands: int, rows: int, seed: int) -> set[tuple[int, int]]:
    """Pairs (i < j) that share at least one band of their signatures."""
    import numpy as np

    n = sig.shape[0]
    rng = np.random.default_rng(seed + 7919)
    mult = rng.integers(1, 2**63, size=rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        block = sig[:, band * rows : (band + 1) * rows].astype(np.uint64)
        key = _mix64((block * mult).sum(axis=1, dtype=np.uint64) + np.uint64(band))
        order = np.argsort(key, kind="stable")
        sk = key[order]
        cut = np.flatnonzero(sk[1:] != sk[:-1]) + 1
        bounds = np.concatenate(([0], cut, [n]))
        sizes = np.diff(bounds)
        for s in np.flatnonzero(sizes > 1):
            members = sorted(order[bounds[s] : bounds[s + 1]].tolist())
            if len(members) <= _FULL_BUCKET:
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        pairs.add((members[x], members[y]))
            else:
                first = members[0]
                for x in range(1, len(members)):
                    pairs.add((first, members[x]))
                    for y in range(max(1, x - _WINDOW), x):
                        pairs.add((members[y], members[x]))
    return pairs


def find_duplicates(
    items: Sequence[tuple[K, str]],
    *,
    threshold: float = 0.9,
    shingle: int = 3,
    num_perm: int = 128,
    seed: int = 1,
) -> list[DupGroup[K]]:
    """Groups of exact and near-duplicate texts; ``items`` are (key, text), earliest first.

    The first item of a group is kept; members carry their Jaccard similarity
    (character ``shingle``-grams of the canonical forms) to the kept one, 1.0
    for exact duplicates. Groups come in the order of their kept item.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    if shingle < 1 or num_perm < 1:
        raise ValueError("shingle and num_perm must be positive")
    n = len(items)
    if n < 2:
        return []
    # 1. Exact duplicates by canonical form.
    exact: dict[str, list[int]] = {}
    canon: list[str] = []
    for i, (_, text) in enumerate(items):
        c = canonical(text)
        canon.append(c)
        # Text that is nothing but decorations is compared as written, not as "".
        key = c if c else "\x00" + "".join(unicodedata.normalize("NFKC", text).split())
        exact.setdefault(key, []).append(i)
    uf = _UnionFind(n)
    for members in exact.values():
        for m in members[1:]:
            uf.union(members[0], m)
    # 2. Near duplicates among the first of each exact group.
    reps = [members[0] for members in exact.values() if len(canon[members[0]]) >= shingle]
    sets: dict[int, frozenset[str]] = {}

    def shingles(item: int) -> frozenset[str]:
        if item not in sets:
            c = canon[item]
            sets[item] = frozenset(c[p : p + shingle] for p in range(len(c) - shingle + 1))
        return sets[item]

    def jaccard(x: int, y: int) -> float:
        sx, sy = shingles(x), shingles(y)
        inter = len(sx & sy)
        return inter / (len(sx) + len(sy) - inter) if sx or sy else 0.0

    if len(reps) >= 2:
        sig = _signatures([canon[i] for i in reps], shingle, num_perm, seed)
        bands, rows = _bands(num_perm, threshold)
        for x, y in _candidates(sig, bands, rows, seed):
            if jaccard(reps[x], reps[y]) >= threshold:
                uf.union(reps[x], reps[y])
        del sig

    # 3. Groups, keeping the earliest item; similarity measured against it.
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(uf.find(i), []).append(i)
    rep_of = {m: members[0] for members in exact.values() for m in members}
    out: list[DupGroup[K]] = []
    for root in sorted(groups):
        members = groups[root]
        if len(members) < 2:
            continue
        keep = members[0]
        result: list[tuple[K, float]] = []
        for m in members[1:]:
            sim = 1.0 if rep_of[m] == rep_of[keep] else jaccard(rep_of[keep], rep_of[m])
            result.append((items[m][0], round(sim, 4)))
        out.append(DupGroup(keep=items[keep][0], members=result))
    return out
