"""Word segmentation and suggestion figures on the reference project.

* segmentation throughput over the 100k comments (characters per second), with
  one process and with both cores
* training the suggestion model on coder_a's build-set codings, and the latency
  of one suggestion
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any


def measure(db: Path) -> list[tuple[str, float, str, str]]:
    from groundcode.analysis.suggest import SuggestModel
    from groundcode.analysis.words import Segmenter

    comments = db.parent / "comments.csv"
    with comments.open(encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    chars = sum(len(t) for t in texts)
    seg = Segmenter()
    seg.tokens("预热")  # load jieba's dictionary outside the timing
    out: list[tuple[str, float, str, str]] = []
    for workers in (1, 2):
        t0 = time.perf_counter()
        tokens = seg.tokens_many(texts, workers=workers)
        dt = time.perf_counter() - t0
        out.append(
            (
                f"segmentation, {workers} process(es), {chars / 1e6:.1f}M characters",
                chars / dt / 1000,
                "k chars/s",
                "-",
            )
        )
    # Suggestions: train on 5,000 coded comments (30 concepts of coder_a's), time one prediction.
    from groundcode.project import Project

    with Project.open(db, user="lead") as p:
        frame = p.coding.codings(coders=["coder_a"])
    frame = frame[frame["type"] == "selfmedia"]
    top = frame["concept"].value_counts().index[:30]
    frame = frame[frame["concept"].isin(top)]
    labels: dict[str, set[str]] = {}
    text_of: dict[str, str] = {}
    for doc, concept, text in zip(frame["document"], frame["concept"], frame["text"], strict=True):
        labels.setdefault(doc, set()).add(concept)
        text_of[doc] = text
    docs = list(labels)[:5000]
    train_texts = [text_of[d] for d in docs]
    train_labels = [sorted(labels[d]) for d in docs]
    train_tokens = [seg.tokens(t) for t in train_texts]
    t0 = time.perf_counter()
    model: Any = SuggestModel.train(train_texts, train_labels, tokens=train_tokens)
    out.append(
        (
            f"train suggestions ({len(docs):,} passages, {len(model.concepts)} concepts)",
            time.perf_counter() - t0,
            "s",
            "-",
        )
    )
    sample = texts[-200:]
    t0 = time.perf_counter()
    for t in sample:
        model.predict([t], top=3)
    out.append(
        (
            "one suggestion (tokenising included)",
            (time.perf_counter() - t0) / len(sample),
            "s",
            "<= 0.05 s",
        )
    )
    del tokens
    return out


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data" / "bench.db"
    for name, value, unit, budget in measure(target):
        print(f"{name}: {value:.3f} {unit} (budget {budget})")
