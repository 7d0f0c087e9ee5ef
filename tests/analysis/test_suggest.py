"""Concept suggestions with real jieba and scikit-learn on a small synthetic corpus."""

from __future__ import annotations

import io
import json
import pickle
import random

import numpy as np
import pytest

from groundcode.analysis.suggest import FORMAT_VERSION, SuggestModel, evaluate
from groundcode.analysis.words import Segmenter
from groundcode.domain.errors import Refused

# Four concepts with their own vocabulary, plus words every comment uses.
VOCAB = {
    "核酸检测负担": [
        "核酸",
        "检测",
        "排队",
        "采样点",
        "做核酸",
        "阴性证明",
        "结果",
        "等了两个小时",
        "三天两检",
    ],
    "物资保供困难": ["买菜", "团购", "蔬菜", "物资", "配送", "抢不到", "团长", "大米", "涨价"],
    "疫苗接种意愿": ["疫苗", "接种", "打针", "加强针", "副作用", "预约", "第三针", "发烧", "抗体"],
    "复工复产压力": ["复工", "上班", "工资", "老板", "企业", "停工", "房租", "收入", "裁员"],
}
FILLER = ["小区", "大家", "今天", "真的", "希望", "社区", "通知", "感觉", "家里", "我们"]


def _passage(concept: str, rng: random.Random) -> str:
    words = rng.sample(VOCAB[concept], 4) + rng.sample(FILLER, 3)
    rng.shuffle(words)
    return "，".join("".join(words[i : i + 2]) for i in range(0, len(words), 2)) + "。"


def _dataset() -> tuple[list[str], list[list[str]]]:
    rng = random.Random(7)
    texts: list[str] = []
    labels: list[list[str]] = []
    for concept in VOCAB:
        for _ in range(15):
            texts.append(_passage(concept, rng))
            labels.append([concept])
    # A few passages carry two concepts, and one concept is used only once.
    texts.append("排队做核酸的时候还在担心买菜抢不到")
    labels.append(["核酸检测负担", "物资保供困难"])
    texts.append("封控期间心理压力很大，睡不着")
    labels.append(["心理压力"])
    return texts, labels


UNSEEN = {
    "核酸检测负担": "今天又去采样点排队做核酸，等了两个小时才拿到结果",
    "物资保供困难": "团购的蔬菜一直配送不到，大米也涨价了",
    "疫苗接种意愿": "预约了加强针，担心打针以后发烧有副作用",
    "复工复产压力": "企业停工三个月，老板发不出工资，房租还要交",
}


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


@pytest.fixture(scope="module")
def data(seg: Segmenter) -> tuple[list[str], list[list[str]], list[list[str]]]:
    texts, labels = _dataset()
    return texts, labels, seg.tokens_many(texts)


@pytest.fixture(scope="module")
def model(data: tuple[list[str], list[list[str]], list[list[str]]]) -> SuggestModel:
    texts, labels, tokens = data
    return SuggestModel.train(texts, labels, tokens=tokens)


def test_training_keeps_rare_concepts_out(model: SuggestModel) -> None:
    assert model.concepts == sorted(VOCAB)
    assert model.skipped == ["心理压力"]
    assert model.n_train == 62


def test_typical_unseen_passages_rank_their_concept_first(
    model: SuggestModel, seg: Segmenter
) -> None:
    texts = list(UNSEEN.values())
    ranked = model.predict(texts, tokens=[seg.tokens(t) for t in texts], top=3)
    assert [r[0][0] for r in ranked] == list(UNSEEN)
    for r in ranked:
        assert len(r) == 3
        assert all(0.0 <= p <= 1.0 for _, p in r)
        assert [p for _, p in r] == sorted((p for _, p in r), reverse=True)
        assert r[0][1] > r[1][1]  # a clear winner, not a tie


def test_predict_tokenises_itself_when_no_tokens_given(model: SuggestModel, seg: Segmenter) -> None:
    text = UNSEEN["疫苗接种意愿"]
    own = model.predict([text])[0]
    given = model.predict([text], tokens=[seg.tokens(text)])[0]
    assert own == given
    assert model.predict([text], top=10)[0][0][0] == "疫苗接种意愿"
    assert len(model.predict([text], top=10)[0]) == 4  # no more than the model knows
    assert model.predict([]) == []


