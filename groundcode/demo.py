"""The demo project: the sample corpus and codebook taken through the whole workflow.

``groundcode demo`` builds it from ``corpora/health-code/`` and
``codebooks/health-code.yaml`` exactly as a research team would: import,
screen, dedup, split; the lead assigns every included document to both coders
(in a seeded random order, so queues mix source types); each coder codes the
build set and marks each document done in queue order; the lead records the
holdout start (``saturation begin``); the coders code and mark the holdout;
what they agree on is reconciled into the consensus. The lead settles the
holdout's disagreements (keeping both coders' codes), so the saturation test
has a verdict, and places the one uncategorised concept that brings (the
saturation screen then shows its placement history); the build set's
disagreements stay open so the agreement screen has work to show.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundcode.domain.errors import Refused

LEAD = "chen"
CODERS = ("lin", "zhou")
TYPE_FOLDERS = (("1-policy", 1), ("2-media", 2), ("3-academic", 3), ("4-selfmedia", 4))
ROW_FILES = {"4-selfmedia": ("comments.csv",)}
KEYWORDS = (
    "码",
    "疫",
    "核酸",
    "风险",
    "隔离",
    "扫",
    "行程",
    "隐私",
    "申诉",
    "密接",
    "防控",
    "卡口",
    "复工",
    "封控",
    "健康",
    "病",
    "传染",
    "流调",
    "报备",
    "体温",
    "证明",
    "场所",
    "康复",
    "感染",
    "跨省",
    "核查",
    "返乡",
    "加密",
    "销毁",
    "采集",
    "平台",
    "部门",
    "个人信息",
    "授权",
    "接口",
    "互认",
    "弹窗",
    "监管",
    "上报",
    "纠正",
    "网格",
    "阳",
    "泄露",
    "聚集",
)
DEMO_NAME = "健康码信息资源共享机制（示例项目）"
# The demo's split seed: under it every document that mentions 药品购买经历 falls in the
# 30% holdout, so the saturation screen shows a concept first met in the holdout and
# placed in an existing category (still saturated), as in the reference study.
DEMO_SEED = 29
# A concept one coder brought from the holdout without a category; the lead places it.
DEMO_PLACEMENTS = {"跨省通行受阻": "出行安全"}


@dataclass(frozen=True)
class DemoSummary:
    path: Path
    lead: str
    documents: int
    included: int
    codings: int
    consensus: int


def find_root(start: Path | None = None) -> Path:
    """The folder holding ``corpora/`` and ``codebooks/`` (the checkout, or the working directory)."""
    candidates = [start] if start else []
    candidates += [Path.cwd(), Path(__file__).resolve().parent.parent]
    for c in candidates:
        if (
            c
            and (c / "corpora" / "health-code").is_dir()
            and (c / "codebooks" / "health-code.yaml").is_file()
        ):
            return c
    raise Refused("demo_files_missing")


def _split_codings(src: Path, holdout: set[str], tmp: Path) -> tuple[Path, Path]:
    with src.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    di = [h.strip().lower() for h in header].index("document")
    build_path, hold_path = tmp / "build.csv", tmp / "holdout.csv"
    for path, keep in ((build_path, False), (hold_path, True)):
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(r for r in body if (r[di] in holdout) == keep)
    return build_path, hold_path


def _assign(lead: Any) -> None:
    """Every included document to both coders, in one seeded random order."""
    import numpy as np

    numbers = lead.corpus.documents(status="included")["number"].tolist()
    order = np.random.default_rng(DEMO_SEED).permutation(len(numbers))
    lead.progress.assign(list(CODERS), documents=[numbers[i] for i in order])


def _work_queues(lead: Any) -> None:
    """Each coder marks what their queue holds done, one document at a time, in turn."""
    queues = {c: lead.progress.queue(c)["number"].tolist() for c in CODERS}
    for i in range(max(len(q) for q in queues.values())):
        for c in CODERS:
            if i < len(queues[c]):
                lead.as_user(c).progress.done([queues[c][i]])


def build_demo(
    path: Path, *, root: Path | None = None, echo: Callable[[str], None] = lambda _m: None
) -> DemoSummary:
    from groundcode.project import Project

    base = find_root(root)
    corpus_dir = base / "corpora" / "health-code"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    echo(f"building the demo project in {path} ...")
    with Project.create(path, name=DEMO_NAME) as p:
        p.people.add_coder(LEAD, role="lead")
        lead = p.as_user(LEAD)
        for c in CODERS:
            lead.people.add_coder(c)
        lead.codebook.import_yaml(base / "codebooks" / "health-code.yaml")
        userdict = base / "codebooks" / "health-code.userdict.txt"
        if userdict.is_file():
            lead.analysis.set_user_dictionary(userdict)
        for folder, type_id in TYPE_FOLDERS:
            d = corpus_dir / folder
            if not d.is_dir():
                continue
            names = ROW_FILES.get(folder)
            files = (
                [d / n for n in names]
                if names
                else sorted(
                    f
                    for f in d.iterdir()
                    if f.suffix.lower() in (".txt", ".md", ".docx", ".html", ".pdf")
                )
            )
            report = lead.corpus.import_files(files, type=type_id)
            echo(f"  imported {report.documents} documents of type {type_id}")
        screened = lead.corpus.screen(keywords=KEYWORDS, min_chars=8)
        echo(f"  screening excluded {sum(screened.excluded.values())}")
        dedup = lead.corpus.dedup(threshold=0.8)
        echo(f"  dedup excluded {dedup.excluded} reposts")
        lead.corpus.split(seed=DEMO_SEED)
        holdout = set(lead.corpus.documents(split="holdout")["number"])
        _assign(lead)
        codings_file = corpus_dir / "codings-demo.csv"
        total = 0
        consensus = 0
        with tempfile.TemporaryDirectory() as tmp:
            if codings_file.is_file():
                build_csv, hold_csv = _split_codings(codings_file, holdout, Path(tmp))
                total += lead.coding.import_csv(build_csv).codings
            _work_queues(lead)
            # Holdout coding starts once the build set is coded and the categories are settled.
            lead.progress.begin_holdout()
            if codings_file.is_file():
                total += lead.coding.import_csv(hold_csv).codings
            _work_queues(lead)
        echo(f"  imported {total} codings by {', '.join(CODERS)}; every document marked done")
        if total:
            rec = lead.analysis.reconcile(coders=list(CODERS))
            settled = 0
            for dis in rec.disagreements:
                if dis.document in holdout and dis.decided is None:
                    lead.analysis.decide(dis.document, dis.passage, "both", coders=list(CODERS))
                    settled += 1
            echo(
                f"  reconciled: {rec.copied} agreed codings in consensus; {settled} holdout "
                f"disagreements settled, {len(rec.disagreements) - settled} left for the lead"
            )
            consensus = rec.copied
            # The lead places the concepts the holdout brought, as the test requires.
            for concept, category in DEMO_PLACEMENTS.items():
                if concept in set(lead.codebook.concepts_frame()["concept"]):
                    lead.codebook.move("concept", concept, category)
                    echo(f"  placed the holdout's new concept {concept} in {category}")
        funnel = lead.corpus.funnel()
        return DemoSummary(path, LEAD, funnel["documents"], funnel["included"], total, consensus)
