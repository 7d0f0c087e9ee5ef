"""REFI-QDA writer: ``.qdpx`` projects and ``.qdc`` codebooks from plain data.

Follows the export rules in the shared REFI notes (what NVivo, ATLAS.ti,
MAXQDA, QualCoder and Taguette actually need beyond the schema): a zip with
exactly ``project.qde`` and flat ``sources/<guid>.txt``; UTF-8 without BOM,
LF-only texts; GUIDs derived with uuid5 from our own keys so repeated exports
agree; one ``PlainTextSelection`` holding one ``Coding`` per coding; folders
``isCodable="false"``; memos as ``Note`` elements attached by ``NoteRef``.

Everything is built in memory and validated first, then written to a temp
file next to the target and renamed, so a failure never leaves half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from groundcode.errors import UsageError
from groundcode.interchange.model import (
    NOTE_TARGET_KINDS,
    OffsetMap,
    QdaCode,
    QdaCoding,
    QdaNote,
    QdaProject,
    iter_codes,
    normalise_text,
)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

#: Fixed namespace for groundcode GUIDs; changing it would break the
#: "stable across exports" promise, so it is a constant, not configuration.
GROUNDCODE_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7f-9a10-3c5d7e9f1b2d")

#: Selection names longer than this are cut and end with an ellipsis.
NAME_PREFIX_CHARS = 30

_RGB = re.compile(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")
# Characters XML 1.0 cannot carry at all, not even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Fixed zip timestamp: identical input gives byte-identical archives.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

GUID_KINDS = ("user", "code", "source", "selection", "coding", "note")


def guid_for(kind: str, key: str) -> str:
    """The GUID the writer uses for one of our objects (lower-case 8-4-4-4-12).

    The kind is part of the name so a user and a code that share a key still
    get different GUIDs; GUIDs must be unique across the whole file.
    """
    if kind not in GUID_KINDS:
        raise ValueError(f"unknown GUID kind {kind!r}")
    return str(uuid.uuid5(GROUNDCODE_NAMESPACE, f"{kind}\x00{key}"))


def selection_name(selected: str) -> str:
    """Display name of a selection: the text, or its first 30 characters plus "…"."""
    if len(selected) <= NAME_PREFIX_CHARS:
        return selected
    return selected[:NAME_PREFIX_CHARS] + "…"


def format_datetime(value: datetime) -> str:
    """xsd:dateTime in UTC with a ``Z``, whole seconds.

    Naive datetimes are taken as UTC (how the store keeps them); fractions
    are dropped because some readers reject them.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_bmp(project: QdaProject) -> list[str]:
    """Name the sources with characters outside the BMP.

    Positions are code points (REFI-QDA §10.2) but NVivo-style readers count
    UTF-16 units, so every coding after such a character shifts there. The
    format cannot fix that; the user should know before sharing the file.
    """
    warnings: list[str] = []
    for source in project.sources:
        astral = [i for i, ch in enumerate(source.text) if ord(ch) > 0xFFFF]
        if astral:
            warnings.append(
                f"source {source.name!r}: {len(astral)} character(s) outside the BMP "
                f"(first at code point {astral[0]}); positions are code points, readers "
                "counting UTF-16 units (NVivo) will shift codings after them"
            )
    return warnings


