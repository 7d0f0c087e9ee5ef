"""REFI-QDA writer: ``.qdpx`` projects and ``.qdc`` codebooks from plain data.

Follows the export rules in the shared REFI notes (what NVivo, ATLAS.ti,
MAXQDA, QualCoder and Taguette actually need beyond the schema): a zip with
exactly ``project.qde`` and flat ``sources/<guid>.txt``; UTF-8 without BOM,
LF-only texts; GUIDs derived with uuid5 from our own keys so repeated exports
agree; one ``PlainTextSelection`` holding one ``Coding`` per coding; folders
``isCodable="false"``; memos as ``Note`` elements attached by ``NoteRef``.

The writer takes the sources as a stream of chunks (:func:`write_qdpx_stream`)
so a project of any size is written with memory for one chunk: the small
whole-project part (users, codebook, variables, cases, notes) is validated
first, each chunk's sources and codings as they arrive, and
``project.qde`` is streamed straight into its zip entry (no element tree)
while each normalised text goes to an unnamed spool file; the texts are zipped
after ``project.qde`` from the spool, so the archive keeps its layout. Keys
that must be unique across the file (sources, codings) are checked by a
64-bit digest of their GUID each, not by holding the keys. Any refusal, up
to the last chunk, happens before the temp file next to the target is renamed
over it, so a failure never leaves half a file. Variables carry values on
sources and cases (groundcode's own facts travel that way).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import uuid
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from groundcode.domain.errors import AlreadyExists, InvalidInput
from groundcode.domain.notice import Notice
from groundcode.interchange.errors import ArchiveRefused
from groundcode.interchange.model import (
    NOTE_TARGET_KINDS,
    VARIABLE_TYPES,
    OffsetMap,
    QdaCode,
    QdaCoding,
    QdaProject,
    QdaSource,
    QdaSourceEntry,
    QdaVariable,
    VariableValue,
    iter_codes,
    normalise_text,
)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

#: Fixed namespace for groundcode GUIDs; changing it would break the
#: "stable across exports" promise, so it is a constant, not configuration.
GROUNDCODE_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7f-9a10-3c5d7e9f1b2d")
_NAMESPACE_BYTES = GROUNDCODE_NAMESPACE.bytes

#: Selection names longer than this are cut and end with an ellipsis.
NAME_PREFIX_CHARS = 30

_RGB = re.compile(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")
# Characters XML 1.0 cannot carry at all, not even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Fixed zip timestamp: identical input gives byte-identical archives.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

GUID_KINDS = ("user", "code", "source", "selection", "coding", "note", "variable", "case")


def guid_for(kind: str, key: str) -> str:
    """The GUID the writer uses for one of our objects (lower-case 8-4-4-4-12).

    The kind is part of the name so a user and a code that share a key still
    get different GUIDs; GUIDs must be unique across the whole file.
    """
    if kind not in GUID_KINDS:
        raise ValueError(f"unknown GUID kind {kind!r}")
    # uuid.uuid5 without its object: the same bytes, a third of the cost, which
    # counts at two GUIDs per coding and 400,000 codings.
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{kind}\x00{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def selection_name(selected: str) -> str:
    """Display name of a selection: the text, or its first 30 characters plus "…"."""
    if len(selected) <= NAME_PREFIX_CHARS:
        return selected
    return selected[:NAME_PREFIX_CHARS] + "…"


def format_datetime(value: datetime, *, fraction: bool = False) -> str:
    """xsd:dateTime in UTC with a ``Z``, whole seconds unless ``fraction``.

    Naive datetimes are taken as UTC (how the store keeps them); fractions
    are dropped from the standard attributes because some readers reject them,
    and kept (microseconds) in groundcode's own variables, which need them.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    if fraction and value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def check_bmp(project: QdaProject) -> list[str]:
    """Name the sources with characters outside the BMP.

    Positions are code points (REFI-QDA §10.2) but NVivo-style readers count
    UTF-16 units, so every coding after such a character shifts there. The
    format cannot fix that; the user should know before sharing the file.
    """
    return [w for w in map(_astral_notice, project.sources) if w is not None]


def _astral_notice(source: QdaSource) -> str | None:
    """The BMP warning for one source, or None (one regex scan in C, no loop per character)."""
    first = _ASTRAL.search(source.text)
    if first is None:
        return None
    count = len(_ASTRAL.findall(source.text))
    return Notice("notice.astral", name=repr(source.name), n=count, first=first.start())


