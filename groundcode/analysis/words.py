"""Chinese word segmentation, word statistics and in-vivo name proposals.

Everything here is a pure function over lists of texts or token lists; the
database wiring (token caches, grouping passages) lives in the service layer.

jieba, scikit-learn and pandas are imported inside functions: the TUI must
start without paying for jieba's dictionary (about a second) or sklearn.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundcode.domain.errors import BadLine, FileRefused

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Segmenter",
    "default_stopwords",
    "distinctive_terms",
    "invivo_suggestions",
    "word_frequencies",
]

# Bump when the token rules below change, so cached tokens are recomputed.
_RULES_VERSION = "1"

# Below this many characters a worker pool costs more (fork, pickling the
# results back) than it saves: on a 2-core machine the pool breaks even near
# 200k characters and is 1.6x faster at 1M.
_POOL_MIN_CHARS = 300_000

_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]*", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Pure numbers: 2023, 3.5, 1,000, 50%, -2, and full-width digits once folded.
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,:]\d+)*%?$")
_LATIN_LETTER = re.compile(r"^[a-z]$")
# Full-width ASCII (！ to ～) folds to half-width so "ＡＰＰ" and "APP" are one word;
# the ideographic space becomes a plain space.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def default_stopwords() -> frozenset[str]:
    """The bundled stop-word list (``groundcode/data/stopwords-zh.txt``)."""
    return frozenset(_parse_stopwords(_bundled_stopwords_text()))


def _bundled_stopwords_text() -> str:
    # A plain path next to the package: works for source trees, wheels and
    # editable installs alike (package data is installed as ``data/*``).
    return (Path(__file__).resolve().parent.parent / "data" / "stopwords-zh.txt").read_text(
        encoding="utf-8"
    )


def _parse_stopwords(text: str) -> set[str]:
    words: set[str] = set()
    for line in text.splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.add(word.lower())
    return words


def _parse_user_dict(path: Path, text: str) -> list[tuple[str, int | None, str | None]]:
    """Parse ``word [freq] [pos]`` lines as jieba does, but name the bad line.

    jieba's own loader fails with a bare ValueError; a researcher needs the
    file and line to fix it.
    """
    entries: list[tuple[str, int | None, str | None]] = []
    pattern = re.compile(r"^(.+?)(?:[ \t]+(\d+))?(?:[ \t]+([A-Za-z]+))?$")
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = pattern.match(line)
        if m is None:  # pragma: no cover - the pattern matches any non-empty line
            raise BadLine(str(path), lineno, "dictionary_line")
        word, freq, pos = m.group(1).strip(), m.group(2), m.group(3)
        if re.search(r"\s", word):
            raise BadLine(str(path), lineno, "dictionary_line", line)
        entries.append((word, int(freq) if freq is not None else None, pos))
    return entries


class Segmenter:
    """jieba precise-mode segmentation with our cleaning rules.

    Each instance owns its own ``jieba.Tokenizer`` so two projects with
    different user dictionaries never see each other's words (jieba's module
    functions share one global dictionary). The dictionary is loaded on first
    use, under a lock, so constructing a Segmenter is free.

    ``stopwords`` replaces the bundled list; ``extra_stopwords`` add to it.
    """

    def __init__(
        self,
        user_dict: Path | None = None,
        stopwords: Path | None = None,
        extra_stopwords: Iterable[str] = (),
    ) -> None:
        self._user_dict_path = Path(user_dict) if user_dict is not None else None
        self._user_dict_text = ""
        self._user_entries: list[tuple[str, int | None, str | None]] = []
        if self._user_dict_path is not None:
            self._user_dict_text = _read_text(self._user_dict_path, "user dictionary")
            self._user_entries = _parse_user_dict(self._user_dict_path, self._user_dict_text)
        if stopwords is not None:
            stop_text = _read_text(Path(stopwords), "stop-word list")
        else:
            stop_text = _bundled_stopwords_text()
        extra = sorted({w.strip().lower() for w in extra_stopwords if w.strip()})
        self._stop_text = stop_text + "\n" + "\n".join(extra)
        self.stopwords: frozenset[str] = frozenset(_parse_stopwords(stop_text) | set(extra))
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._version: str | None = None

    @property
    def version(self) -> str:
        """A short hash of everything that decides the tokens.

        Callers key cached tokens by it: a new jieba, user dictionary or
        stop-word list yields a new version and the cache is rebuilt.
        """
        if self._version is None:
            from importlib.metadata import PackageNotFoundError, version

            try:
                jieba_version = version("jieba")
            except PackageNotFoundError:  # pragma: no cover - jieba is a dependency
                jieba_version = "unknown"
            h = hashlib.sha256()
            for part in (_RULES_VERSION, jieba_version, self._user_dict_text, self._stop_text):
                h.update(part.encode("utf-8"))
                h.update(b"\x00")
            self._version = h.hexdigest()[:12]
        return self._version

    def _jieba(self) -> Any:
        tok = self._tokenizer
        if tok is not None:
            return tok
        with self._lock:
            if self._tokenizer is None:
                base = _base_tokenizer()
                self._tokenizer = (
                    _with_user_words(base, self._user_entries) if self._user_entries else base
                )
            return self._tokenizer

    def tokens(self, text: str) -> list[str]:
        """Content words of ``text``, in order, lower-cased Latin.

        Drops whitespace, punctuation, pure numbers, single Latin letters,
        URLs, e-mail addresses and stop words; keeps Latin and mixed tokens
        ("app", "5g", "c++").
        """
        tok = self._jieba()
        clean = _EMAIL.sub(" ", _URL.sub(" ", text.translate(_FOLD)))
        stop = self.stopwords
        out: list[str] = []
        for piece in tok.cut(clean, HMM=True):
            word = piece.strip().lower()
            if not word or word in stop or not _is_content(word):
                continue
            out.append(word)
        return out

    def tokens_many(self, texts: Sequence[str], *, workers: int = 1) -> list[list[str]]:
        """Tokens of many texts, in order.

        With ``workers > 1`` and more than ``_POOL_MIN_CHARS`` characters, the
        work is spread over a forked process pool: the children inherit the
        loaded dictionary, so they start at once. Smaller inputs, or systems
        without fork, use a plain loop, which is faster there.
        """
        import multiprocessing as mp

        texts = list(texts)
        n_chars = sum(len(t) for t in texts)
        if workers <= 1 or n_chars < _POOL_MIN_CHARS or "fork" not in mp.get_all_start_methods():
            return [self.tokens(t) for t in texts]
        self._jieba()  # load before forking so every child shares the dictionary
        chunk = max(1, min(2000, len(texts) // (workers * 8) or 1))
        ctx = mp.get_context("fork")
        # With fork, initargs reach the children by inheritance, not pickling.
        with ctx.Pool(processes=workers, initializer=_init_worker, initargs=(self,)) as pool:
            return list(pool.map(_worker_tokens, texts, chunksize=chunk))

    def __getstate__(self) -> dict[str, Any]:
        # A loaded jieba dictionary is large and the lock cannot be pickled;
        # a copy reloads lazily.
        state = self.__dict__.copy()
        state["_tokenizer"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


_WORKER_SEGMENTER: Segmenter | None = None

_BASE: Any = None
_BASE_LOCK = threading.Lock()


def _base_tokenizer() -> Any:
    """jieba's bundled dictionary, loaded once per process.

    Segmenters without a user dictionary share it (segmenting only reads
    it); those with one get a copy, so loading costs about a second once
    rather than once per project or per dictionary change.
    """
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr
            tok = jieba.Tokenizer()
            tok.initialize()
            _BASE = tok
        return _BASE


def _with_user_words(base: Any, entries: list[tuple[str, int | None, str | None]]) -> Any:
    """A new Tokenizer: the base dictionary copied, plus the user's words.

    Copying the loaded prefix dictionary (FREQ, total) takes tens of
    milliseconds where jieba's initialize() re-reads its cache file; if a
    future jieba changes those attributes we fall back to a full load.
    """
    import jieba

    tok = jieba.Tokenizer()
    if isinstance(getattr(base, "FREQ", None), dict) and isinstance(
        getattr(base, "total", None), int
    ):
        tok.FREQ = dict(base.FREQ)
        tok.total = base.total
        tok.initialized = True
    else:  # pragma: no cover - depends on jieba internals
        tok.initialize()
    for word, freq, pos in entries:
        tok.add_word(word, freq, pos)
    return tok


def _init_worker(seg: Segmenter) -> None:
    global _WORKER_SEGMENTER
    _WORKER_SEGMENTER = seg


def _worker_tokens(text: str) -> list[str]:
    """Pool entry point: uses the Segmenter inherited through fork."""
    seg = _WORKER_SEGMENTER
    if seg is None:  # pragma: no cover - only reachable without fork
        raise RuntimeError("no segmenter in worker")
    return seg.tokens(text)


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise FileRefused(str(path), 0, "named_not_found", what)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(str(path), 0, "named_not_utf8", what) from exc
    except OSError as exc:
        raise FileRefused(str(path), 0, "named_unreadable", f"{what} ({exc.strerror})") from exc


def _is_content(word: str) -> bool:
    """True for a token that may carry meaning (see Segmenter.tokens)."""
    if not any(ch.isalnum() for ch in word):
        return False  # punctuation, symbols, emoji
    if _NUMBER.match(word) or _LATIN_LETTER.match(word):
        return False
    return not any(ch.isspace() for ch in word)


def _natural_key(value: str) -> list[Any]:
    """Sort "1-10" after "1-9" and type "10" after type "2"."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", value)
    ]