def _xml_text(value: str) -> str:
    """Text XML 1.0 can carry: invalid characters become U+FFFD, newlines LF."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_INVALID.sub("\ufffd", value)


@dataclass
class _Export:
    """The validated, serialised export before anything touches the disk."""

    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _sub(parent: ET.Element, tag: str, ns: str = PROJECT_NS, **attrs: str) -> ET.Element:
    # Tags stay unqualified in the tree: the root's ``xmlns`` attribute puts the
    # whole document in the default namespace. (ElementTree's
    # ``default_namespace`` option rejects unqualified attributes in 3.11.)
    return ET.SubElement(parent, tag, attrs)


def _root(tag: str, ns: str, **attrs: str) -> ET.Element:
    return ET.Element(tag, {"xmlns": ns, **attrs})


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return XML_DECLARATION + body.encode("utf-8") + b"\n"


def _code_element(
    parent: ET.Element,
    code: QdaCode,
    ns: str,
    note_refs: dict[tuple[str, str], list[str]] | None,
    warnings: list[str],
) -> None:
    attrs = {
        "guid": guid_for("code", code.key),
        "name": _xml_text(code.name),
        "isCodable": "true" if code.codable else "false",
    }
    if code.color:
        if _RGB.fullmatch(code.color):
            attrs["color"] = code.color
        else:
            warnings.append(f"code {code.name!r}: colour {code.color!r} is not #RRGGBB; left out")
    element = _sub(parent, "Code", ns, **attrs)
    if code.description:
        _sub(element, "Description", ns).text = _xml_text(code.description)
    if note_refs is not None:
        for note_guid in note_refs.get(("code", code.key), []):
            _sub(element, "NoteRef", ns, targetGUID=note_guid)
    for child in code.children:
        _code_element(element, child, ns, note_refs, warnings)


def _check_unique(what: str, keys: list[str], fail: Callable[[str], UsageError]) -> None:
    duplicates = sorted(key for key, n in Counter(keys).items() if n > 1)
    if duplicates:
        raise fail(f"duplicate {what} key {duplicates[0]!r}")


def _build(project: QdaProject, label: str) -> _Export:
    """Validate the project and build project.qde plus the source files.

    ``label`` names the output in error messages (one line naming the file).
    """

    def fail(message: str) -> UsageError:
        return UsageError(f"{label}: {message}")

    warnings = check_bmp(project)
    all_codes = iter_codes(project.codes)
    codes_by_key = {code.key: code for code in all_codes}
    users = {user.key for user in project.users}
    sources = {source.key: source for source in project.sources}
    _check_unique("user", [u.key for u in project.users], fail)
    _check_unique("code", [c.key for c in all_codes], fail)
    _check_unique("source", [s.key for s in project.sources], fail)
    _check_unique("coding", [c.key for c in project.codings], fail)
    _check_unique("note", [n.key for n in project.notes], fail)
    name_counts = Counter(code.name for code in all_codes)
    for name, count in sorted(name_counts.items()):
        if count > 1:
            warnings.append(
                f"code name {name!r} is used {count} times; importers that key codes by "
                "name (QualCoder) may merge them"
            )

    # Normalised texts and offset maps, per source.
    texts: dict[str, str] = {}
    mappers: dict[str, OffsetMap] = {}
    for source in project.sources:
        text, mapper = normalise_text(source.text)
        texts[source.key] = text
        mappers[source.key] = mapper
        if mapper.changed or text != source.text:
            warnings.append(
                f"source {source.name!r}: line ends normalised to LF; positions remapped"
            )

    codings_by_source: dict[str, list[QdaCoding]] = {key: [] for key in sources}
    for coding in project.codings:
        where = f"coding {coding.key!r}"
        if coding.source_key not in sources:
            raise fail(f"{where} refers to unknown source {coding.source_key!r}")
        code = codes_by_key.get(coding.code_key)
        if code is None:
            raise fail(f"{where} refers to unknown code {coding.code_key!r}")
        if not code.codable:
            raise fail(f"{where} refers to folder {code.name!r}, which is not codable")
        if coding.user_key not in users:
            raise fail(f"{where} refers to unknown user {coding.user_key!r}")
        length = len(sources[coding.source_key].text)
        if not 0 <= coding.start < coding.end <= length:
            raise fail(
                f"{where} has positions {coding.start}-{coding.end} outside its source "
                f"(length {length}) or empty"
            )
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
            raise fail(f"note {note.key!r} refers to unknown user {note.user_key!r}")
        if note.target is None:
            continue
        kind, key = note.target
        if kind not in NOTE_TARGET_KINDS:
            raise fail(
                f"note {note.key!r} has target kind {kind!r}; expected one of "
                f"{', '.join(NOTE_TARGET_KINDS)}"
            )
        if kind == "project":
            key = ""
        if key not in known[kind]:
            raise fail(f"note {note.key!r} refers to unknown {kind} {key!r}")
        note_refs.setdefault((kind, key), []).append(guid_for("note", note.key))

    root = _root(
        "Project", PROJECT_NS, name=_xml_text(project.name), origin=_xml_text(project.origin)
    )
    if project.users:
        users_el = _sub(root, "Users")
        for user in project.users:
            _sub(users_el, "User", guid=guid_for("user", user.key), name=_xml_text(user.name))
    if project.codes:
        codes_el = _sub(_sub(root, "CodeBook"), "Codes")
        for code in project.codes:
            _code_element(codes_el, code, PROJECT_NS, note_refs, warnings)

    files: dict[str, bytes] = {}
    if project.sources:
        sources_el = _sub(root, "Sources")
        for source in project.sources:
            source_guid = guid_for("source", source.key)
            text = texts[source.key]
            mapper = mappers[source.key]
            files[f"sources/{source_guid}.txt"] = text.encode("utf-8")
            source_el = _sub(
                sources_el,
                "TextSource",
                guid=source_guid,
                name=_xml_text(source.name),
                plainTextPath=f"internal://{source_guid}.txt",
            )
            if source.description:
                _sub(source_el, "Description").text = _xml_text(source.description)
            for coding in codings_by_source[source.key]:
                start, end = mapper(coding.start), mapper(coding.end)
                if start >= end:
                    warnings.append(
                        f"coding {coding.key!r} in {source.name!r} covers only a line end; left out"
                    )
                    continue
                user_guid = guid_for("user", coding.user_key)
                attrs = {
                    "guid": guid_for("selection", coding.key),
                    "name": _xml_text(selection_name(text[start:end])),
                    "startPosition": str(start),
                    "endPosition": str(end),
                    "creatingUser": user_guid,
                }
                coding_attrs = {"guid": guid_for("coding", coding.key), "creatingUser": user_guid}
                if coding.created is not None:
                    attrs["creationDateTime"] = format_datetime(coding.created)
                    coding_attrs["creationDateTime"] = attrs["creationDateTime"]
                selection_el = _sub(source_el, "PlainTextSelection", **attrs)
                if coding.memo:
                    _sub(selection_el, "Description").text = _xml_text(coding.memo)
                coding_el = _sub(selection_el, "Coding", **coding_attrs)
                _sub(coding_el, "CodeRef", targetGUID=guid_for("code", coding.code_key))
                for note_guid in note_refs.get(("coding", coding.key), []):
                    _sub(selection_el, "NoteRef", targetGUID=note_guid)
            for note_guid in note_refs.get(("source", source.key), []):
                _sub(source_el, "NoteRef", targetGUID=note_guid)

    if project.notes:
        notes_el = _sub(root, "Notes")
        for note in project.notes:
            _note_element(notes_el, note)
    if project.description:
        _sub(root, "Description").text = _xml_text(project.description)
    for note_guid in note_refs.get(("project", ""), []):
        _sub(root, "NoteRef", targetGUID=note_guid)
    return _Export(xml=_serialise(root), files=files, warnings=warnings)


def _note_element(parent: ET.Element, note: QdaNote) -> None:
    attrs = {
        "guid": guid_for("note", note.key),
        "name": _xml_text(note.name),
        "creatingUser": guid_for("user", note.user_key),
    }
    if note.created is not None:
        attrs["creationDateTime"] = format_datetime(note.created)
    note_el = _sub(parent, "Note", **attrs)
    _sub(note_el, "PlainTextContent").text = _xml_text(note.text)


def build_project_xml(project: QdaProject) -> bytes:
    """The ``project.qde`` bytes the writer would put in the archive."""
    return _build(project, "project.qde").xml


def check_target(path: Path, *, force: bool) -> None:
    """Refuse to replace an existing file unless asked, before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, not a file")
    if path.exists() and not force:
        raise UsageError(f"{path} exists; use --force to overwrite")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{path.parent}: cannot create the folder ({exc.strerror or exc})"
        ) from exc


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temp file in the target directory, then rename over ``path``.

    A crash or an exception leaves either the old file or none, never a
    truncated archive that another tool might half-read.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"{path}: directory {directory} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _zip_member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def write_qdpx(project: QdaProject, path: Path) -> list[str]:
    """Write ``project`` as a REFI-QDA ``.qdpx`` archive; return warnings.

    Raises UsageError (naming ``path``) when the data cannot be exported
    faithfully (dangling references, positions outside a text, coded folders).
    """
    export = _build(project, str(path))

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w") as archive:
            _zip_member(archive, "project.qde", export.xml)
            for name, data in export.files.items():
                _zip_member(archive, name, data)

    _atomic_write(Path(path), write)
    return export.warnings


def build_codebook_xml(codes: list[QdaCode], *, origin: str, label: str = "codebook.qdc") -> bytes:
    """The ``.qdc`` bytes for a code tree (same GUIDs as in a project export)."""
    all_codes = iter_codes(codes)
    if not all_codes:
        raise UsageError(f"{label}: the codebook has no codes; REFI-QDA needs at least one")
    _check_unique("code", [c.key for c in all_codes], lambda m: UsageError(f"{label}: {m}"))
    root = _root("CodeBook", CODEBOOK_NS, origin=_xml_text(origin))
    codes_el = _sub(root, "Codes", CODEBOOK_NS)
    for code in codes:
        _code_element(codes_el, code, CODEBOOK_NS, None, [])
    return _serialise(root)


def write_qdc(codes: list[QdaCode], path: Path, *, origin: str) -> None:
    """Write a REFI-QDA codebook (``.qdc``) atomically."""
    data = build_codebook_xml(codes, origin=origin, label=str(path))

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    _atomic_write(Path(path), write)
