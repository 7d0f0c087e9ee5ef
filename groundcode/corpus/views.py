"""Plain, frozen results of the corpus service (never live ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict


@dataclass(frozen=True)
class SourceTypeView:
    id: int
    name_zh: str
    name_en: str
    slug: str


@dataclass(frozen=True)
class PassageView:
    id: int
    idx: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class DocumentView:
    id: int
    number: str
    type_id: int
    type_name: str
    title: str | None
    author: str | None
    date: str | None
    url: str | None
    views: int | None
    text: str
    status: str
    exclusion_kind: str | None
    exclusion_detail: str | None
    split: str | None
    personal: bool
    meta: dict[str, Any]
    passages: tuple[PassageView, ...]


@dataclass(frozen=True)
class FileImport:
    file: str
    status: str  # imported | already imported
    documents: int
    first: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class ImportReport:
    files: tuple[FileImport, ...]

    @property
    def documents(self) -> int:
        return sum(f.documents for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "files": [f.__dict__ for f in self.files],
        }


@dataclass(frozen=True)
class ScreenReport:
    checked: int
    excluded: dict[str, int]
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)  # type slug -> kind -> n

    def to_json(self) -> dict[str, Any]:
        return {"checked": self.checked, "excluded": dict(self.excluded)}


@dataclass(frozen=True)
class DuplicateGroupView:
    keep: str
    duplicates: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class DedupReport:
    groups: tuple[DuplicateGroupView, ...]
    excluded: int
    dry_run: bool
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "dry_run": self.dry_run,
            "excluded": self.excluded,
            "groups": [
                {
                    "keep": g.keep,
                    "duplicates": [
                        {"document": d, "similarity": round(s, 4)} for d, s in g.duplicates
                    ],
                }
                for g in self.groups
            ],
        }


@dataclass(frozen=True)
class SampleReport:
    type_name: str
    population: int
    sampled: tuple[str, ...]
    excluded: int
    strata: tuple[tuple[str, int, int], ...] = field(default_factory=tuple)  # (label, size, taken)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "population": self.population,
            "sampled": len(self.sampled),
            "excluded": self.excluded,
            "documents": list(self.sampled),
            "strata": [{"stratum": s, "size": n, "taken": k} for s, n, k in self.strata],
        }


@dataclass(frozen=True)
class SplitReport:
    seed: int
    holdout_ratio: float
    by_type: dict[str, dict[str, int]]
    changed: int
    coded_moving: int = 0  # coded documents that would change split (a dry run reports them)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "holdout": self.holdout_ratio,
            "by_type": self.by_type,
            "changed": self.changed,
        }


@dataclass(frozen=True)
class SearchHit:
    document: str
    passage: int
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    term: str
    total: int
    hits: tuple[SearchHit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "total": self.total,
            "hits": [h.__dict__ for h in self.hits],
        }


@dataclass(frozen=True)
class RedactReport:
    """What a redaction masked, and what it could not reach.

    ``replacements`` counts pattern matches in the documents (text, title,
    author, url, extra columns, file name); ``fields`` counts the rows
    changed per place (``document.text``, ``memo.text``, ``coding.snippet``,
    ``audit_log``...). ``compacted`` is None on a dry run, else whether the
    database's files were rewritten without the old text; ``copies`` names
    pre-upgrade copies of the project that still hold it; ``derived_files``
    is how many cache files (suggestion models) were removed.
    """

    documents: int
    replacements: dict[str, int]
    fields: dict[str, int] = field(default_factory=dict)
    compacted: bool | None = None
    copies: tuple[str, ...] = ()
    derived_files: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "replacements": dict(self.replacements),
            "fields": dict(self.fields),
            "compacted": self.compacted,
            "copies": list(self.copies),
            "derived_files": self.derived_files,
        }


@dataclass(frozen=True)
class DocumentRow:
    """One row of the documents list: the columns of ``CorpusService.documents()``."""

    id: int
    number: str
    type_id: int
    type: str
    type_zh: str
    title: str | None
    date: str | None
    views: int | None
    split: str | None
    status: str
    exclusion: str | None
    detail: str | None
    personal: bool
    passages: int


@dataclass(frozen=True)
class ExclusionView:
    """One excluded document: why, and who decided when (the latest exclude decision)."""

    number: str
    type: str
    title: str | None
    kind: str
    detail: str | None
    decided_by: str | None
    decided_at: str | None


class TypeFunnel(TypedDict):
    """One source type's row of the funnel."""

    documents: int
    included: int
    id: int
    name: str
    excluded: dict[str, int]
    build: int
    holdout: int


class Funnel(TypedDict):
    """SPEC §2 ``corpus --json``: imported -> excluded by kind -> included, by type and split."""

    documents: int
    included: int
    excluded: dict[str, int]
    by_type: dict[str, TypeFunnel]
    by_split: dict[str, int]
    unsplit: int