def _group_tokens(
    token_lists: Sequence[list[str]], groups: Sequence[str] | None
) -> dict[str, Counter[str]]:
    if groups is None:
        groups = ["all"] * len(token_lists)
    if len(groups) != len(token_lists):
        raise ValueError(f"{len(token_lists)} token lists but {len(groups)} groups")
    counts: dict[str, Counter[str]] = {}
    for toks, group in zip(token_lists, groups, strict=True):
        counts.setdefault(str(group), Counter()).update(toks)
    return {g: counts[g] for g in sorted(counts, key=_natural_key)}


def word_frequencies(
    token_lists: Sequence[list[str]], groups: Sequence[str] | None = None, *, top: int = 20
) -> pd.DataFrame:
    """The ``top`` most frequent words per group.

    Columns ``group, word, count, share``; ``share`` is the word's count over
    all tokens of the group, so groups of different size compare. Without
    ``groups`` everything is one group called ``all``. Groups come in natural
    order; within a group, count descending, then the word.
    """
    import pandas as pd

    rows: list[tuple[str, str, int, float]] = []
    for group, counter in _group_tokens(token_lists, groups).items():
        total = sum(counter.values())
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[: max(top, 0)]
        rows.extend((group, word, count, count / total) for word, count in ranked)
    frame = pd.DataFrame(rows, columns=["group", "word", "count", "share"])
    return frame.astype({"group": object, "word": object, "count": "int64", "share": "float64"})


