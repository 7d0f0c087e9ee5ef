"""Fixtures and a table dump that pin what a ``.qdpx`` import stores, row for row.

The streaming import must store exactly what the former read-everything-first
import stored: the same rows with the same ids, in every table. The expected
digests in ``tests/data/refi/import_golden.json`` were recorded with that
former import (``python -m tests.interchange.golden`` re-records them, which
is only right when a change of results is intended). One change was: the
reports of the foreign scenarios no longer warn, once per source, that a
source without coding-order facts has facts that do not fit; their tables are
as the former import stored them.

``foreign_qdpx`` writes a project the way another tool might, with the odd
parts the import has to handle on the way: users referenced but not defined, a
coding without a user, a coded folder, a code that is not defined, the same
coding twice, whole-document codings, CRLF text, notes on a source, a coding, a
code and the project, ignored sections, and a mix of sources with and without
groundcode's facts (numbers given and wanted, coding ranks, done marks).
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import groundcode.store.tables  # noqa: F401 - the tables the dump walks

DATA = Path(__file__).resolve().parents[1] / "data" / "refi"
GOLDEN = DATA / "import_golden.json"
DEMO_QDPX = DATA / "demo.qdpx"
NS = "urn:QDA-XML:project:1.0"
FIXED = (2024, 5, 1, 10, 30, 0)

U1 = "aaaaaaaa-0000-4000-8000-000000000001"
U2 = "aaaaaaaa-0000-4000-8000-000000000002"
U_UNDEFINED = "aaaaaaaa-0000-4000-8000-0000000000ff"
C_FOLDER = "cccccccc-0000-4000-8000-000000000001"
C_A = "cccccccc-0000-4000-8000-000000000002"
C_B = "cccccccc-0000-4000-8000-000000000003"
C_SAME_NAME = "cccccccc-0000-4000-8000-000000000004"
C_UNDEFINED = "cccccccc-0000-4000-8000-0000000000ff"
V_NUMBER = "dddddddd-0000-4000-8000-000000000001"
V_CODINGS = "dddddddd-0000-4000-8000-000000000002"
V_DONE = "dddddddd-0000-4000-8000-000000000003"
V_OTHER = "dddddddd-0000-4000-8000-000000000004"
N_SOURCE = "eeeeeeee-0000-4000-8000-000000000001"
N_CODING = "eeeeeeee-0000-4000-8000-000000000002"
N_CODE = "eeeeeeee-0000-4000-8000-000000000003"
N_PROJECT = "eeeeeeee-0000-4000-8000-000000000004"
N_LOOSE = "eeeeeeee-0000-4000-8000-000000000005"

TEXTS = [
    "我们村里的年轻人大多外出打工了。\r\n留下来的主要是老人和孩子。",
    "政府的补贴帮了大忙。土地流转以后，收入反而提高了。",
    "健康码数据共享。行程码互认。",
    "𠮷野家的老板说：生意越来越难做。",
    "第五篇：没有编码的文本。",
    "第六篇：有编号的来源。村里的路修好了。",
]


def _sel(
    i: int, j: int, start: int, end: int, codes: list[tuple[str, str]], extra: str = ""
) -> str:
    codings = "".join(
        f'<Coding guid="c{j:07d}-0000-4000-8000-{i:012d}"'
        + (f' creatingUser="{user}"' if user else "")
        + f' creationDateTime="2024-05-0{1 + j % 8}T10:0{j % 10}:00Z">'
        f'<CodeRef targetGUID="{code}"/>'
        + (f'<NoteRef targetGUID="{N_CODING}"/>' if (i, j) == (1, 1) else "")
        + "</Coding>"
        for code, user in codes
    )
    return (
        f'<PlainTextSelection guid="5e{j:06d}-0000-4000-8000-{i:012d}" '
        f'startPosition="{start}" endPosition="{end}" creatingUser="{U1}">{extra}{codings}'
        "</PlainTextSelection>"
    )


def _values(pairs: list[tuple[str, str, str]]) -> str:
    return "".join(
        f'<VariableValue><VariableRef targetGUID="{v}"/><{kind}>{value}</{kind}></VariableValue>'
        for v, kind, value in pairs
    )


def foreign_qde() -> bytes:
    """The project.qde of :func:`foreign_qdpx` (see the module notes)."""
    s = []
    # 1: CRLF text, a memo on a selection, the same coding twice, a note on the source
    s.append(
        f'<TextSource guid="50000000-0000-4000-8000-000000000001" name="访谈一">'
        f"<PlainTextContent>{TEXTS[0]}</PlainTextContent>"
        + _sel(1, 1, 10, 14, [(C_A, U1), (C_B, U2)], "<Description>打工的备忘</Description>")
        + _sel(1, 2, 10, 14, [(C_A, U1)])
        + _sel(1, 3, 18, 24, [(C_FOLDER, U1), (C_UNDEFINED, U1), (C_SAME_NAME, U_UNDEFINED)])
        + _sel(1, 4, 5, 400, [(C_A, U1)])
        + f'<NoteRef targetGUID="{N_SOURCE}"/></TextSource>'
    )
    # 2: no number, coding ranks that put it after source 6; a coding without a user
    s.append(
        '<TextSource guid="50000000-0000-4000-8000-000000000002" name="访谈二" '
        'plainTextPath="internal://two.txt">'
        + _sel(2, 1, 0, 4, [(C_A, U1)])
        + _sel(2, 2, 10, 14, [(C_B, "")])
        + _values([(V_CODINGS, "TextValue", "9:1714557600000000 7:1714557600000001:a")])
        + "</TextSource>"
    )
    # 3: whole-document codings, a number of a type that is not the import's, done marks
    s.append(
        '<TextSource guid="50000000-0000-4000-8000-000000000003" name="三" '
        'plainTextPath="three.txt">'
        '<Coding guid="cw000000-0000-4000-8000-000000000003">'
        f'<CodeRef targetGUID="{C_B}"/></Coding>'
        + _values(
            [
                (V_NUMBER, "TextValue", "9-1"),
                (V_DONE, "DateTimeValue", "2024-05-02T08:00:00.123456+00:00"),
                (V_OTHER, "TextValue", "其他"),
            ]
        )
        + "</TextSource>"
    )
    s.append('<PDFSource guid="50000000-0000-4000-8000-000000000009" name="扫描件" path="x.pdf"/>')
    # 4: astral characters, ranks listed for fewer selections than there are
    s.append(
        '<TextSource guid="50000000-0000-4000-8000-000000000004" name="四">'
        f"<PlainTextContent>{TEXTS[3]}</PlainTextContent>"
        + _sel(4, 1, 0, 3, [(C_A, U2)])
        + _sel(4, 2, 4, 6, [(C_B, U2)])
        + _values([(V_CODINGS, "TextValue", "3:1714557600000003")])
        + "</TextSource>"
    )
    # 5: no codings, a number that another source also asks for
    s.append(
        '<TextSource guid="50000000-0000-4000-8000-000000000005" name="五">'
        f"<PlainTextContent>{TEXTS[4]}</PlainTextContent>"
        + _values([(V_NUMBER, "TextValue", "1-7")])
        + "</TextSource>"
    )
    # 6: numbered late (the unnumbered ones before it are numbered after it), ranked first
    s.append(
        '<TextSource guid="50000000-0000-4000-8000-000000000006" name="六">'
        f"<PlainTextContent>{TEXTS[5]}</PlainTextContent>"
        + _sel(6, 1, 6, 10, [(C_A, U1), (C_B, U1)])
        + _values(
            [(V_NUMBER, "TextValue", "1-7"), (V_CODINGS, "TextValue", "0:1714557600000005 1:5")]
        )
        + "</TextSource>"
    )
    s.append(
        '<TextSource guid="50000000-0000-4000-8000-000000000007" name="七">'
        f"<PlainTextContent>{TEXTS[1]}</PlainTextContent>"
        + _values([(V_NUMBER, "TextValue", "1-3")])
        + "</TextSource>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Project xmlns="{NS}" name="外来项目" origin="other tool">'
        f'<Users><User guid="{U1}" name="王五"/><User guid="{U2}" name="赵六"/></Users>'
        "<CodeBook><Codes>"
        f'<Code guid="{C_FOLDER}" name="文件夹" isCodable="false">'
        f'<Code guid="{C_A}" name="外出务工" isCodable="true"><NoteRef targetGUID="{N_CODE}"/></Code>'
        f'<Code guid="{C_B}" name="政策支持" isCodable="true"><Description>补贴等</Description></Code>'
        "</Code>"
        f'<Code guid="{C_SAME_NAME}" name="外出务工" isCodable="true"/>'
        "</Codes></CodeBook>"
        "<Variables>"
        f'<Variable guid="{V_NUMBER}" name="groundcode: number" typeOfVariable="Text"/>'
        f'<Variable guid="{V_CODINGS}" name="groundcode: codings" typeOfVariable="Text"/>'
        f'<Variable guid="{V_DONE}" name="groundcode: done 王五" typeOfVariable="DateTime"/>'
        f'<Variable guid="{V_OTHER}" name="来源" typeOfVariable="Text"/>'
        "</Variables>"
        f"<Sources>{''.join(s)}</Sources>"
        "<Notes>"
        f'<Note guid="{N_SOURCE}" name="关于访谈一" creatingUser="{U2}">'
        "<PlainTextContent>来源的备忘</PlainTextContent></Note>"
        f'<Note guid="{N_CODING}" name="关于编码" creatingUser="{U_UNDEFINED}" '
        'creationDateTime="2024-05-03T09:00:00Z"><PlainTextContent>编码的备忘</PlainTextContent></Note>'
        f'<Note guid="{N_CODE}" name="关于代码" creatingUser="{U1}">'
        "<PlainTextContent>代码的备忘</PlainTextContent></Note>"
        f'<Note guid="{N_PROJECT}" name="项目" creatingUser="{U1}">'
        "<PlainTextContent>项目的备忘</PlainTextContent></Note>"
        f'<Note guid="{N_LOOSE}" name="无主" creatingUser="{U1}">'
        "<PlainTextContent>没有目标</PlainTextContent></Note>"
        "</Notes>"
        '<Sets><Set guid="f0000000-0000-4000-8000-000000000001" name="集合"/></Sets>'
        "<Description>外来项目的说明</Description>"
        f'<NoteRef targetGUID="{N_PROJECT}"/>'
        "</Project>"
    ).encode()


def foreign_qdpx(path: Path, qde: bytes | None = None) -> Path:
    """An archive with fixed member times, so its digest (the batch's file hash) is fixed."""
    members = {
        "project.qde": foreign_qde() if qde is None else qde,
        "sources/two.txt": TEXTS[1].encode(),
        "three.txt": TEXTS[2].encode(),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, FIXED), data)
    return path


