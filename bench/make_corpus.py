"""Generate the reference large project of SPEC §8 (seeded, reproducible).

    python bench/make_corpus.py [--out bench/data] [--seed 7] [--scale 1.0]

Writes into the output folder:

* ``comments.csv``   100,000 self-media comments of 50-300 characters (2% planted reposts)
* ``documents.jsonl`` 2,000 media documents of 5,000-20,000 characters, paragraphs on lines
* ``codebook.yaml``  300 concepts in 40 initial categories, 13 main categories, 6 relation classes
* ``codings.csv``    2 coders x about 200,000 codings (passage form), coder B agreeing ~85%

Numbers follow the import order used by ``bench/run.py``: documents are type
2 (``2-1`` ..), comments type 4 (``4-1`` ..).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

WORDS = [
    "健康码",
    "行程码",
    "场所码",
    "绿码",
    "黄码",
    "红码",
    "赋码",
    "转码",
    "互认",
    "扫码",
    "亮码",
    "核酸",
    "检测",
    "疫情",
    "防控",
    "数据",
    "信息",
    "共享",
    "平台",
    "政务",
    "部门",
    "社区",
    "网格",
    "出行",
    "复工",
    "复产",
    "隐私",
    "安全",
    "存储",
    "销毁",
    "申诉",
    "纠错",
    "弹窗",
    "更新",
    "规则",
    "标准",
    "接口",
    "对接",
    "省份",
    "城市",
    "地区",
    "风险",
    "等级",
    "密接",
    "隔离",
    "核查",
    "授权",
    "调用",
    "采集",
    "上传",
    "比对",
    "研判",
    "轨迹",
    "定位",
    "场景",
    "公共",
    "交通",
    "小区",
    "医院",
    "学校",
    "企业",
    "员工",
    "老人",
    "手机",
    "应用",
    "小程序",
    "系统",
    "故障",
    "延迟",
    "排队",
    "通行",
    "证明",
    "报备",
    "登记",
    "身份",
    "证件",
    "姓名",
    "电话",
]
FILLER = "的了在是和也就都而及与等这那我们他们一个没有可以进行通过相关已经还是因为所以但是如果"
PUNCT = "，。！？；、"


def sentence(rng: random.Random, lo: int, hi: int) -> str:
    n = rng.randint(lo, hi)
    parts: list[str] = []
    length = 0
    while length < n:
        w = (
            rng.choice(WORDS)
            if rng.random() < 0.6
            else "".join(rng.choice(FILLER) for _ in range(rng.randint(1, 3)))
        )
        parts.append(w)
        length += len(w)
        if rng.random() < 0.12:
            parts.append(rng.choice(PUNCT))
            length += 1
    text = "".join(parts)[:n]
    return text.rstrip(PUNCT) + "。"


def make(out: Path, *, seed: int = 7, scale: float = 1.0) -> dict[str, int]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_comments = int(100_000 * scale)
    n_docs = int(2_000 * scale)
    n_concepts = 300

    # Codebook: 6 relation classes > 13 main > 40 categories > 300 concepts.
    concepts = [f"概念{i:03d}" for i in range(1, n_concepts + 1)]
    cat_of = {c: i % 40 for i, c in enumerate(concepts)}
    rcs = []
    for r in range(6):
        mains = []
        for m in range(13):
            if m % 6 != r:
                continue
            cats = [
                {
                    "number": str(c + 1),
                    "name": f"范畴{c + 1:02d}",
                    "definition": f"范畴{c + 1:02d}的定义",
                    "concepts": [k for k in concepts if cat_of[k] == c],
                }
                for c in range(40)
                if c % 13 == m
            ]
            mains.append({"number": str(m + 1), "name": f"主范畴{m + 1:02d}", "categories": cats})
        rcs.append({"name": f"关系类别{r + 1}", "main_categories": mains})
    import yaml

    (out / "codebook.yaml").write_text(
        yaml.safe_dump(
            {"name": "bench", "relation_classes": rcs}, allow_unicode=True, sort_keys=False
        ),
        encoding="utf-8",
    )

    # Comments, with 2% reposts of earlier ones.
    comments: list[str] = []
    with (out / "comments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["comment_id", "text", "date", "views", "url", "author"])
        for i in range(n_comments):
            if comments and rng.random() < 0.02:
                base = rng.choice(comments)
                text = rng.choice(["转发：", "//@网友:", "#健康码# "]) + base
            else:
                text = sentence(rng, 50, 290)
            comments.append(text)
            day = 1 + (i * 365) // max(1, n_comments)
            w.writerow(
                [
                    i + 1,
                    text,
                    f"2022-{1 + (day - 1) // 31 % 12:02d}-{1 + (day - 1) % 28:02d} 12:00",
                    int(10 ** rng.uniform(1, 6)),
                    f"https://weibo.example/p/{i + 1}",
                    f"user{rng.randint(1, 20000)}",
                ]
            )

    # Long documents: paragraphs on separate lines.
    paragraphs_per_doc: list[int] = []
    with (out / "documents.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n_docs):
            target = rng.randint(5_000, 20_000)
            paras = []
            size = 0
            while size < target:
                p = "".join(sentence(rng, 20, 80) for _ in range(rng.randint(3, 8)))
                paras.append(p)
                size += len(p) + 1
            paragraphs_per_doc.append(len(paras))
            fh.write(
                json.dumps(
                    {"title": f"报道{i + 1}", "text": "\n".join(paras), "date": "2022-05-01"},
                    ensure_ascii=False,
                )
                + "\n"
            )

    # Codings: coder A ~200k over comments and document paragraphs; B agrees ~85%.
    units = [(f"4-{i + 1}", 1) for i in range(n_comments)]
    for d, n in enumerate(paragraphs_per_doc):
        units += [(f"2-{d + 1}", p + 1) for p in range(n)]
    target_codings = int(200_000 * scale)
    per_unit = target_codings / len(units)
    n_a = n_b = 0
    with (out / "codings.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["document", "passage", "code", "coder"])
        for doc, pas in units:
            k = int(per_unit) + (1 if rng.random() < per_unit - int(per_unit) else 0)
            codes = rng.sample(concepts, k) if k else []
            for c in codes:
                w.writerow([doc, pas, c, "coder_a"])
                n_a += 1
                r = rng.random()
                if r < 0.85:
                    w.writerow([doc, pas, c, "coder_b"])
                    n_b += 1
                elif r < 0.95:
                    w.writerow([doc, pas, rng.choice(concepts), "coder_b"])
                    n_b += 1
            if rng.random() < 0.03:
                w.writerow([doc, pas, rng.choice(concepts), "coder_b"])
                n_b += 1
    return {
        "comments": n_comments,
        "documents": n_docs,
        "concepts": n_concepts,
        "codings_a": n_a,
        "codings_b": n_b,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    print(json.dumps(make(args.out, seed=args.seed, scale=args.scale)))


if __name__ == "__main__":
    main()
