"""What every new project starts with: the reference study's source types and the consensus coder."""

from __future__ import annotations

from sqlmodel import Session, select

from groundcode.store.tables import Coder, SourceType

DEFAULT_SOURCE_TYPES: list[tuple[int, str, str, str]] = [
    (1, "政策文件", "policy", "policy"),
    (2, "官方媒体报道", "official media", "media"),
    (3, "学术期刊", "academic", "academic"),
    (4, "自媒体", "self-media", "selfmedia"),
]

CONSENSUS = "consensus"


def seed_defaults(session: Session) -> None:
    if session.exec(select(SourceType)).first() is None:
        for tid, zh, en, slug in DEFAULT_SOURCE_TYPES:
            session.add(SourceType(id=tid, name_zh=zh, name_en=en, slug=slug))
    if session.exec(select(Coder).where(Coder.name == CONSENSUS)).first() is None:
        session.add(Coder(name=CONSENSUS, role="consensus"))