def test_character_ngrams_carry_passages_without_content_words(model: SuggestModel) -> None:
    """A passage of stop words only still gets ranked suggestions, from its characters."""
    ranked = model.predict(["我们的"], tokens=[[]], top=2)[0]
    assert len(ranked) == 2 and all(0.0 <= p <= 1.0 for _, p in ranked)


def test_round_trip_gives_identical_predictions(model: SuggestModel, seg: Segmenter) -> None:
    restored = SuggestModel.from_bytes(model.to_bytes())
    texts = list(UNSEEN.values())
    toks = [seg.tokens(t) for t in texts]
    assert restored.predict(texts, tokens=toks, top=4) == model.predict(texts, tokens=toks, top=4)
    assert (restored.concepts, restored.skipped, restored.n_train) == (
        model.concepts,
        model.skipped,
        62,
    )


def test_from_bytes_refuses_another_format(model: SuggestModel) -> None:
    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    assert meta["format"] == FORMAT_VERSION
    meta["format"] = FORMAT_VERSION + 1
    arrays["meta"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ValueError, match="format"):
        SuggestModel.from_bytes(buf.getvalue())


def test_stored_model_is_no_pickle_and_stale_or_corrupt_bytes_are_refused(
    model: SuggestModel,
) -> None:
    """The cache beside a project must never run code: a pickle (what older versions
    wrote, or a planted file), a truncated file or garbage is a ValueError, never loaded."""
    data = model.to_bytes()
    assert not data.startswith(b"\x80")  # not a pickle
    old = pickle.dumps({"format": 1, "coef": np.zeros((2, 2))})
    for bad in (old, data[: len(data) // 2], b"", b"\x00garbage" * 50):
        with pytest.raises(ValueError):
            SuggestModel.from_bytes(bad)


def test_training_without_learnable_concepts_is_a_usage_error(seg: Segmenter) -> None:
    texts = ["核酸排队", "团购买菜", "打疫苗"]
    with pytest.raises(Refused, match="at least two passages"):
        SuggestModel.train(texts, [["甲"], ["乙"], ["丙"]], tokens=seg.tokens_many(texts))
    with pytest.raises(ValueError):
        SuggestModel.train(texts, [["甲"]], tokens=seg.tokens_many(texts))


def test_evaluate_reports_the_agreed_keys(
    data: tuple[list[str], list[list[str]], list[list[str]]],
) -> None:
    texts, labels, tokens = data
    # An uncoded passage is not part of the evaluation.
    result = evaluate([*texts, "没有编码的片段"], [*labels, []], tokens=[*tokens, []], seed=3)
    assert set(result) == {"precision_at_1", "precision_at_3", "recall_at_3", "n_train", "n_eval"}
    assert result["n_train"] + result["n_eval"] == len(texts)
    assert result["n_eval"] == round(len(texts) * 0.25)
    for key in ("precision_at_1", "precision_at_3", "recall_at_3"):
        assert 0.0 <= result[key] <= 1.0
    assert result["precision_at_1"] >= 0.75  # the four vocabularies are easy to tell apart
    assert result["precision_at_3"] <= 2 / 3 + 1e-9  # at most two true concepts per passage
    assert evaluate(texts, labels, tokens=tokens, seed=3) == evaluate(
        texts, labels, tokens=tokens, seed=3
    )


def test_evaluate_counts_unseen_concepts_as_misses(seg: Segmenter) -> None:
    """With nothing learnable, every held-out concept is missed: all scores are zero."""
    texts = ["核酸排队", "团购买菜", "打疫苗", "复工上班"]
    result = evaluate(
        texts, [["甲"], ["乙"], ["丙"], ["丁"]], tokens=seg.tokens_many(texts), test_size=0.5
    )
    assert result == {
        "precision_at_1": 0.0,
        "precision_at_3": 0.0,
        "recall_at_3": 0.0,
        "n_train": 2,
        "n_eval": 2,
    }
