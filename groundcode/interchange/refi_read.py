"""REFI-QDA reader: ``.qdpx`` projects and ``.qdc`` codebooks into plain data.

The files come from other people's machines, so reading is defensive: the
archive must be a zip whose member names cannot escape a directory (zip-slip),
whose sizes and compression ratios are bounded (zip bombs), and whose XML has
no DTD or entities (billion laughs, external entities). Such files are
refused with one typed error (``ArchiveRefused``) naming the file. Nothing is ever
extracted to disk; members are read into memory under the size bound.

``project.qde`` is walked as a stream (:class:`QdpxStream`): each source is
given out as soon as it is read and then forgotten, so an importer can write
it before the next one is parsed; :func:`read_qdpx_content` collects the same
walk into one :class:`QdaProject` for callers that want plain data.

Content we cannot represent (PDF, picture, audio and video sources, rich-text
only sources, positions outside a text, codes referenced but not defined) is
skipped with a warning rather than failing the whole import, because a
partial project the user can inspect beats no project. Keys of the returned
objects are the GUIDs found in the file (lower-case, braces stripped).
"""

from __future__ import annotations

import io
import posixpath
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from defusedxml.ElementTree import iterparse as safe_iterparse

from groundcode.domain.errors import GroundcodeError
from groundcode.domain.notice import Notice
from groundcode.interchange.errors import ArchiveRefused
from groundcode.interchange.model import (
    QdaCase,
    QdaCode,
    QdaCoding,
    QdaNote,
    QdaProject,
    QdaSource,
    QdaUser,
    QdaVariable,
    VariableValue,
    iter_codes,
    normalise_text,
)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

DEFAULT_MAX_TOTAL_BYTES = 1024 * 1024 * 1024
#: Uncompressed/compressed ratio beyond which a large member is taken for a bomb.
MAX_RATIO = 100
#: Members smaller than this are never refused for their ratio (tiny files
#: of repeated characters compress extremely well and are harmless).
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_MEMBERS = 500_000

#: Key used when a selection names no user at all.
UNKNOWN_USER_KEY = "00000000-0000-0000-0000-000000000000"

_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024
#: XML fed to the parser at a time: every element of a piece exists before the first
#: is handled, so a small piece keeps that transient small (speed is the same).
_XML_PIECE = 64 * 1024
#: Variable values this short are interned (repeated across sources: split, status, type).
_INTERN_UP_TO = 24
_SKIPPED_KINDS = {
    "PDFSource": "PDF",
    "PictureSource": "picture",
    "AudioSource": "audio",
    "VideoSource": "video",
}
_IGNORED_SECTIONS = ("Links", "Sets", "Graphs")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _guid(value: str | None) -> str:
    """GUIDs compared as exact strings after dropping braces and case."""
    return (value or "").strip().strip("{}").lower()


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _parse_xml(data: bytes, label: str) -> ET.Element:
    """Parse untrusted XML: no DTD, no entities, no external references."""
    try:
        root: ET.Element = safe_fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except DefusedXmlException as exc:
        raise ArchiveRefused(label, 0, "unsafe_xml", type(exc).__name__) from None
    except ET.ParseError as exc:
        raise ArchiveRefused(label, 0, "malformed_xml", cause=_one_line(str(exc))) from None


def _unsafe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name:
        return True
    if name.startswith("/") or _DRIVE.match(name):
        return True
    return any(part == ".." for part in name.split("/"))