def _identity(tokens: list[str]) -> list[str]:
    """Analyzer for already tokenised input (module level so it pickles)."""
    return tokens


def distinctive_terms(
    token_lists: Sequence[list[str]], groups: Sequence[str], *, top: int = 20
) -> pd.DataFrame:
    """Terms that set each group apart: TF-IDF with one "document" per group.

    Columns ``group, word, tfidf, count``. Term frequency is sublinear
    (1 + log tf) so one very long document cannot drown a group, and rows
    are l2-normalised so groups of different size compare. A word used
    equally by every group scores lowest.
    """
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer

    grouped = _group_tokens(token_lists, groups)
    rows: list[tuple[str, str, float, int]] = []
    names = [g for g, c in grouped.items() if c]
    if names:
        docs = [list(grouped[g].elements()) for g in names]
        vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, lowercase=False)
        matrix = vec.fit_transform(docs).tocsr()
        vocab = vec.get_feature_names_out()
        for i, group in enumerate(names):
            row = matrix.getrow(i)
            scored = [(str(vocab[j]), float(v)) for j, v in zip(row.indices, row.data, strict=True)]
            counter = grouped[group]
            scored.sort(key=lambda wv: (-wv[1], -counter[wv[0]], wv[0]))
            rows.extend((group, w, v, counter[w]) for w, v in scored[: max(top, 0)])
    frame = pd.DataFrame(rows, columns=["group", "word", "tfidf", "count"])
    return frame.astype({"group": object, "word": object, "tfidf": "float64", "count": "int64"})


def invivo_suggestions(
    passage_tokens: list[str], corpus_token_lists: Sequence[list[str]], *, top: int = 5
) -> list[tuple[str, float]]:
    """Words of a passage that could name an in-vivo concept, best first.

    Score = tf in the passage x smoothed idf over the corpus,
    ``ln((1 + N) / (1 + df)) + 1``; the corpus may or may not contain the
    passage itself. Single characters make poor concept names, so they are
    proposed only when the passage has no longer word. Ties keep the order
    in which the words first occur in the passage.
    """
    if not passage_tokens or top <= 0:
        return []
    tf = Counter(passage_tokens)
    words = [w for w in dict.fromkeys(passage_tokens) if len(w) >= 2] or list(
        dict.fromkeys(passage_tokens)
    )
    wanted = set(words)
    df: Counter[str] = Counter()
    for toks in corpus_token_lists:
        df.update(wanted.intersection(toks))
    n = len(corpus_token_lists)
    scored = [(w, tf[w] * (math.log((1 + n) / (1 + df[w])) + 1.0)) for w in words]
    order = {w: i for i, w in enumerate(words)}
    scored.sort(key=lambda wv: (-wv[1], order[wv[0]]))
    return scored[:top]
