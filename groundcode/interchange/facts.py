"""groundcode's own facts as REFI-QDA variables (SPEC §3).

A ``.qdpx`` carries sources, codes and codings; what makes a grounded-theory
project reproducible sits beside them: each document's number, source type,
split and screening status, the coders' done marks, the exact coding times and
their order, the passages, the holdout start. They travel as variables, which
NVivo, ATLAS.ti and MAXQDA show as document attributes, so the facts stay
readable there and a groundcode import reads them back:

* per source, one value per variable below (``groundcode: number`` ...), plus
  ``groundcode: done <coder>`` (DateTime) for every coder who marked it done;
* one case, ``groundcode project``, holding the holdout start (DateTime) and a
  JSON text with what has no REFI-QDA place: roles, settings, the level,
  number and creation time of each code, the source types, model edges and
  the audit events the verdicts read (``saturation.begin``).

Times in variables keep microseconds (the standard attributes hold whole
seconds); ``groundcode: codings`` lists, per selection in file order, its rank
in the project's coding order and its exact time, so ids and ties come back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from groundcode.interchange.model import QdaCase, QdaVariable, VariableValue

PREFIX = "groundcode: "
DONE_PREFIX = PREFIX + "done "
ASSIGNED_PREFIX = PREFIX + "assigned "
PROJECT_CASE = "groundcode project"
FORMAT = 1

#: (field, variable name, REFI type) of the per-source facts, in file order.
SOURCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("number", PREFIX + "number", "Text"),
    ("type", PREFIX + "type", "Integer"),
    ("type_name", PREFIX + "source type", "Text"),
    ("title", PREFIX + "title", "Text"),
    ("author", PREFIX + "author", "Text"),
    ("date", PREFIX + "date", "Text"),
    ("url", PREFIX + "url", "Text"),
    ("views", PREFIX + "views", "Integer"),
    ("split", PREFIX + "split", "Text"),
    ("status", PREFIX + "status", "Text"),
    ("exclusion_kind", PREFIX + "exclusion kind", "Text"),
    ("exclusion_detail", PREFIX + "exclusion detail", "Text"),
    ("content_hash", PREFIX + "content hash", "Text"),
    ("passages", PREFIX + "passages", "Text"),
    ("codings", PREFIX + "codings", "Text"),
)
HOLDOUT_START = PREFIX + "holdout start"
PROJECT_JSON = PREFIX + "project"


def variable_key(name: str) -> str:
    """Our key (and so the GUID seed) of a variable: its name."""
    return f"variable:{name}"


def micros(value: datetime) -> int:
    """Microseconds since the epoch, UTC (naive times are UTC, as the store keeps them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    from datetime import timedelta

    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class CodingFact:
    rank: int
    at: datetime
    assisted: bool = False


def encode_codings(facts: list[CodingFact]) -> str:
    """``rank:micros[:a]`` per selection, space-separated (compact at 400k codings)."""
    return " ".join(f"{f.rank}:{micros(f.at)}" + (":a" if f.assisted else "") for f in facts)


def decode_codings(text: str) -> list[CodingFact] | None:
    out: list[CodingFact] = []
    try:
        for token in text.split():
            parts = token.split(":")
            out.append(CodingFact(int(parts[0]), from_micros(int(parts[1])), parts[2:] == ["a"]))
    except (ValueError, IndexError, OverflowError):
        return None
    return out


def encode_passages(spans: list[tuple[int, int]]) -> str:
    return " ".join(f"{a}-{b}" for a, b in spans)


def decode_passages(text: str, length: int) -> list[tuple[int, int]] | None:
    """Passage spans if they are sound for a text of ``length``, else None (segment anew)."""
    spans: list[tuple[int, int]] = []
    last = 0
    try:
        for token in text.split():
            a_text, b_text = token.split("-")
            a, b = int(a_text), int(b_text)
            if not (last <= a <= b <= length):
                return None
            spans.append((a, b))
            last = b
    except ValueError:
        return None
    return spans or None


@dataclass
class SourceFacts:
    """What a source's variables say, by field name; ``done`` maps coder -> time."""

    values: dict[str, VariableValue] = field(default_factory=dict)
    done: dict[str, datetime] = field(default_factory=dict)
    assigned: dict[str, datetime] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if isinstance(value, bool | datetime) or value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None


class FactVariables:
    """The variable definitions an export uses, built as values are added."""

    def __init__(self) -> None:
        self._defs: dict[str, QdaVariable] = {}

    def define(self, name: str, kind: str) -> str:
        key = variable_key(name)
        if key not in self._defs:
            self._defs[key] = QdaVariable(key, name, kind)
        return key

    def source_values(
        self,
        facts: dict[str, Any],
        done: dict[str, datetime],
        assigned: dict[str, datetime] | None = None,
    ) -> dict[str, VariableValue]:
        values: dict[str, VariableValue] = {}
        for fld, name, kind in SOURCE_FIELDS:
            value = facts.get(fld)
            if value is None or value == "":
                continue
            values[self.define(name, kind)] = value
        for coder, at in sorted(done.items()):
            values[self.define(DONE_PREFIX + coder, "DateTime")] = at
        for coder, at in sorted((assigned or {}).items()):
            values[self.define(ASSIGNED_PREFIX + coder, "DateTime")] = at
        return values

    def project_case(self, holdout_start: datetime | None, data: dict[str, Any]) -> QdaCase:
        values: dict[str, VariableValue] = {}
        if holdout_start is not None:
            values[self.define(HOLDOUT_START, "DateTime")] = holdout_start
        values[self.define(PROJECT_JSON, "Text")] = json.dumps(
            {"format": FORMAT, **data}, ensure_ascii=False, sort_keys=True
        )
        return QdaCase(key="project", name=PROJECT_CASE, values=values)

    def definitions(self) -> list[QdaVariable]:
        return list(self._defs.values())


def read_source_facts(
    values: dict[str, VariableValue], variables: dict[str, QdaVariable]
) -> SourceFacts:
    """Decode a source's values (keyed by variable GUID) into groundcode facts."""
    by_name = {name: fld for fld, name, _kind in SOURCE_FIELDS}
    facts = SourceFacts()
    for guid, value in values.items():
        variable = variables.get(guid)
        if variable is None:
            continue
        if variable.name in by_name:
            facts.values[by_name[variable.name]] = value
        elif variable.name.startswith(DONE_PREFIX) and isinstance(value, datetime):
            facts.done[variable.name[len(DONE_PREFIX) :]] = value
        elif variable.name.startswith(ASSIGNED_PREFIX) and isinstance(value, datetime):
            facts.assigned[variable.name[len(ASSIGNED_PREFIX) :]] = value
    return facts


def read_project_facts(
    cases: list[QdaCase], variables: dict[str, QdaVariable]
) -> tuple[dict[str, Any], datetime | None]:
    """The JSON facts and holdout start of the ``groundcode project`` case, if any."""
    for case in cases:
        if case.name != PROJECT_CASE:
            continue
        data: dict[str, Any] = {}
        start: datetime | None = None
        for guid, value in case.values.items():
            variable = variables.get(guid)
            if variable is None:
                continue
            if variable.name == PROJECT_JSON and isinstance(value, str):
                try:
                    loaded = json.loads(value)
                except ValueError:
                    loaded = None
                if isinstance(loaded, dict) and loaded.get("format") == FORMAT:
                    data = loaded
            elif variable.name == HOLDOUT_START and isinstance(value, datetime):
                start = value
        return data, start
    return {}, None
