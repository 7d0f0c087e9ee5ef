"""Exact and near-duplicate detection on fixed, seeded comment sets."""

from __future__ import annotations

import random

import pytest

from groundcode.corpus.dedup import DupGroup, canonical, find_duplicates

PHRASES = [
    "健康码",
    "数据共享",
    "互认",
    "机制",
    "个人信息",
    "隐私保护",
    "政府部门",
    "平台企业",
    "防疫",
    "需要",
    "出行",
    "扫码",
    "核酸检测",
    "行程卡",
    "绿码",
    "黄码",
    "红码",
    "社区",
    "工作人员",
    "老年人",
    "不会用",
    "智能手机",
    "便民",
    "跨省",
    "流动",
    "信息孤岛",
    "标准",
    "统一",
    "接口",
    "开放",
    "安全",
    "泄露",
    "担心",
    "方便",
    "麻烦",
    "效率",
    "提高",
    "疫情",
    "期间",
    "管控",
    "精准",
    "大数据",
    "授权",
    "同意",
    "收集",
    "使用",
    "删除",
    "责任",
    "监管",
    "法律",
    "规定",
    "地方",
    "政策",
    "不同",
    "手机",
    "网络",
    "信号",
    "排队",
    "等待",
    "商场",
    "地铁",
    "医院",
    "学校",
    "复工",
    "复产",
]
FILLER = "的了在是我有和就不人都一这上也很到说要去你会着没看好自己"


def _comment(rng: random.Random) -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < rng.randint(100, 250):
        parts.append(rng.choice(PHRASES))
        parts.append("".join(rng.choices(FILLER, k=rng.randint(1, 4))))
        if rng.random() < 0.2:
            parts.append(rng.choice("，。！？"))
    return "".join(parts)


def _repost(rng: random.Random, text: str, changes: int) -> str:
    chars = list(text)
    for pos in rng.sample(range(len(chars)), changes):
        chars[pos] = rng.choice("甲乙丙丁戊己庚辛壬癸")
    body = "".join(chars)
    decorate = rng.choice(
        [
            lambda t: "转发：" + t,
            lambda t: "//@小王同学: " + t,
            lambda t: "#健康码互认# " + t,
            lambda t: t + " https://t.cn/A6abcdE",
            lambda t: "转发: //@张三:" + t + " #疫情防控#",
            lambda t: t.replace("，", " "),
        ]
    )
    return decorate(body)


def _corpus(seed: int, max_changes: int) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """200 distinct comments, then 40 reposts of some of them (key -> family)."""
    rng = random.Random(seed)
    items = [(f"c{i}", _comment(rng)) for i in range(200)]
    family = {key: key for key, _ in items}
    for j, src in enumerate(rng.sample(range(200), 40)):
        key = f"r{j}"
        items.append((key, _repost(rng, items[src][1], rng.randint(1, max_changes))))
        family[key] = items[src][0]
    return items, family


def _check(groups: list[DupGroup[str]], family: dict[str, str]) -> float:
    """Recall of planted reposts; asserts no group mixes two distinct comments."""
    found = 0
    for g in groups:
        fams = {family[g.keep]} | {family[k] for k, _ in g.members}
        assert len(fams) == 1, f"distinct comments merged: {g}"
        assert g.keep == family[g.keep]  # the original (earlier) is kept, not the repost
        found += sum(1 for k, _ in g.members if k.startswith("r"))
    return found / 40


def test_reposts_with_one_changed_character_at_default_threshold() -> None:
    items, family = _corpus(seed=11, max_changes=1)
    groups = find_duplicates(items)
    assert _check(groups, family) >= 0.95
    sims = [s for g in groups for _, s in g.members]
    assert all(0.9 <= s <= 1.0 for s in sims)


def test_reposts_with_up_to_three_changes_at_threshold_08() -> None:
    items, family = _corpus(seed=23, max_changes=3)
    groups = find_duplicates(items, threshold=0.8)
    assert _check(groups, family) >= 0.95


def test_distinct_comments_on_one_topic_are_not_merged_even_at_a_low_threshold() -> None:
    rng = random.Random(5)
    items = [(i, _comment(rng)) for i in range(300)]
    assert find_duplicates(items, threshold=0.5) == []


def test_exact_duplicates_after_canonical_form_keep_the_first() -> None:
    base = "健康码跨省互认还是太麻烦了，希望尽快统一标准。"
    items = [
        ("late", "无关的另一条评论，讲的是地铁排队的事情。"),
        ("a", base),
        ("b", "转发：" + base),
        ("c", "//@某人: " + base.replace("，", " , ") + " http://t.cn/xyz"),
        ("d", "#健康码# " + base + "！！"),
        ("e", base),
    ]
    groups = find_duplicates(items)
    assert groups == [DupGroup(keep="a", members=[("b", 1.0), ("c", 1.0), ("d", 1.0), ("e", 1.0)])]
    assert groups[0].duplicates == ["b", "c", "d", "e"]


def test_canonical_form_removes_decorations() -> None:
    assert canonical("转发：//@小王:  #健康码# 好用！！😀 https://t.cn/abc  ＡＢＣ") == "好用abc"


def test_short_texts_only_match_exactly() -> None:
    items = [
        (1, "好"),
        (2, "好！"),
        (3, "好的"),
        (4, "好滴"),
        (5, "#健康码#"),
        (6, "#疫情#"),
        (7, "#健康码#"),
    ]
    groups = find_duplicates(items)
    assert groups == [DupGroup(keep=1, members=[(2, 1.0)]), DupGroup(keep=5, members=[(7, 1.0)])]


def test_many_near_copies_of_one_text_form_one_group() -> None:
    rng = random.Random(3)
    original = _comment(rng)
    items = [(0, original)]
    for i in range(1, 150):
        chars = list(original)
        chars[rng.randrange(len(chars))] = "鑫"
        items.append((i, "".join(chars)))
    items.append((999, _comment(rng)))
    groups = find_duplicates(items, threshold=0.85)
    assert len(groups) == 1 and groups[0].keep == 0
    assert {k for k, _ in groups[0].members} == set(range(1, 150))


def test_results_do_not_depend_on_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    import groundcode.corpus.dedup as dedup

    items, _ = _corpus(seed=31, max_changes=2)
    whole = find_duplicates(items, threshold=0.8)
    monkeypatch.setattr(dedup, "_CHUNK_CHARS", 500)
    assert find_duplicates(items, threshold=0.8) == whole


def test_arguments_and_trivial_inputs() -> None:
    assert find_duplicates([]) == []
    assert find_duplicates([("only", "一条")]) == []
    with pytest.raises(ValueError):
        find_duplicates([(1, "a"), (2, "a")], threshold=0)