def _xml_text(value: str) -> str:
    """Text XML 1.0 can carry: invalid characters become U+FFFD, newlines LF."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _XML_INVALID.search(value) is None:
        return value
    return _XML_INVALID.sub("\ufffd", value)


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
)


def _t(value: str) -> str:
    """Element text, XML-safe and escaped (one C-level translate per value)."""
    return _xml_text(value).translate(_TEXT_ESCAPES)


def _a(value: str) -> str:
    """An attribute value, XML-safe and escaped, without the quotes."""
    return _xml_text(value).translate(_ATTR_ESCAPES)


def _attrs(pairs: dict[str, str]) -> str:
    return "".join(f' {k}="{_a(v)}"' for k, v in pairs.items())


#: Characters that file systems or readers using a source name as a file name refuse.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_SAFE_NAME_MAX = 120


def safe_source_name(name: str, fallback: str) -> str:
    """A source name that readers may use as a file name (some do: a name holding
    ``http://`` broke one). Slashes, colons and the other characters Windows
    forbids become ``_``; blank names fall back; length is bounded."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip(" .")
    if not cleaned:
        cleaned = fallback
    return cleaned[:_SAFE_NAME_MAX]


class _Guids:
    """GUIDs per kind and key, computed once: a user or a code recurs on every coding."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, kind: str, key: str) -> str:
        found = self._cache.get((kind, key))
        if found is None:
            found = self._cache[(kind, key)] = guid_for(kind, key)
        return found


def _code_xml(
    out: list[str],
    code: QdaCode,
    note_refs: dict[tuple[str, str], list[str]] | None,
    warnings: list[str],
    depth: int,
) -> None:
    pad = "\n" + "  " * depth
    attrs = {
        "guid": guid_for("code", code.key),
        "name": code.name,
        "isCodable": "true" if code.codable else "false",
    }
    if code.color:
        if _RGB.fullmatch(code.color):
            attrs["color"] = code.color
        else:
            warnings.append(Notice("notice.colour", name=repr(code.name), colour=repr(code.color)))
    refs = note_refs.get(("code", code.key), []) if note_refs is not None else []
    if not (code.description or refs or code.children):
        out.append(f"{pad}<Code{_attrs(attrs)}/>")
        return
    out.append(f"{pad}<Code{_attrs(attrs)}>")
    inner = pad + "  "
    if code.description:
        out.append(f"{inner}<Description>{_t(code.description)}</Description>")
    for note_guid in refs:
        out.append(f'{inner}<NoteRef targetGUID="{note_guid}"/>')
    for child in code.children:
        _code_xml(out, child, note_refs, warnings, depth + 1)
    out.append(f"{pad}</Code>")


def _check_unique(what: str, keys: list[str], label: str) -> None:
    duplicates = sorted(key for key, n in Counter(keys).items() if n > 1)
    if duplicates:
        raise ArchiveRefused(label, 0, "duplicate_key", name=what, ref=repr(duplicates[0]))


def _digest(guid: str) -> int:
    """64 bits of a GUID (all of its first three groups), the key's stand-in when checking uniqueness."""
    return int(guid[:8] + guid[9:13] + guid[14:18], 16)


@dataclass
class _Head:
    """The validated whole-project part, and what the stream of sources adds to it.

    Warnings are kept in four lists so that, however the sources arrive, they
    come out in the one order: characters outside the BMP, reused code names,
    normalised line ends, then what writing found (colours, empty codings).
    """

    label: str
    codes: dict[str, QdaCode]
    users: set[str]
    variables: dict[str, QdaVariable]
    note_refs: dict[tuple[str, str], list[str]]
    #: Source and coding note targets not seen yet -> index of the first note naming them.
    pending: dict[tuple[str, str], int]
    notes: list[str]
    reused: list[str]
    astral: list[str] = field(default_factory=list)
    line_ends: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    #: GUID digests of every source and coding so far (8 bytes each, not the keys).
    source_digests: array[int] = field(default_factory=lambda: array("Q"))
    coding_digests: array[int] = field(default_factory=lambda: array("Q"))

    def fail(
        self, reason: str, name: str, ref: str = "", *, detail: str = "", limit: int = 0
    ) -> ArchiveRefused:
        return ArchiveRefused(self.label, 0, reason, detail, name=name, ref=ref, limit=limit)

    @property
    def warnings(self) -> list[str]:
        return self.astral + self.reused + self.line_ends + self.written

    def check_chunk(
        self, chunk: Sequence[QdaSourceEntry]
    ) -> list[tuple[QdaSource, Sequence[QdaCoding], str, OffsetMap]]:
        """Validate one chunk of sources with their codings; return each with its normalised text.

        Keys repeated within the chunk are named exactly; across chunks the
        GUID digests catch them when the stream ends (:meth:`finish`).
        """
        _check_unique("source", [source.key for source, _ in chunk], self.label)
        _check_unique("coding", [c.key for _, codings in chunk for c in codings], self.label)
        checked: list[tuple[QdaSource, Sequence[QdaCoding], str, OffsetMap]] = []
        for source, codings in chunk:
            notice = _astral_notice(source)
            if notice is not None:
                self.astral.append(notice)
            for key in source.values:
                if key not in self.variables:
                    raise self.fail("unknown_variable", repr(source.name), repr(key))
            length = len(source.text)
            for coding in codings:
                where = repr(coding.key)
                if coding.source_key != source.key:
                    raise self.fail("coding_unknown_source", where, repr(coding.source_key))
                code = self.codes.get(coding.code_key)
                if code is None:
                    raise self.fail("coding_unknown_code", where, repr(coding.code_key))
                if not code.codable:
                    raise self.fail("coding_folder", where, repr(code.name))
                if coding.user_key not in self.users:
                    raise self.fail("coding_unknown_user", where, repr(coding.user_key))
                if not 0 <= coding.start < coding.end <= length:
                    raise self.fail(
                        "coding_outside", where, detail=f"{coding.start}-{coding.end}", limit=length
                    )
                if self.pending:
                    self.pending.pop(("coding", coding.key), None)
            if self.pending:
                self.pending.pop(("source", source.key), None)
            text, mapper = normalise_text(source.text)
            if mapper.changed or text != source.text:
                self.line_ends.append(Notice("notice.source_line_ends", name=repr(source.name)))
            checked.append((source, codings, text, mapper))
        return checked

    def finish(self) -> None:
        """What only the whole stream can tell: repeated keys across chunks, notes on nothing."""
        for what, digests in (("source", self.source_digests), ("coding", self.coding_digests)):
            if len(digests) < 2:
                continue
            ordered = np.sort(np.frombuffer(digests, dtype=np.uint64))
            repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
            if repeated.size:
                ref = f"{int(ordered[repeated[0]]):016x}"
                raise ArchiveRefused(self.label, 0, "duplicate_key", name=what, ref=ref)
        if self.pending:
            (kind, key), index = min(self.pending.items(), key=lambda item: item[1])
            raise self.fail("note_unknown_target", repr(self.notes[index]), repr(key), detail=kind)


def _validate_head(project: QdaProject, label: str) -> _Head:
    """Check the whole-project part before anything is written; ``label`` names the output.

    The project's ``sources`` and ``codings`` are not looked at: they arrive
    as chunks, checked by :meth:`_Head.check_chunk`. Note targets among them
    are remembered and must be seen by the end of the stream.
    """

    def fail(reason: str, name: str, ref: str = "", *, detail: str = "") -> ArchiveRefused:
        return ArchiveRefused(label, 0, reason, detail, name=name, ref=ref)

    all_codes = iter_codes(project.codes)
    codes_by_key = {code.key: code for code in all_codes}
    users = {user.key for user in project.users}
    variables = {v.key: v for v in project.variables}
    _check_unique("user", [u.key for u in project.users], label)
    _check_unique("code", [c.key for c in all_codes], label)
    _check_unique("note", [n.key for n in project.notes], label)
    _check_unique("variable", [v.key for v in project.variables], label)
    for v in project.variables:
        if v.type not in VARIABLE_TYPES:
            raise fail("variable_type", repr(v.name), repr(v.type))
    for case in project.cases:
        for key in case.values:
            if key not in variables:
                raise fail("unknown_variable", repr(case.name), repr(key))
    reused: list[str] = []
    name_counts = Counter(code.name for code in all_codes)
    for name, count in sorted(name_counts.items()):
        if count > 1:
            reused.append(Notice("notice.code_name_reused", name=repr(name), n=count))

    note_refs: dict[tuple[str, str], list[str]] = {}
    pending: dict[tuple[str, str], int] = {}
    for index, note in enumerate(project.notes):
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
        elif kind == "code":
            if key not in codes_by_key:
                raise fail("note_unknown_target", repr(note.key), repr(key), detail=kind)
        else:
            pending.setdefault((kind, key), index)
        note_refs.setdefault((kind, key), []).append(guid_for("note", note.key))
    return _Head(
        label,
        codes_by_key,
        users,
        variables,
        note_refs,
        pending,
        [note.key for note in project.notes],
        reused,
    )


def _in_memory_entries(project: QdaProject, label: str) -> list[QdaSourceEntry]:
    """A project held whole as one chunk: its codings grouped under their sources.

    With everything in hand, repeated keys are named exactly here.
    """
    _check_unique("source", [s.key for s in project.sources], label)
    _check_unique("coding", [c.key for c in project.codings], label)
    by_source: dict[str, list[QdaCoding]] = {s.key: [] for s in project.sources}
    for coding in project.codings:
        bucket = by_source.get(coding.source_key)
        if bucket is None:
            raise ArchiveRefused(
                label,
                0,
                "coding_unknown_source",
                "",
                name=repr(coding.key),
                ref=repr(coding.source_key),
            )
        bucket.append(coding)
    return [(s, by_source[s.key]) for s in project.sources]


def _value_open(variable: QdaVariable, guid: str, pad: str) -> tuple[str, str]:
    """The fixed text around one variable's values (built once per variable)."""
    kind = variable.type
    return (
        f'{pad}<VariableValue>{pad}  <VariableRef targetGUID="{guid}"/>{pad}  <{kind}Value>',
        f"</{kind}Value>{pad}</VariableValue>",
    )


def _value_text(variable: QdaVariable, value: VariableValue) -> str:
    kind = variable.type
    if kind == "DateTime" and isinstance(value, datetime):
        shown = format_datetime(value, fraction=True)
    elif kind == "Date" and isinstance(value, datetime):
        shown = value.date().isoformat()
    elif kind == "Boolean":
        shown = "true" if value else "false"
    else:
        shown = str(value)
    return _t(shown)


def _value_xml(variable: QdaVariable, guid: str, value: VariableValue, pad: str) -> str:
    head, tail = _value_open(variable, guid, pad)
    return head + _value_text(variable, value) + tail


#: Characters written per chunk before it goes to the zip stream.
_FLUSH_CHARS = 1 << 20


def _write_project_xml(
    project: QdaProject,
    head: _Head,
    chunks: Iterable[Sequence[QdaSourceEntry]],
    write: Callable[[bytes], object],
    write_text: Callable[[str, bytes], object],
) -> None:
    """Stream ``project.qde`` to ``write`` in chunks: no tree, no full copy in memory.

    Each chunk of sources is validated as it arrives, then its elements are
    written and each normalised text handed to ``write_text`` (GUID, UTF-8
    bytes); the stream's end checks what needs all of it (:meth:`_Head.finish`)
    before the closing notes, so a refusal still comes before the rename.
    """
    guid = _Guids()
    out: list[str] = []
    size = 0

    def flush(force: bool = False) -> None:
        nonlocal size
        if out and (force or size >= _FLUSH_CHARS):
            write("".join(out).encode("utf-8"))
            out.clear()
            size = 0

    warnings = head.written
    note_refs = head.note_refs
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
    source_digests, coding_digests = head.source_digests, head.coding_digests
    opened = False
    for chunk in chunks:
        for source, codings, text, mapper in head.check_chunk(chunk):
            if not opened:
                out.append("\n  <Sources>")
                opened = True
            source_guid = guid("source", source.key)
            source_digests.append(_digest(source_guid))
            out.append(
                f'\n    <TextSource guid="{source_guid}"'
                + _attrs({"name": source.name})
                + f' plainTextPath="internal://{source_guid}.txt">'
            )
            if source.description:
                out.append(f"\n      <Description>{_t(source.description)}</Description>")
            for coding in codings:
                coding_guid = guid_for("coding", coding.key)
                coding_digests.append(_digest(coding_guid))
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
                    f'\n        <Coding guid="{coding_guid}"'
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
                        head.variables[key], guid("variable", key), "\n      "
                    )
                out.append(frame[0] + _value_text(head.variables[key], value) + frame[1])
            out.append("\n    </TextSource>")
            write_text(source_guid, text.encode("utf-8"))
            size += len(text) // 8 + 64 * len(codings) + 256
            flush()
    if opened:
        out.append("\n  </Sources>")
    head.finish()

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


