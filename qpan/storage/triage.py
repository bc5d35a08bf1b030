"""Analysts' verdicts (triage) and how the scorer fares against them.

A verdict is a new row, never an update: the newest row of an article is its current
verdict, and the history stays for tuning the theme later. The scorer's own ``relevant``
is never touched, so the two can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from qpan.errors import UserError
from qpan.storage.models import Article, Triage

RELEVANT, NOT_RELEVANT, READ = "relevant", "not_relevant", "read"
VERDICTS = (RELEVANT, NOT_RELEVANT, READ)
NOTE_CHARS = 2000
WHO_CHARS = 100


def record_verdict(
    session: Session, article_id: int, verdict: str, note: str | None = None, who: str | None = None
) -> Triage:
    if verdict not in VERDICTS:
        raise UserError(f"unknown verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    if session.get(Article, article_id) is None:
        raise UserError(f"no article with id {article_id}")
    row = Triage(
        article_id=article_id,
        verdict=verdict,
        note=(note or "").strip()[:NOTE_CHARS] or None,
        who=(who or "").strip()[:WHO_CHARS] or None,
    )
    session.add(row)
    session.flush()
    return row


def triage_json(row: Triage | None) -> dict[str, Any] | None:
    """The article JSON's ``triage``: the current verdict, or None when nobody judged it."""
    if row is None:
        return None
    return {"verdict": row.verdict, "note": row.note, "at": row.created_at, "who": row.who}


def _current_ids() -> Select[tuple[int]]:
    return select(func.max(Triage.id)).group_by(Triage.article_id)


def current_verdicts(session: Session, limit: int | None = None) -> list[Triage]:
    """Each judged article's current verdict, newest first."""
    query = select(Triage).where(Triage.id.in_(_current_ids())).order_by(Triage.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True)
class TriageSummary:
    """The current verdicts counted, and the scorer's precision against them.

    ``confirmed`` and ``rejected`` are articles the scorer called relevant that an analyst
    judged relevant / not relevant; ``missed`` ones it called not relevant that were judged
    relevant; ``alerted_rejected`` the alerted articles judged not relevant (noise sent out).
    """

    verdicts: dict[str, int]
    confirmed: int
    rejected: int
    missed: int
    alerted_rejected: int

    @property
    def precision(self) -> float | None:
        judged = self.confirmed + self.rejected
        return self.confirmed / judged if judged else None

    def line(self) -> str:
        """One line for the terminal (`qpan triage`) and the web overview alike."""
        counts = ", ".join(f"{count} {verdict.replace('_', ' ')}" for verdict, count in self.verdicts.items())
        if self.precision is None:
            precision = "unknown (no article it called relevant is judged yet)"
        else:
            precision = f"{self.precision:.0%} ({self.confirmed} of {self.confirmed + self.rejected} judged relevant)"
        return (
            f"verdicts: {counts}; scorer precision {precision}; {self.alerted_rejected} alerted judged not "
            f"relevant; missed {self.missed} (judged relevant, scored below the threshold)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdicts": self.verdicts,
            "confirmed": self.confirmed,
            "rejected": self.rejected,
            "missed": self.missed,
            "alerted_rejected": self.alerted_rejected,
            "precision": None if self.precision is None else round(self.precision, 4),
        }


def triage_summary(session: Session) -> TriageSummary:
    current = (
        select(Triage.verdict, Article.relevant, Article.alerted_at.is_not(None).label("alerted"), func.count())
        .join(Article, Article.id == Triage.article_id)
        .where(Triage.id.in_(_current_ids()))
        .group_by(Triage.verdict, Article.relevant, Article.alerted_at.is_not(None))
    )
    verdicts = dict.fromkeys(VERDICTS, 0)
    confirmed = rejected = missed = alerted_rejected = 0
    for verdict, relevant, alerted, count in session.execute(current):
        verdicts[verdict] += count
        if relevant and verdict == RELEVANT:
            confirmed += count
        elif relevant and verdict == NOT_RELEVANT:
            rejected += count
        elif not relevant and verdict == RELEVANT:
            missed += count
        if alerted and verdict == NOT_RELEVANT:
            alerted_rejected += count
    return TriageSummary(verdicts, confirmed, rejected, missed, alerted_rejected)