class _Archive:
    """A checked zip: safe names, bounded sizes; members read into memory."""

    def __init__(self, path: Path, max_total_bytes: int) -> None:
        self.path = path
        self.label = str(path)
        self.max_total_bytes = max_total_bytes
        self.read_total = 0
        if not path.is_file():
            raise ArchiveRefused(str(path), 0, "no_such_file")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveRefused(str(path), 0, "not_a_zip", cause=_one_line(str(exc))) from None
        try:
            self._check()
        except BaseException:
            self.zip.close()
            raise

    def _check(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ArchiveRefused(str(self.path), 0, "too_many_members", str(len(infos)))
        total = 0
        for info in infos:
            if _unsafe_name(info.filename):
                raise ArchiveRefused(
                    str(self.path), 0, "refused_unsafe_member", name=repr(info.filename)
                )
            if info.flag_bits & 0x1:
                raise ArchiveRefused(
                    str(self.path), 0, "member_encrypted", name=repr(info.filename)
                )
            total += info.file_size
            if total > self.max_total_bytes:
                raise ArchiveRefused(
                    str(self.path), 0, "archive_too_big", limit=self.max_total_bytes
                )
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise ArchiveRefused(
                    str(self.path), 0, "member_ratio", name=repr(info.filename), limit=MAX_RATIO
                )
        # The zip's own name index, not a copy: one entry per source text, so a copy
        # (and a case-folded one) grew with the corpus. The folded index is built
        # only when some name is not found exactly (never, for groundcode's exports).
        self.names = self.zip.NameToInfo
        self._folded: dict[str, str] | None = None

    def find(self, name: str) -> str | None:
        """The member called ``name``, exactly or else ignoring case."""
        info = self.names.get(name)
        if info is not None and not info.is_dir():
            return name
        if self._folded is None:
            self._folded = {n.lower(): n for n, i in self.names.items() if not i.is_dir()}
        return self._folded.get(name.lower())

    def read(self, name: str) -> bytes:
        """Read a member, never past its declared size nor the total bound."""
        info = self.names[name]
        limit = info.file_size
        parts: list[bytes] = []
        got = 0
        try:
            with self.zip.open(info) as handle:
                while True:
                    chunk = handle.read(_CHUNK)
                    if not chunk:
                        break
                    got += len(chunk)
                    self.read_total += len(chunk)
                    if got > limit or self.read_total > self.max_total_bytes:
                        raise ArchiveRefused(str(self.path), 0, "member_too_large", name=repr(name))
                    parts.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ArchiveRefused(
                str(self.path), 0, "member_unreadable", name=repr(name), cause=_one_line(str(exc))
            ) from None
        except Exception as exc:  # zlib.error and friends from a corrupt stream
            if isinstance(exc, GroundcodeError):
                raise
            raise ArchiveRefused(
                str(self.path), 0, "member_unreadable", name=repr(name), cause=_one_line(str(exc))
            ) from None
        return b"".join(parts)

    def open(self, name: str) -> _BoundedStream:
        """A member as a stream that refuses to yield more than declared (for iterparse)."""
        try:
            return _BoundedStream(self, name, self.zip.open(self.names[name]))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ArchiveRefused(
                str(self.path), 0, "member_unreadable", name=repr(name), cause=_one_line(str(exc))
            ) from None

    def close(self) -> None:
        self.zip.close()


class _BoundedStream:
    """A zip member read in chunks under the same bounds as :meth:`_Archive.read`."""

    def __init__(self, archive: _Archive, name: str, handle: IO[bytes]) -> None:
        self.archive = archive
        self.name_in_zip = name
        self.handle = handle
        self.limit = archive.names[name].file_size
        self.got = 0

    def read(self, size: int | None = -1) -> bytes:
        try:
            chunk = self.handle.read(_CHUNK if size is None or size < 0 else size)
        except GroundcodeError:
            raise
        except Exception as exc:  # zlib.error and friends from a corrupt stream
            raise ArchiveRefused(
                str(self.archive.path),
                0,
                "member_unreadable",
                name=repr(self.name_in_zip),
                cause=_one_line(str(exc)),
            ) from None
        self.got += len(chunk)
        self.archive.read_total += len(chunk)
        if self.got > self.limit or self.archive.read_total > self.archive.max_total_bytes:
            raise ArchiveRefused(
                str(self.archive.path), 0, "member_too_large", name=repr(self.name_in_zip)
            )
        return chunk

    def close(self) -> None:
        self.handle.close()


def _decode_text(data: bytes) -> str | None:
    """UTF-8 with or without BOM (UTF-16 only with a BOM); None when undecodable."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Loss:
    """One thing the import could not take. ``kind`` is a catalog id
    (``interchange.loss.<kind>``); ``name`` the source, code or note; ``detail``
    data shown verbatim (a path, a count)."""

    kind: str
    name: str
    detail: str = ""

    def word(self, lang: str = "en") -> str:
        """This loss as one line in zh or en (catalog ``interchange.loss.<kind>``)."""
        from groundcode.domain.wording import text

        return text(f"interchange.loss.{self.kind}", lang, name=self.name, detail=self.detail)


@dataclass(frozen=True)
class QdpxContent:
    """A read ``.qdpx``: the project, the warnings and the loss report."""

    project: QdaProject
    warnings: list[str]  # what was adjusted (the losses are apart)
    losses: list[Loss]
    loss_messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRead:
    """One source as the stream gives it: its text, its codings (in file order), and which
    of them (and whether the source itself) a note points at, so the importer keeps only
    those keys instead of every source's and coding's."""

    source: QdaSource
    codings: list[QdaCoding]
    noted_codings: frozenset[str] = frozenset()
    noted: bool = False


@dataclass
class QdpxTail:
    """What is known once the whole ``project.qde`` has been walked (all small)."""

    name: str
    origin: str
    users: list[QdaUser]
    codes: list[QdaCode]
    notes: list[QdaNote]
    description: str | None
    variables: list[QdaVariable]
    cases: list[QdaCase]
    warnings: list[str]
    losses: list[Loss]
    loss_messages: list[str]
    #: how many codings the sources gave (the importer ranks unordered ones after all)
    n_codings: int


class LateSection(Exception):
    """Variables or Cases came after the first source (the schema puts them before).

    The streaming importer needs them for every source, so it starts again with
    them read first (:func:`read_sections`); no QDA tool is known to write them late.
    """


@dataclass
class _State:
    """What the project walk collects: small things only (sources go out as they are read)."""

    ns: str
    archive: _Archive
    warnings: list[str] = field(default_factory=list)
    users: dict[str, QdaUser] = field(default_factory=dict)
    codes: dict[str, QdaCode] = field(default_factory=dict)
    # note guid -> (kind, key) of the annotated object
    note_targets: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: code keys that have codings (for the "folder is coded" warning)
    coded: set[str] = field(default_factory=set)
    n_codings: int = 0
    n_sources: int = 0
    #: Variables and Cases read by a first pass (see :class:`LateSection`), or None.
    preread: bool = False
    # targets set while the current source is read
    noted_now: set[str] = field(default_factory=set)
    undefined_codes: set[str] = field(default_factory=set)
    variables: dict[str, QdaVariable] = field(default_factory=dict)
    cases: list[QdaCase] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    loss_messages: list[str] = field(default_factory=list)

    def lose(self, kind: str, name: str, detail: str, message: Notice) -> None:
        """Something in the file that will not be imported: listed, never dropped silently."""
        self.losses.append(Loss(kind, name, detail))
        self.loss_messages.append(message)

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}" if self.ns else tag

    def note_ref(self, element: ET.Element, kind: str, key: str) -> None:
        for ref in element.findall(self.q("NoteRef")):
            target = _guid(ref.get("targetGUID"))
            if not target:
                continue
            if target in self.note_targets and self.note_targets[target] != (kind, key):
                self.warnings.append(Notice("notice.note_several_targets", note=target))
                continue
            self.note_targets[target] = (kind, key)
            if kind in ("source", "coding"):
                self.noted_now.add(kind if kind == "source" else "coding:" + key)

    def user(self, guid: str) -> str:
        """Key of the user ``guid``; unknown or missing users are added with a warning."""
        if not guid:
            if UNKNOWN_USER_KEY not in self.users:
                self.users[UNKNOWN_USER_KEY] = QdaUser(UNKNOWN_USER_KEY, "unknown")
                self.warnings.append(Notice("notice.no_user"))
            return UNKNOWN_USER_KEY
        if guid not in self.users:
            self.users[guid] = QdaUser(guid, guid)
            self.warnings.append(Notice("notice.user_undefined", user=guid))
        return guid


#: Codes nested deeper than this are refused: no QDA tool writes them, and a
#: hostile file 10,000 levels deep must be one clear line, not a crash.
MAX_CODE_DEPTH = 64


def _read_codes(
    parent: ET.Element | None,
    ns: str,
    warnings: list[str],
    seen: dict[str, QdaCode],
    depth: int = 1,
    label: str = "",
) -> list[QdaCode]:
    """The code tree under a ``Codes`` element (or a ``Code``), depth first."""
    if parent is None:
        return []
    if depth > MAX_CODE_DEPTH:
        raise ArchiveRefused(label, 0, "codes_too_deep", limit=MAX_CODE_DEPTH)
    tag = f"{{{ns}}}" if ns else ""
    out: list[QdaCode] = []
    for element in parent.findall(f"{tag}Code"):
        guid = _guid(element.get("guid"))
        name = element.get("name") or ""
        if not guid:
            warnings.append(Notice("notice.code_no_guid", name=repr(name)))
            continue
        if guid in seen:
            warnings.append(Notice("notice.code_twice", guid=guid, name=repr(name)))
            continue
        description_el = element.find(f"{tag}Description")
        description = description_el.text if description_el is not None else None
        children: list[QdaCode] = []
        code = QdaCode(
            key=guid,
            name=name,
            codable=(element.get("isCodable") or "true").strip() in ("true", "1"),
            description=description or None,
            color=element.get("color"),
            children=children,
        )
        seen[guid] = code
        children.extend(_read_codes(element, ns, warnings, seen, depth + 1, label))
        out.append(code)
    return out


def _candidates(path: str) -> tuple[list[str], bool]:
    """Archive members a text path may mean, and whether it points outside the archive.

    ``internal://x.txt`` is ``sources/x.txt``. Real tools also write a bare
    ``x.txt`` or ``sources/x.txt`` (no scheme), or a ``relative://``/
    ``absolute://``/file path whose file they nevertheless put in ``sources/``.
    """
    if path.startswith("internal://"):
        return ["sources/" + path[len("internal://") :]], False
    base = posixpath.basename(path.replace("\\", "/"))
    if "://" in path or path.startswith("/") or _DRIVE.match(path):
        return ["sources/" + base], True
    rel = path.replace("\\", "/").lstrip("./")
    return list(dict.fromkeys([rel, "sources/" + rel, "sources/" + base])), False


def _find_member(state: _State, path: str) -> tuple[str | None, bool]:
    names, outside = _candidates(path)
    for name in names:
        found = state.archive.find(name)
        if found is not None:
            return found, outside
    return None, outside


def _docx_text(state: _State, member: str) -> str | None:
    """The text of a ``.docx`` rich-text source inside the archive (read in memory)."""
    from groundcode.corpus.readers import _docx_lines
    from groundcode.corpus.safezip import check_zip
    from groundcode.corpus.text import normalise

    data = state.archive.read(member)
    try:
        check_zip(io.BytesIO(data), ".docx")
        import docx

        return normalise("\n".join(_docx_lines(docx.Document(io.BytesIO(data)))))
    except Exception:  # noqa: BLE001 - a damaged rich-text file is one loss, not a failed import
        return None


def _source_text(state: _State, element: ET.Element, name: str) -> str | None:
    """The plain text of a TextSource or Note, or None (with a loss) if unreadable.

    An empty plain-text file beside a rich-text source (NVivo 15 writes those)
    gives way to the rich text.
    """
    path = element.get("plainTextPath")
    content = element.find(state.q("PlainTextContent"))
    rich = element.get("richTextPath")
    text: str | None = None
    if path:
        member, outside = _find_member(state, path)
        if member is None:
            if not rich:
                kind = "outside" if outside else "missing"
                state.lose(kind, name, path, Notice(f"notice.loss.{kind}", name=name, path=path))
                return None
        else:
            if outside:
                state.warnings.append(
                    Notice("notice.path_outside", name=name, path=path, member=member)
                )
            text = _decode_text(state.archive.read(member))
            if text is None:
                state.lose(
                    "undecodable",
                    name,
                    member,
                    Notice("notice.loss.undecodable", name=name, member=member),
                )
                return None
    elif content is not None:
        text = content.text or ""
    if (text is None or not text.strip()) and rich:
        member, _outside = _find_member(state, rich)
        if member is None:
            if text is None:
                state.lose(
                    "missing",
                    name,
                    rich,
                    Notice("notice.loss.rich_missing", name=name, member=rich),
                )
                return None
            return text
        if not member.lower().endswith(".docx"):
            if text is None:
                state.lose(
                    "rich_text",
                    name,
                    member,
                    Notice("notice.loss.rich_not_docx", name=name, member=member),
                )
            return text
        rich_text = _docx_text(state, member)
        if rich_text is None:
            state.lose(
                "rich_text",
                name,
                member,
                Notice("notice.loss.rich_unreadable", name=name, member=member),
            )
            return None
        state.warnings.append(
            Notice(
                "notice.plain_text_empty" if text is not None else "notice.plain_text_missing",
                name=name,
                member=member,
            )
        )
        return rich_text
    return text


def _parse_value(kind: str, raw: str) -> VariableValue | None:
    raw = raw.strip()
    try:
        if kind == "IntegerValue":
            return int(raw)
        if kind == "FloatValue":
            return float(Decimal(raw))
        if kind == "BooleanValue":
            return raw in ("true", "1")
        if kind == "DateValue":
            return datetime.combine(date.fromisoformat(raw), datetime.min.time())
        if kind == "DateTimeValue":
            return datetime.fromisoformat(raw)
    except (ValueError, InvalidOperation):
        return None
    return raw


def _read_values(state: _State, element: ET.Element) -> dict[str, VariableValue]:
    """VariableValue children of a source or case, keyed by variable GUID."""
    values: dict[str, VariableValue] = {}
    for holder in element.findall(state.q("VariableValue")):
        ref = holder.find(state.q("VariableRef"))
        key = _guid(ref.get("targetGUID")) if ref is not None else ""
        if not key:
            continue
        for child in holder:
            tag = child.tag.rsplit("}", 1)[-1]
            if tag.endswith("Value"):
                value = _parse_value(tag, child.text or "")
                if value is not None:
                    # One string per variable GUID and per short repeated value (split,
                    # status, type): at 100k sources the copies cost ~150 MB.
                    if isinstance(value, str) and len(value) <= _INTERN_UP_TO:
                        value = sys.intern(value)
                    values[sys.intern(key)] = value
    return values


def _read_source(state: _State, element: ET.Element) -> SourceRead | None:
    state.noted_now = set()
    guid = _guid(element.get("guid"))
    name = element.get("name") or guid
    label = f"source {name!r}"
    raw = _source_text(state, element, label)
    if raw is None:
        if (
            not element.get("plainTextPath")
            and not element.get("richTextPath")
            and element.find(state.q("PlainTextContent")) is None
        ):
            state.lose("no_text", name, "", Notice("notice.loss.no_text", name=label))
        return None
    text, mapper = normalise_text(raw)
    if mapper.changed:
        state.warnings.append(Notice("notice.line_ends", name=label))
    description_el = element.find(state.q("Description"))
    source = QdaSource(
        key=guid,
        name=name,
        text=text,
        description=(description_el.text or None) if description_el is not None else None,
        values=_read_values(state, element),
    )
    codings: list[QdaCoding] = []
    state.note_ref(element, "source", guid)

    skipped = 0
    name_mismatch = 0
    for selection in element.findall(state.q("PlainTextSelection")):
        try:
            start = int(selection.get("startPosition", ""))
            end = int(selection.get("endPosition", ""))
        except ValueError:
            skipped += 1
            continue
        if not 0 <= start < end <= len(raw):
            skipped += 1
            continue
        start, end = mapper(start), mapper(end)
        if start >= end:
            skipped += 1
            continue
        shown = (selection.get("name") or "").removesuffix("…").removesuffix("...")
        if shown and not text[start:end].startswith(shown):
            name_mismatch += 1
        description_el = selection.find(state.q("Description"))
        memo = (description_el.text or None) if description_el is not None else None
        selection_user = _guid(selection.get("creatingUser"))
        selection_created = _parse_datetime(selection.get("creationDateTime"))
        first_key: str | None = None
        for coding in selection.findall(state.q("Coding")):
            key = _add_coding(
                state, codings, coding, guid, start, end, selection_user, selection_created, memo
            )
            if key is not None:
                first_key = first_key or key
        if first_key is not None:
            state.note_ref(selection, "coding", first_key)
    if skipped:
        state.lose(
            "selections",
            name,
            str(skipped),
            Notice("notice.loss.selections", name=label, n=skipped, length=len(raw)),
        )
    if name_mismatch:
        state.warnings.append(Notice("notice.selection_names", name=label, n=name_mismatch))
    whole = element.findall(state.q("Coding"))
    if whole and text:
        state.warnings.append(Notice("notice.whole_document", name=label, n=len(whole)))
        for coding in whole:
            _add_coding(state, codings, coding, guid, 0, len(text), "", None, None)
    state.n_sources += 1
    state.n_codings += len(codings)
    noted = "source" in state.noted_now
    state.noted_now.discard("source")
    return SourceRead(
        source,
        codings,
        frozenset(k[len("coding:") :] for k in state.noted_now),
        noted,
    )


def _add_coding(
    state: _State,
    out: list[QdaCoding],
    coding: ET.Element,
    source_key: str,
    start: int,
    end: int,
    selection_user: str,
    selection_created: datetime | None,
    memo: str | None,
) -> str | None:
    ref = coding.find(state.q("CodeRef"))
    code_key = _guid(ref.get("targetGUID")) if ref is not None else ""
    if code_key not in state.codes:
        state.undefined_codes.add(code_key or "(none)")
        return None
    key = _guid(coding.get("guid"))
    code_key = state.codes[code_key].key  # one shared string per code, not one per coding
    user_key = state.user(_guid(coding.get("creatingUser")) or selection_user)
    user_key = state.users[user_key].key
    created = _parse_datetime(coding.get("creationDateTime")) or selection_created
    state.coded.add(code_key)
    out.append(
        QdaCoding(
            key=key,
            source_key=source_key,
            start=start,
            end=end,
            code_key=code_key,
            user_key=user_key,
            created=created,
            memo=memo,
        )
    )
    state.note_ref(coding, "coding", key)
    return key


#: Markup that declares a DTD or entities; REFI-QDA files never need one.
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")


def _events(archive: _Archive, member: str, label: str) -> Iterator[tuple[str, ET.Element]]:
    """Start/end events of untrusted XML streamed from the archive: no DTD, no entities.

    UTF-8 input (what REFI-QDA requires) goes through the C parser, each chunk
    checked for a DTD or entity declaration before expat sees it, so nothing
    is ever declared and no entity can expand; anything else (UTF-16) goes
    through defusedxml's slower parser, which refuses the same things.
    """
    stream = archive.open(member)
    try:
        first = stream.read(_XML_PIECE)
        if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first[:64]:
            yield from _defused_events(_Prepended(first, stream), label)
            return
        parser: Any = ET.XMLPullParser(events=("start", "end"))
        chunk = first
        tail = b""
        while chunk:
            if _DECLARATION.search(tail + chunk):
                raise ArchiveRefused(label, 0, "unsafe_xml", "DTDForbidden")
            tail = chunk[-16:]
            try:
                parser.feed(chunk)
                yield from parser.read_events()
            except ET.ParseError as exc:
                raise ArchiveRefused(label, 0, "malformed_xml", cause=_one_line(str(exc))) from None
            chunk = stream.read(_XML_PIECE)
        try:
            parser.close()
            yield from parser.read_events()
        except ET.ParseError as exc:
            raise ArchiveRefused(label, 0, "malformed_xml", cause=_one_line(str(exc))) from None
    finally:
        stream.close()


class _Prepended:
    """A stream with its first chunk put back (read once to sniff the encoding)."""

    def __init__(self, first: bytes, stream: _BoundedStream) -> None:
        self.first = first
        self.stream = stream

    def read(self, size: int | None = -1) -> bytes:
        if self.first:
            out, self.first = self.first, b""
            return out
        return self.stream.read(size)


def _defused_events(source: Any, label: str) -> Iterator[tuple[str, ET.Element]]:
    events = safe_iterparse(
        source,
        events=("start", "end"),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    while True:
        try:
            yield next(events)
        except StopIteration:
            return
        except DefusedXmlException as exc:
            raise ArchiveRefused(label, 0, "unsafe_xml", type(exc).__name__) from None
        except ET.ParseError as exc:
            raise ArchiveRefused(label, 0, "malformed_xml", cause=_one_line(str(exc))) from None


#: Sections the streaming importer needs before the first source (the schema's order).
_SECTIONS_BEFORE_SOURCES = ("Variables", "Cases")


def _walk(
    archive: _Archive, preread: _State | None = None, seen: list[_State] | None = None
) -> Generator[SourceRead, None, QdpxTail]:
    """Walk ``project.qde`` as a stream, giving each source as soon as it is read.

    Only one ``TextSource`` subtree (with its selections) is in memory at a
    time, and nothing of it is kept once given out: memory holds the small
    sections (users, codebook, variables, cases, notes), not the corpus. The
    sections the schema puts before ``Sources`` are read before the first
    source; Variables or Cases after it raise :class:`LateSection` unless
    ``preread`` (a first pass, :func:`_read_sections`) already has them.
    The state is put in ``seen`` as soon as it exists, for the caller to read
    the sections before the sources.
    """
    member = archive.find("project.qde")
    if member is None:
        raise ArchiveRefused(str(archive.path), 0, "no_project_qde")
    label = f"{archive.path}: project.qde"
    state: _State | None = None
    root: ET.Element | None = None
    top_codes: list[QdaCode] = []
    notes_el: ET.Element | None = None
    description: str | None = None
    seen_sections: set[str] = set()
    stack: list[ET.Element] = []
    for event, element in _events(archive, member, label):
        if event == "start":
            if root is None:
                root = element
                ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
                if root.tag.rsplit("}", 1)[-1] != "Project":
                    raise ArchiveRefused(label, 0, "root_is_not", "Project")
                state = _State(ns=ns, archive=archive)
                if preread is not None:
                    state.variables, state.cases = preread.variables, preread.cases
                    state.preread = True
                if seen is not None:
                    seen.append(state)
                if ns != PROJECT_NS:
                    state.warnings.append(
                        Notice("notice.namespace", ns=repr(ns), expected=repr(PROJECT_NS))
                    )
            stack.append(element)
            continue
        stack.pop()
        assert state is not None and root is not None
        depth = len(stack)
        tag = element.tag.rsplit("}", 1)[-1]
        if depth == 2 and stack[1].tag.rsplit("}", 1)[-1] == "Sources":
            if tag == "TextSource":
                read = _read_source(state, element)
                element.clear()
                stack[1].remove(element)
                if read is not None:
                    yield read
                continue
            what = _SKIPPED_KINDS.get(tag, tag)
            name = element.get("name") or element.get("guid") or ""
            state.lose(
                "unsupported",
                name,
                what,
                Notice("notice.loss.unsupported", what=what, name=repr(name)),
            )
            element.clear()
            stack[1].remove(element)
            continue
        if depth != 1:
            continue
        seen_sections.add(tag)
        if tag in _SECTIONS_BEFORE_SOURCES and state.preread:
            pass  # read by the first pass
        elif tag in _SECTIONS_BEFORE_SOURCES and state.n_sources:
            raise LateSection(tag)
        elif tag == "Users":
            for user in element.findall(state.q("User")):
                guid = _guid(user.get("guid"))
                if guid and guid not in state.users:
                    state.users[guid] = QdaUser(guid, user.get("name") or user.get("id") or guid)
        elif tag == "CodeBook":
            codes_el = element.find(state.q("Codes"))
            top_codes = _read_codes(codes_el, state.ns, state.warnings, state.codes, label=label)
            for code_el in element.iter(state.q("Code")):
                state.note_ref(code_el, "code", _guid(code_el.get("guid")))
        elif tag in _SECTIONS_BEFORE_SOURCES:
            _read_section(state, element, tag)
        elif tag == "Notes":
            notes_el = element
            continue  # resolved after the walk, once every target is known
        elif tag == "Description":
            description = element.text or None
        elif tag == "NoteRef":
            target = _guid(element.get("targetGUID"))
            if target:
                state.note_targets.setdefault(target, ("project", ""))
        element.clear()
        root.remove(element)
    if state is None or root is None:
        raise ArchiveRefused(label, 0, "xml_no_root")
    if state.undefined_codes:
        codes = ", ".join(sorted(state.undefined_codes))
        state.lose(
            "undefined_codes",
            "",
            codes,
            Notice("notice.loss.undefined_codes", codes=codes),
        )
    for code in iter_codes(top_codes):
        if not code.codable and code.key in state.coded:
            state.warnings.append(Notice("notice.folder_coded", name=repr(code.name)))
    notes = _read_notes(state, notes_el)
    for section in _IGNORED_SECTIONS:
        if section in seen_sections:
            state.lose("section", section, "", Notice("notice.loss.section", section=section))
    return QdpxTail(
        name=root.get("name") or "",
        origin=root.get("origin") or "",
        users=list(state.users.values()),
        codes=top_codes,
        notes=notes,
        description=description,
        variables=list(state.variables.values()),
        cases=state.cases,
        warnings=state.warnings,
        losses=state.losses,
        loss_messages=state.loss_messages,
        n_codings=state.n_codings,
    )


def _read_section(state: _State, element: ET.Element, tag: str) -> None:
    """A Variables or Cases section into ``state``."""
    if tag == "Variables":
        for var in element.findall(state.q("Variable")):
            guid = _guid(var.get("guid"))
            if guid:
                desc = var.find(state.q("Description"))
                state.variables[guid] = QdaVariable(
                    guid,
                    var.get("name") or guid,
                    var.get("typeOfVariable") or "Text",
                    (desc.text or None) if desc is not None else None,
                )
    else:
        for case in element.findall(state.q("Case")):
            state.cases.append(
                QdaCase(
                    _guid(case.get("guid")),
                    case.get("name") or "",
                    _read_values(state, case),
                )
            )


def _read_sections(archive: _Archive) -> _State:
    """First pass for a file with Variables or Cases after its sources: only those two.

    Every other element is cleared as soon as it ends, so this pass holds no
    more than the two sections themselves.
    """
    member = archive.find("project.qde")
    if member is None:
        raise ArchiveRefused(str(archive.path), 0, "no_project_qde")
    label = f"{archive.path}: project.qde"
    state: _State | None = None
    stack: list[ET.Element] = []
    for event, element in _events(archive, member, label):
        if event == "start":
            if state is None:
                ns = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
                state = _State(ns=ns, archive=archive)
            stack.append(element)
            continue
        stack.pop()
        assert state is not None
        tag = element.tag.rsplit("}", 1)[-1]
        if len(stack) == 1:
            if tag in _SECTIONS_BEFORE_SOURCES:
                _read_section(state, element, tag)
        elif len(stack) != 2 or stack[1].tag.rsplit("}", 1)[-1] in _SECTIONS_BEFORE_SOURCES:
            continue
        element.clear()
        stack[-1].remove(element)
    if state is None:
        raise ArchiveRefused(label, 0, "xml_no_root")
    return state


class QdpxStream:
    """A ``.qdpx`` opened for streaming: :meth:`sources`, then :attr:`tail`.

    The archive is checked when opened (zip-slip, bombs: :class:`_Archive`); the
    XML as it streams. ``variables`` and ``project_cases`` hold the sections
    the schema puts before the sources, complete by the time the first source
    is given out.
    """

    def __init__(self, path: Path, *, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> None:
        self.archive = _Archive(Path(path), max_total_bytes)
        self._preread: _State | None = None
        self._seen: list[_State] = []
        self._tail: QdpxTail | None = None

    def __enter__(self) -> QdpxStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.archive.close()

    def read_sections_first(self) -> None:
        """Read Variables and Cases in a first pass (after a :class:`LateSection`)."""
        self._preread = _read_sections(self.archive)

    def sources(self) -> Iterator[SourceRead]:
        """Each readable text source in file order; afterwards :attr:`tail` is set."""
        self.archive.read_total = 0
        self._seen = []
        self._tail = yield from _walk(self.archive, self._preread, self._seen)

    @property
    def variables(self) -> dict[str, QdaVariable]:
        """The variables read so far, by GUID (all of them once a source has been given)."""
        return self._seen[0].variables if self._seen else {}

    @property
    def cases(self) -> list[QdaCase]:
        """The cases read so far (all of them once a source has been given)."""
        return self._seen[0].cases if self._seen else []

    @property
    def tail(self) -> QdpxTail:
        if self._tail is None:
            raise RuntimeError("the sources have not all been read")
        return self._tail


def _read_project(archive: _Archive) -> QdpxContent:
    """The whole project in memory (for callers that want the plain data, not the import)."""
    sources: list[QdaSource] = []
    codings: list[QdaCoding] = []
    walker = _walk(archive)
    while True:
        try:
            read = next(walker)
        except StopIteration as stop:
            tail: QdpxTail = stop.value
            break
        sources.append(read.source)
        codings.extend(read.codings)
    project = QdaProject(
        name=tail.name,
        origin=tail.origin,
        users=tail.users,
        codes=tail.codes,
        sources=sources,
        codings=codings,
        notes=tail.notes,
        description=tail.description,
        variables=tail.variables,
        cases=tail.cases,
    )
    return QdpxContent(project, tail.warnings, tail.losses, tail.loss_messages)


def _read_notes(state: _State, notes_el: ET.Element | None) -> list[QdaNote]:
    if notes_el is None:
        return []
    # A source or coding is a target only once read (``note_ref`` comes after it is
    # kept), so only codes can name something that is not there.
    present: dict[str, set[str] | None] = {
        "project": {""},
        "source": None,
        "code": set(state.codes),
        "coding": None,
    }
    notes: list[QdaNote] = []
    for element in notes_el.findall(state.q("Note")):
        guid = _guid(element.get("guid"))
        name = element.get("name") or ""
        text = _source_text(state, element, f"note {name or guid!r}")
        if text is None:
            continue
        text, _ = normalise_text(text)
        target = state.note_targets.get(guid)
        keys = present[target[0]] if target is not None else None
        if target is not None and keys is not None and target[1] not in keys:
            state.warnings.append(
                Notice("notice.note_target_skipped", name=repr(name or guid), target=target[0])
            )
            target = None
        notes.append(
            QdaNote(
                key=guid,
                name=name,
                text=text,
                user_key=state.user(_guid(element.get("creatingUser"))),
                created=_parse_datetime(element.get("creationDateTime")),
                target=target,
            )
        )
    return notes


def read_qdpx_content(path: Path, *, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> QdpxContent:
    """Read a REFI-QDA project archive safely: the project, warnings and losses."""
    archive = _Archive(Path(path), max_total_bytes)
    try:
        return _read_project(archive)
    finally:
        archive.close()


def read_qdpx(
    path: Path, *, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
) -> tuple[QdaProject, list[str]]:
    """Read a REFI-QDA project archive safely; return the project and warnings."""
    content = read_qdpx_content(path, max_total_bytes=max_total_bytes)
    return content.project, content.warnings + content.loss_messages


def read_qdc(path: Path, *, max_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> list[QdaCode]:
    """Read a REFI-QDA codebook (``.qdc``, plain XML) safely into a code tree."""
    path = Path(path)
    if not path.is_file():
        raise ArchiveRefused(str(path), 0, "no_such_file")
    if path.stat().st_size > max_bytes:
        raise ArchiveRefused(str(path), 0, "file_too_big", limit=max_bytes)
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        raise ArchiveRefused(str(path), 0, "qdc_is_zip")
    root = _parse_xml(data, str(path))
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if root.tag.rsplit("}", 1)[-1] != "CodeBook":
        raise ArchiveRefused(str(path), 0, "root_is_not", "CodeBook")
    tag = f"{{{ns}}}" if ns else ""
    codes = _read_codes(root.find(f"{tag}Codes"), ns, [], {}, label=str(path))
    if not codes:
        raise ArchiveRefused(str(path), 0, "codebook_no_codes")
    return codes
