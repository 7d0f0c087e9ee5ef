"""A frozen copy of the ``.qdpx`` export as it was before it streamed (test-only).

The streaming export must write exactly what this one wrote: ``project.qde``
and every source text byte for byte, and the same warnings. This module is
the writer and the project builder of commit 2e68353, unchanged but for being
functions here, so the comparison in ``test_export_golden.py`` can run on any
project either backend holds. The helpers the rewrite left as they were (GUIDs,
escaping, names, variable values, the atomic write) are imported from the
writer rather than copied; what is here is what the rewrite replaced. It is
never imported by the library.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from groundcode.domain.notice import Notice
from groundcode.interchange import facts as F
from groundcode.interchange.errors import ArchiveRefused
from groundcode.interchange.model import (
    NOTE_TARGET_KINDS,
    VARIABLE_TYPES,
    OffsetMap,
    QdaCoding,
    QdaProject,
    QdaSource,
    QdaUser,
    VariableValue,
    iter_codes,
    normalise_text,
)
from groundcode.interchange.refi_write import (  # unchanged by the streaming rewrite
    _ASTRAL,
    _FLUSH_CHARS,
    PROJECT_NS,
    XML_DECLARATION,
    _a,
    _atomic_write,
    _attrs,
    _check_unique,
    _code_xml,
    _Guids,
    _t,
    _value_open,
    _value_text,
    _value_xml,
    _zip_info,
    format_datetime,
    guid_for,
    safe_source_name,
    selection_name,
)
from groundcode.interchange.service import (
    KEY_PREFIX,
    LEVEL_TABLES,
    ORIGIN,
    TRAVELLING_EVENTS,
    TRAVELLING_SETTINGS,
    InterchangeService,
    _concept_history,
    _ghost_nodes,
)
from groundcode.store.access import readable_coder_ids
from groundcode.store.edges import edge_of
from groundcode.store.settings import get_setting
from groundcode.store.tables import (
    Assignment,
    AuditLog,
    Coder,
    Coding,
    Document,
    DoneMark,
    Memo,
    ModelEdge,
    Passage,
    SourceType,
)


def check_bmp(project: QdaProject) -> list[str]:
    """Name the sources with characters outside the BMP.

    Positions are code points (REFI-QDA §10.2) but NVivo-style readers count
    UTF-16 units, so every coding after such a character shifts there. The
    format cannot fix that; the user should know before sharing the file.
    (One regex scan per text, in C: the check must not cost a Python loop per
    character on a corpus of millions.)
    """
    warnings: list[str] = []
    for source in project.sources:
        first = _ASTRAL.search(source.text)
        if first is not None:
            count = len(_ASTRAL.findall(source.text))
            warnings.append(
                Notice("notice.astral", name=repr(source.name), n=count, first=first.start())
            )
    return warnings


@dataclass
class _Plan:
    """What validation found: the normalised texts, offset maps and references."""

    warnings: list[str]
    texts: dict[str, str]
    mappers: dict[str, OffsetMap]
    codings_by_source: dict[str, list[QdaCoding]]
    note_refs: dict[tuple[str, str], list[str]]


def _validate(project: QdaProject, label: str) -> _Plan:
    """Check every reference before anything is written; ``label`` names the output."""

    def fail(
        reason: str, name: str, ref: str = "", *, detail: str = "", limit: int = 0
    ) -> ArchiveRefused:
        return ArchiveRefused(label, 0, reason, detail, name=name, ref=ref, limit=limit)

    warnings = check_bmp(project)
    all_codes = iter_codes(project.codes)
    codes_by_key = {code.key: code for code in all_codes}
    users = {user.key for user in project.users}
    sources = {source.key: source for source in project.sources}
    variables = {v.key: v for v in project.variables}
    _check_unique("user", [u.key for u in project.users], label)
    _check_unique("code", [c.key for c in all_codes], label)
    _check_unique("source", [s.key for s in project.sources], label)
    _check_unique("coding", [c.key for c in project.codings], label)
    _check_unique("note", [n.key for n in project.notes], label)
    _check_unique("variable", [v.key for v in project.variables], label)
    for v in project.variables:
        if v.type not in VARIABLE_TYPES:
            raise fail("variable_type", repr(v.name), repr(v.type))
    holders: list[tuple[str, dict[str, VariableValue]]] = [
        (h.name, h.values) for h in project.sources
    ] + [(c.name, c.values) for c in project.cases]
    for holder_name, values in holders:
        for key in values:
            if key not in variables:
                raise fail("unknown_variable", repr(holder_name), repr(key))
    name_counts = Counter(code.name for code in all_codes)
    for name, count in sorted(name_counts.items()):
        if count > 1:
            warnings.append(Notice("notice.code_name_reused", name=repr(name), n=count))

    texts: dict[str, str] = {}
    mappers: dict[str, OffsetMap] = {}
    for source in project.sources:
        text, mapper = normalise_text(source.text)
        texts[source.key] = text
        mappers[source.key] = mapper
        if mapper.changed or text != source.text:
            warnings.append(Notice("notice.source_line_ends", name=repr(source.name)))

    codings_by_source: dict[str, list[QdaCoding]] = {key: [] for key in sources}
    for coding in project.codings:
        where = repr(coding.key)
        if coding.source_key not in sources:
            raise fail("coding_unknown_source", where, repr(coding.source_key))
        code = codes_by_key.get(coding.code_key)
        if code is None:
            raise fail("coding_unknown_code", where, repr(coding.code_key))
        if not code.codable:
            raise fail("coding_folder", where, repr(code.name))
        if coding.user_key not in users:
            raise fail("coding_unknown_user", where, repr(coding.user_key))
        length = len(sources[coding.source_key].text)
        if not 0 <= coding.start < coding.end <= length:
            raise fail("coding_outside", where, detail=f"{coding.start}-{coding.end}", limit=length)
        codings_by_source[coding.source_key].append(coding)

    coding_keys = {coding.key for coding in project.codings}
    note_refs: dict[tuple[str, str], list[str]] = {}
    known = {
        "project": {""},
        "source": set(sources),
        "code": set(codes_by_key),
        "coding": coding_keys,
    }
    for note in project.notes:
        if note.user_key not in users:
            raise fail("note_unknown_user", repr(note.key), repr(note.user_key))
        if note.target is None:
            continue
        kind, key = note.target
        if kind not in NOTE_TARGET_KINDS:
            raise fail(
                "note_target_kind", repr(note.key), repr(kind), detail=", ".join(NOTE_TARGET_KINDS)
            )
        if kind == "project":
            key = ""
        if key not in known[kind]:
            raise fail("note_unknown_target", repr(note.key), repr(key), detail=kind)
        note_refs.setdefault((kind, key), []).append(guid_for("note", note.key))
    return _Plan(warnings, texts, mappers, codings_by_source, note_refs)


def _write_project_xml(project: QdaProject, plan: _Plan, write: Callable[[bytes], object]) -> None:
    """Stream ``project.qde`` to ``write`` in chunks: no tree, no full copy in memory."""
    guid = _Guids()
    out: list[str] = []
    size = 0

    def flush(force: bool = False) -> None:
        nonlocal size
        if out and (force or size >= _FLUSH_CHARS):
            write("".join(out).encode("utf-8"))
            out.clear()
            size = 0

    warnings = plan.warnings
    note_refs = plan.note_refs
    out.append(XML_DECLARATION.decode("ascii"))
    out.append(
        f'<Project xmlns="{PROJECT_NS}"'
        + _attrs({"name": project.name, "origin": project.origin})
        + ">"
    )
    if project.users:
        out.append("\n  <Users>")
        for user in project.users:
            out.append(
                f'\n    <User guid="{guid("user", user.key)}"' + _attrs({"name": user.name}) + "/>"
            )
        out.append("\n  </Users>")
    if project.codes:
        out.append("\n  <CodeBook>\n    <Codes>")
        for code in project.codes:
            _code_xml(out, code, note_refs, warnings, 3)
        out.append("\n    </Codes>\n  </CodeBook>")
    variables = {v.key: v for v in project.variables}
    if project.variables:
        out.append("\n  <Variables>")
        for v in project.variables:
            attrs = _attrs({"name": v.name, "typeOfVariable": v.type})
            if v.description:
                out.append(
                    f'\n    <Variable guid="{guid("variable", v.key)}"{attrs}>'
                    f"\n      <Description>{_t(v.description)}</Description>\n    </Variable>"
                )
            else:
                out.append(f'\n    <Variable guid="{guid("variable", v.key)}"{attrs}/>')
        out.append("\n  </Variables>")
    if project.cases:
        out.append("\n  <Cases>")
        for case in project.cases:
            out.append(f'\n    <Case guid="{guid("case", case.key)}"' + _attrs({"name": case.name}))
            if case.values:
                out.append(">")
                for key, value in case.values.items():
                    out.append(_value_xml(variables[key], guid("variable", key), value, "\n      "))
                out.append("\n    </Case>")
            else:
                out.append("/>")
        out.append("\n  </Cases>")
    flush()

    frames: dict[str, tuple[str, str]] = {}
    if project.sources:
        out.append("\n  <Sources>")
        for source in project.sources:
            source_guid = guid("source", source.key)
            text = plan.texts[source.key]
            mapper = plan.mappers[source.key]
            out.append(
                f'\n    <TextSource guid="{source_guid}"'
                + _attrs({"name": source.name})
                + f' plainTextPath="internal://{source_guid}.txt">'
            )
            if source.description:
                out.append(f"\n      <Description>{_t(source.description)}</Description>")
            for coding in plan.codings_by_source[source.key]:
                start, end = mapper(coding.start), mapper(coding.end)
                if start >= end:
                    warnings.append(
                        Notice(
                            "notice.coding_line_end", key=repr(coding.key), name=repr(source.name)
                        )
                    )
                    continue
                user_guid = guid("user", coding.user_key)
                when = (
                    f' creationDateTime="{format_datetime(coding.created)}"'
                    if coding.created is not None
                    else ""
                )
                out.append(
                    f'\n      <PlainTextSelection guid="{guid_for("selection", coding.key)}"'
                    f' name="{_a(selection_name(text[start:end]))}"'
                    f' startPosition="{start}" endPosition="{end}"'
                    f' creatingUser="{user_guid}"{when}>'
                )
                if coding.memo:
                    out.append(f"\n        <Description>{_t(coding.memo)}</Description>")
                out.append(
                    f'\n        <Coding guid="{guid_for("coding", coding.key)}"'
                    f' creatingUser="{user_guid}"{when}>'
                    f'\n          <CodeRef targetGUID="{guid("code", coding.code_key)}"/>'
                    "\n        </Coding>"
                )
                for note_guid in note_refs.get(("coding", coding.key), ()):
                    out.append(f'\n        <NoteRef targetGUID="{note_guid}"/>')
                out.append("\n      </PlainTextSelection>")
            for note_guid in note_refs.get(("source", source.key), ()):
                out.append(f'\n      <NoteRef targetGUID="{note_guid}"/>')
            for key, value in source.values.items():
                frame = frames.get(key)
                if frame is None:
                    frame = frames[key] = _value_open(
                        variables[key], guid("variable", key), "\n      "
                    )
                out.append(frame[0] + _value_text(variables[key], value) + frame[1])
            out.append("\n    </TextSource>")
            size += len(text) // 8 + 64 * len(plan.codings_by_source[source.key]) + 256
            flush()
        out.append("\n  </Sources>")

    if project.notes:
        out.append("\n  <Notes>")
        for note in project.notes:
            note_attrs = {
                "guid": guid("note", note.key),
                "name": note.name,
                "creatingUser": guid("user", note.user_key),
            }
            if note.created is not None:
                note_attrs["creationDateTime"] = format_datetime(note.created)
            out.append(
                f"\n    <Note{_attrs(note_attrs)}>"
                f"\n      <PlainTextContent>{_t(note.text)}</PlainTextContent>\n    </Note>"
            )
        out.append("\n  </Notes>")
    if project.description:
        out.append(f"\n  <Description>{_t(project.description)}</Description>")
    for note_guid in note_refs.get(("project", ""), ()):
        out.append(f'\n  <NoteRef targetGUID="{note_guid}"/>')
    out.append("\n</Project>\n")
    flush(force=True)


def write_qdpx(project: QdaProject, path: Path) -> list[str]:
    """Write ``project`` as a REFI-QDA ``.qdpx`` archive; return warnings.

    Raises ArchiveRefused (naming ``path``) when the data cannot be exported
    faithfully (dangling references, positions outside a text, coded folders).
    ``project.qde`` is streamed straight into its zip entry, then each text.
    """
    plan = _validate(project, str(path))

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            info = _zip_info("project.qde")
            with archive.open(info, "w", force_zip64=True) as stream:
                _write_project_xml(project, plan, stream.write)
            for source in project.sources:
                name = f"sources/{guid_for('source', source.key)}.txt"
                archive.writestr(_zip_info(name), plan.texts[source.key].encode("utf-8"))

    _atomic_write(Path(path), write)
    return plan.warnings


def build_project(self: InterchangeService, *, include_personal: bool = False) -> QdaProject:
    """Everything the export carries, read in one transaction (blind mode applied)."""
    tree = self.codebook.tree()
    variables = F.FactVariables()
    with self.ctx.db.read() as s:
        hidden = self._hidden_creators(s)
        name = get_setting(s, "name")
        visible = readable_coder_ids(s, self.ctx.actor)
        people = [
            c
            for c in s.execute(select(Coder).order_by(col(Coder.id))).scalars()
            if visible is None or c.id in visible
        ]
        coder_name = {int(c.id): c.name for c in people}
        users = [QdaUser(key=f"coder:{c.id}", name=c.name) for c in people]
        types = {
            t.id: t for t in s.execute(select(SourceType).order_by(col(SourceType.id))).scalars()
        }
        doc_q = select(
            col(Document.id),
            col(Document.number),
            col(Document.source_type_id),
            col(Document.title),
            col(Document.author),
            col(Document.date),
            col(Document.url),
            col(Document.views),
            col(Document.text),
            col(Document.content_hash),
            col(Document.status),
            col(Document.exclusion_kind),
            col(Document.exclusion_detail),
            col(Document.split),
        ).order_by(col(Document.source_type_id), col(Document.seq))
        if not include_personal:
            doc_q = doc_q.where(col(Document.personal).is_(False))
        docs = s.execute(doc_q).all()
        doc_ids = {int(d.id) for d in docs}
        spans: dict[int, list[tuple[int, int]]] = {}
        for did, a, b in s.execute(
            select(col(Passage.document_id), col(Passage.start), col(Passage.end)).order_by(
                col(Passage.document_id), col(Passage.idx)
            )
        ):
            spans.setdefault(int(did), []).append((int(a), int(b)))
        coding_q = select(
            col(Coding.id),
            col(Coding.coder_id),
            col(Coding.concept_id),
            col(Coding.document_id),
            col(Coding.start),
            col(Coding.end),
            col(Coding.created_at),
            col(Coding.assisted),
        ).order_by(col(Coding.created_at), col(Coding.id))
        # Plain tuples, never kept as result rows: 400k codings at the reference size.
        rows = [
            tuple(r)
            for r in s.execute(coding_q)
            if int(r[3]) in doc_ids and int(r[1]) in coder_name
        ]
        codes = self._qda_codes(tree, hidden, {int(r[2]) for r in rows})
        done: dict[int, dict[str, datetime]] = {}
        for coder_id, did, at in s.execute(
            select(col(DoneMark.coder_id), col(DoneMark.document_id), col(DoneMark.marked_at))
        ):
            if int(coder_id) in coder_name and int(did) in doc_ids:
                done.setdefault(int(did), {})[coder_name[int(coder_id)]] = at
        assigned: dict[int, dict[str, datetime]] = {}
        for coder_id, did, at in s.execute(
            select(
                col(Assignment.coder_id),
                col(Assignment.document_id),
                col(Assignment.assigned_at),
            )
        ):
            if int(coder_id) in coder_name and int(did) in doc_ids:
                assigned.setdefault(int(did), {})[coder_name[int(coder_id)]] = at
        names = set(coder_name.values())
        memos = [
            m for m in s.execute(select(Memo).order_by(col(Memo.id))).scalars() if m.author in names
        ]
        nodes: dict[str, dict[str, Any]] = {}
        for level, table in LEVEL_TABLES.items():
            extra = {"category": "number", "main_category": "number"}.get(level)
            if level == "concept" and hasattr(table, "definition_group"):
                extra = "definition_group"
            cols = [col(table.id), col(table.created_at)] + (
                [col(getattr(table, extra))] if extra else []
            )
            for row in s.execute(select(*cols)):
                key = guid_for("code", f"{KEY_PREFIX[level]}:{row[0]}")
                nodes[key] = {"level": level, "created": F.micros(row[1])}
                if len(row) > 2 and row[2]:
                    nodes[key]["group" if level == "concept" else "number"] = row[2]
        settings = {k: get_setting(s, k) for k in TRAVELLING_SETTINGS}
        events = [
            {
                "action": e.action,
                "at": F.micros(e.at),
                "actor": e.actor,
                "entity": e.entity,
                "after": e.after,
            }
            for e in s.execute(
                select(AuditLog)
                .where(col(AuditLog.action).in_(TRAVELLING_EVENTS), col(AuditLog.undone).is_(False))
                .order_by(col(AuditLog.id))
            ).scalars()
        ]
        edges = [
            list(edge_of(e).flat())
            for e in s.execute(
                select(ModelEdge).order_by(col(ModelEdge.position), col(ModelEdge.id))
            )
            .scalars()
            .all()
        ]
        roles = {c.name: c.role for c in people}
        history = _concept_history(s)
        ghosts = _ghost_nodes(s)

    coding_memo: dict[int, str] = {}
    for m in memos:
        if m.target_kind == "coding" and m.target_id is not None:
            coding_memo.setdefault(int(m.target_id), m.text)
    codings: list[QdaCoding] = []
    per_doc: dict[int, list[F.CodingFact]] = {}
    for rank, (cid, coder_id, concept_id, did, start, end, created, assisted) in enumerate(rows):
        codings.append(
            QdaCoding(
                key=f"coding:{cid}",
                source_key=f"document:{did}",
                start=int(start),
                end=int(end),
                code_key=f"concept:{concept_id}",
                user_key=f"coder:{coder_id}",
                created=created,
                memo=coding_memo.get(int(cid)),
            )
        )
        per_doc.setdefault(int(did), []).append(F.CodingFact(rank, created, bool(assisted)))
    del rows
    sources: list[QdaSource] = []
    for d in docs:
        stype = types.get(d.source_type_id)
        title = d.title.strip() if isinstance(d.title, str) else ""
        shown = f"{d.number} {title}" if title else str(d.number)
        values = variables.source_values(
            {
                "number": d.number,
                "type": int(d.source_type_id),
                "type_name": stype.name_zh if stype else None,
                "title": d.title,
                "author": d.author,
                "date": d.date,
                "url": d.url,
                "views": d.views,
                "split": d.split,
                "status": d.status,
                "exclusion_kind": d.exclusion_kind,
                "exclusion_detail": d.exclusion_detail,
                "content_hash": d.content_hash,
                "passages": F.encode_passages(spans.get(int(d.id), [])),
                "codings": F.encode_codings(per_doc.get(int(d.id), [])),
            },
            done.get(int(d.id), {}),
            assigned.get(int(d.id), {}),
        )
        sources.append(
            QdaSource(
                key=f"document:{d.id}",
                name=safe_source_name(shown, str(d.number)),
                text=d.text,
                description=(
                    f"{stype.name_zh if stype else d.source_type_id}; "
                    f"split: {d.split or '-'}; {d.status}"
                ),
                values=values,
            )
        )
    coder_key = {n: f"coder:{i}" for i, n in coder_name.items()}
    notes = InterchangeService._notes(memos, doc_ids, {c.key for c in iter_codes(codes)}, coder_key)
    holdout = settings.get("holdout_start") or settings.get("holdout_started_at") or ""
    try:
        holdout_start = datetime.fromisoformat(holdout) if holdout else None
    except ValueError:
        holdout_start = None
    case = variables.project_case(
        holdout_start,
        {
            "roles": roles,
            "settings": {k: v for k, v in settings.items() if v != ""},
            "nodes": nodes,
            "source_types": {str(t.id): [t.name_zh, t.name_en, t.slug] for t in types.values()},
            "events": events,
            "edges": edges,
            "concept_history": history,
            "ghosts": ghosts,
        },
    )
    return QdaProject(
        name=name,
        origin=ORIGIN,
        users=users,
        codes=codes,
        sources=sources,
        codings=codings,
        notes=notes,
        variables=variables.definitions(),
        cases=[case],
    )
