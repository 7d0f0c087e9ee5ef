"""Project settings kept in the ``setting`` table, with their defaults."""

from __future__ import annotations

from sqlmodel import Session

from groundcode.store.tables import Setting

DEFAULTS: dict[str, str] = {
    "name": "groundcode project",
    "blind_mode": "auto",  # auto: on once a second coder exists; on; off
    "seed": "20210601",
    "holdout_ratio": "0.3",
    "core_category": "",
    "core_definition": "",
    "storyline": "",
    "holdout_start": "",  # ISO UTC time of `saturation begin`; empty: not started
}


def get_setting(session: Session, key: str) -> str:
    row = session.get(Setting, key)
    if row is None:
        return DEFAULTS.get(key, "")
    return row.value


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)
