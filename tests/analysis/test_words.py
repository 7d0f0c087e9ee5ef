"""Segmentation, word statistics and in-vivo proposals with real jieba."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from groundcode.analysis import words as words_mod
from groundcode.analysis.words import (
    Segmenter,
    default_stopwords,
    distinctive_terms,
    invivo_suggestions,
    word_frequencies,
)
from groundcode.domain.errors import GroundcodeError


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    """One loaded default dictionary for the module (loading costs about a second)."""
    s = Segmenter()
    s.tokens("预热")
    return s


@pytest.fixture(scope="module")
def user_dict(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dict") / "user.txt"
    path.write_text("# project terms\n健康码 2000 n\n互认码 2000 n\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seg_user(user_dict: Path) -> Segmenter:
    s = Segmenter(user_dict=user_dict)
    s.tokens("预热")
    return s


# -- stop-word list -------------------------------------------------------------
def test_bundled_stopwords_cover_function_words_but_not_content() -> None:
    stop = default_stopwords()
    assert 400 <= len(stop) <= 900
    for word in (
        "的",
        "了",
        "是",
        "我们",
        "他们",
        "一个",
        "没有",
        "可以",
        "进行",
        "通过",
        "相关",
        "the",
        "and",
    ):
        assert word in stop, word
    for word in ("政策", "疫苗", "健康码", "支持", "反对"):
        assert word not in stop, word


# -- Segmenter ------------------------------------------------------------------
def test_user_dictionary_keeps_project_terms_whole(seg: Segmenter, seg_user: Segmenter) -> None:
    text = "两地互认码已经上线，进门要出示健康码"
    plain = seg.tokens(text)
    custom = seg_user.tokens(text)
    assert "互认码" not in plain and "健康码" not in plain
    assert "认码" in plain  # default jieba splits 互|认码
    assert "互认码" in custom and "健康码" in custom
    assert "认码" not in custom


def test_two_segmenters_do_not_share_dictionaries(seg_user: Segmenter) -> None:
    """A project's user words must not leak into another project's segmenter."""
    fresh = Segmenter()
    assert "互认码" in seg_user.tokens("互认码")
    assert "互认码" not in fresh.tokens("互认码")


def test_stopwords_and_noise_are_removed(seg: Segmenter) -> None:
    toks = seg.tokens("我们的社区已经进行了核酸检测，大家都是自愿的！！！ 2022 年 3.5 元 50%")
    assert toks == ["社区", "核酸", "检测", "自愿", "元"]


def test_mixed_chinese_english_text(seg: Segmenter) -> None:
    toks = seg.tokens(
        "下载APP后用5G网络登录 https://www.example.com/login?id=3 ，the Government said A ok"
    )
    assert "app" in toks and "5g" in toks and "government" in toks
    assert "网络" in toks or "网络覆盖" in toks or any("网络" in t for t in toks)
    assert "the" not in toks and "a" not in toks  # English stop word, single letter
    assert not any("example" in t or "http" in t for t in toks)  # the URL is gone
    assert all(t == t.lower() and t.strip() == t and t for t in toks)


def test_fullwidth_latin_folds_to_halfwidth(seg: Segmenter) -> None:
    assert seg.tokens("ＡＰＰ") == ["app"]


def test_extra_and_replacement_stopwords(tmp_path: Path, seg: Segmenter) -> None:
    assert "核酸" in seg.tokens("核酸检测")
    extra = Segmenter(extra_stopwords=["核酸"])
    assert extra.tokens("核酸检测") == ["检测"]
    own = tmp_path / "stop.txt"
    own.write_text("# only this\n检测\n", encoding="utf-8")
    replaced = Segmenter(stopwords=own)
    assert replaced.tokens("我们核酸检测") == ["我们", "核酸"]  # 我们 is no longer a stop word


def test_version_follows_dictionary_and_stopwords(tmp_path: Path, user_dict: Path) -> None:
    base = Segmenter().version
    assert Segmenter().version == base  # deterministic, no jieba load needed
    assert len(base) == 12
    with_dict = Segmenter(user_dict=user_dict).version
    assert with_dict != base
    other = tmp_path / "other.txt"
    other.write_text("健康码 2000 n\n互认码 10 n\n", encoding="utf-8")
    assert Segmenter(user_dict=other).version != with_dict
    assert Segmenter(extra_stopwords=["核酸"]).version != base


def test_missing_or_bad_user_dictionary_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(GroundcodeError, match="not found"):
        Segmenter(user_dict=tmp_path / "nope.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes("健康码 10 n\n".encode("gbk"))
    with pytest.raises(GroundcodeError, match="UTF-8"):
        Segmenter(user_dict=bad)
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("健康码 10 n\n两个 词 10 n\n", encoding="utf-8")
    with pytest.raises(GroundcodeError, match="line 2"):
        Segmenter(user_dict=spaced)


def test_lazy_loading_is_thread_safe(user_dict: Path) -> None:
    s = Segmenter(user_dict=user_dict)
    assert s._tokenizer is None  # constructing does not load jieba's dictionary
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(s.tokens("出示互认码"))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [["出示", "互认码"]] * 4


def test_tokens_many_pool_matches_loop(seg: Segmenter, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["核酸检测排队两个小时", "", "疫苗接种预约成功", "健康码变黄了怎么办"] * 5
    expected = [seg.tokens(t) for t in texts]
    assert seg.tokens_many(texts) == expected
    monkeypatch.setattr(words_mod, "_POOL_MIN_CHARS", 0)  # force the pool on a small input
    assert seg.tokens_many(texts, workers=2) == expected


# -- word frequencies -----------------------------------------------------------
TOKENS = [
    ["核酸", "检测", "排队"],
    ["核酸", "核酸", "结果"],
    ["疫苗", "接种", "核酸"],
    ["疫苗", "疫苗", "预约"],
]
GROUPS = ["2", "2", "10", "10"]


def test_word_frequencies_by_group() -> None:
    df = word_frequencies(TOKENS, GROUPS, top=2)
    assert list(df.columns) == ["group", "word", "count", "share"]
    assert df["group"].tolist() == ["2", "2", "10", "10"]  # natural order: 2 before 10
    assert df["word"].tolist() == ["核酸", "排队", "疫苗", "接种"]  # ties broken by the word
    assert df["count"].tolist() == [3, 1, 3, 1]
    assert df["share"].tolist() == pytest.approx([0.5, 1 / 6, 0.5, 1 / 6])


def test_word_frequencies_without_groups_and_empty() -> None:
    df = word_frequencies(TOKENS, top=1)
    assert df.to_dict("records") == [{"group": "all", "word": "核酸", "count": 4, "share": 4 / 12}]
    empty = word_frequencies([], [], top=5)
    assert list(empty.columns) == ["group", "word", "count", "share"] and empty.empty
    with pytest.raises(ValueError):
        word_frequencies(TOKENS, ["a"])


def test_distinctive_terms_prefers_group_specific_words() -> None:
    df = distinctive_terms(TOKENS, GROUPS, top=3)
    assert list(df.columns) == ["group", "word", "tfidf", "count"]
    top10 = df[df["group"] == "10"].iloc[0]
    top2 = df[df["group"] == "2"].iloc[0]
    # 疫苗 (twice, only in group 10) beats 核酸 (once there, but shared by both groups).
    assert (top10["word"], top10["count"]) == ("疫苗", 3)
    # In group 2, 核酸 appears three times; shared words have idf 1, unique ones ln(3/2)+1.
    idf_unique = math.log(3 / 2) + 1
    w_hesuan = 1 + math.log(3)
    norm = math.sqrt(w_hesuan**2 + 3 * idf_unique**2)
    assert top2["word"] == "核酸"
    assert top2["tfidf"] == pytest.approx(w_hesuan / norm)
    assert set(df[df["group"] == "2"]["word"]) <= {"核酸", "检测", "排队", "结果"}


# -- in-vivo proposals ------------------------------------------------------------
def test_invivo_suggestions_rank_rare_repeated_words_first() -> None:
    corpus = [["社区", "核酸"], ["社区", "物资"], ["社区", "团购"], ["核酸", "排队"]]
    passage = ["社区", "团长", "团长", "核酸", "说"]
    ranked = invivo_suggestions(passage, corpus, top=3)
    assert [w for w, _ in ranked] == ["团长", "核酸", "社区"]
    assert ranked[0][1] == pytest.approx(2 * (math.log(5 / 1) + 1))
    assert all(a[1] >= b[1] for a, b in zip(ranked, ranked[1:], strict=False))
    assert invivo_suggestions([], corpus) == []
    assert invivo_suggestions(["说"], corpus) == [("说", pytest.approx(math.log(5) + 1))]