def _value(value: Any, since: datetime) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return "NOW" if value.replace(tzinfo=None) >= since else value.isoformat()
    return value


def dump(db: Path, since: datetime) -> dict[str, list[Any]]:
    """Every table's row count and digest (rows by primary key; times made now read "NOW")."""
    engine = create_engine(f"sqlite:///{db}")
    out: dict[str, list[Any]] = {}
    try:
        with engine.connect() as conn:
            for table in sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name):
                names = {r[1] for r in conn.execute(text(f'PRAGMA table_info("{table.name}")'))}
                if not names:
                    continue
                keys = [c.name for c in table.primary_key.columns] or sorted(names)
                rows = conn.execute(
                    text(
                        f'SELECT * FROM "{table.name}" ORDER BY '
                        + ", ".join(f'"{k}"' for k in keys)
                    )
                ).all()
                canonical = json.dumps(
                    [[_value(v, since) for v in r] for r in rows],
                    ensure_ascii=False,
                    default=str,
                )
                out[table.name] = [len(rows), hashlib.sha256(canonical.encode()).hexdigest()]
    finally:
        engine.dispose()
    return out


def result_digest(result: Any) -> str:
    """The import's own report (counts, present, losses, warnings) as one digest."""
    data = result.to_json()
    data["file"] = Path(data["file"]).name
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def scenarios(tmp: Path) -> dict[str, Any]:
    """Each import the golden file pins: its table digests and its report's digest."""
    from groundcode.project import Project

    foreign = foreign_qdpx(tmp / "foreign.qdpx")
    demo = tmp / "demo.qdpx"
    demo.write_bytes(DEMO_QDPX.read_bytes())
    out: dict[str, Any] = {}
    since = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - the store keeps naive UTC

    def run(name: str, db: Path, archive: Path, user: str | None = None) -> None:
        with Project.create(db, user=user) as p:
            result = p.interchange.import_qdpx(archive)
        out[name] = {"tables": dump(db, since), "result": result_digest(result)}

    run("demo_fresh", tmp / "a.db", demo)
    run("demo_again", tmp / "a.db", demo, "chen")
    run("foreign_fresh", tmp / "b.db", foreign)
    run("foreign_into_demo", tmp / "a.db", foreign, "chen")
    return out


if __name__ == "__main__":  # re-record: python -m tests.interchange.golden
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        GOLDEN.write_text(
            json.dumps(scenarios(Path(d)), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    print(f"recorded {GOLDEN}", file=sys.stderr)