def build_project_xml(project: QdaProject) -> bytes:
    """The ``project.qde`` bytes the writer would put in the archive."""
    head = _validate_head(project, "project.qde")
    buffer = io.BytesIO()
    chunks = [_in_memory_entries(project, "project.qde")]
    _write_project_xml(project, head, chunks, buffer.write, lambda _guid, _data: None)
    return buffer.getvalue()


def check_target(path: Path, *, force: bool) -> None:
    """Refuse to replace an existing file unless asked, before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise ArchiveRefused(str(path), 0, "is_a_folder")
    if path.exists() and not force:
        raise AlreadyExists(str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveRefused(
            str(path.parent), 0, "cannot_create_folder_cause", cause=str(exc.strerror or exc)
        ) from exc


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temp file in the target directory, then rename over ``path``.

    A crash or an exception leaves either the old file or none, never a
    truncated archive that another tool might half-read.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ArchiveRefused(str(path), 0, "directory_missing", str(directory))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        # The disk refused it (full, a size limit): one line naming the archive.
        tmp.unlink(missing_ok=True)
        raise InvalidInput(str(path), 0, "cannot_write", str(exc.strerror or exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_qdpx(project: QdaProject, path: Path) -> list[str]:
    """Write ``project`` as a REFI-QDA ``.qdpx`` archive; return warnings.

    Raises ArchiveRefused (naming ``path``) when the data cannot be exported
    faithfully (dangling references, positions outside a text, coded folders).
    The project is held whole here; :func:`write_qdpx_stream` takes the
    sources in chunks instead, and this is that with a single chunk.
    """
    label = str(path)
    return write_qdpx_stream(project, _lazy(lambda: _in_memory_entries(project, label)), path)


def _lazy(
    make: Callable[[], list[QdaSourceEntry]],
) -> Iterable[Sequence[QdaSourceEntry]]:
    """One chunk built only when the writer asks, after the head is validated."""
    yield make()


def write_qdpx_stream(
    project: QdaProject, chunks: Iterable[Sequence[QdaSourceEntry]], path: Path
) -> list[str]:
    """Write a ``.qdpx`` whose sources arrive in ``chunks``; return warnings.

    ``project`` is the whole-project part (users, codes, variables, cases,
    notes; its ``sources`` and ``codings`` are not read). Each chunk is a list
    of sources with their codings in file order, consumed once, so memory
    holds one chunk whatever the corpus. ``project.qde`` streams into its zip
    entry; the texts wait in an unnamed temporary file beside the target (the
    zip cannot take two entries at once) and follow it, giving the same
    archive as when everything was held.
    """
    path = Path(path)
    head = _validate_head(project, str(path))

    def write(tmp: Path) -> None:
        names = bytearray()
        lengths: array[int] = array("q")
        with (
            tempfile.TemporaryFile(dir=tmp.parent, prefix=f".{path.name}.texts.") as spool,
            zipfile.ZipFile(tmp, "w", allowZip64=True) as archive,
        ):

            def write_text(guid: str, data: bytes) -> None:
                names.extend(bytes.fromhex(guid.replace("-", "")))
                lengths.append(len(data))
                spool.write(data)

            with archive.open(_zip_info("project.qde"), "w", force_zip64=True) as stream:
                _write_project_xml(project, head, chunks, stream.write, write_text)
            spool.seek(0)
            for i, length in enumerate(lengths):
                name = f"sources/{uuid.UUID(bytes=bytes(names[16 * i : 16 * i + 16]))}.txt"
                archive.writestr(_zip_info(name), spool.read(length))

    _atomic_write(path, write)
    return head.warnings


def build_codebook_xml(codes: list[QdaCode], *, origin: str, label: str = "codebook.qdc") -> bytes:
    """The ``.qdc`` bytes for a code tree (same GUIDs as in a project export)."""
    all_codes = iter_codes(codes)
    if not all_codes:
        raise ArchiveRefused(label, 0, "codebook_no_codes_refi")
    _check_unique("code", [c.key for c in all_codes], label)
    out = [
        XML_DECLARATION.decode("ascii"),
        f'<CodeBook xmlns="{CODEBOOK_NS}"' + _attrs({"origin": origin}) + ">\n  <Codes>",
    ]
    for code in codes:
        _code_xml(out, code, None, [], 2)
    out.append("\n  </Codes>\n</CodeBook>\n")
    return "".join(out).encode("utf-8")


def write_qdc(codes: list[QdaCode], path: Path, *, origin: str) -> None:
    """Write a REFI-QDA codebook (``.qdc``) atomically."""
    data = build_codebook_xml(codes, origin=origin, label=str(path))

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    _atomic_write(Path(path), write)
