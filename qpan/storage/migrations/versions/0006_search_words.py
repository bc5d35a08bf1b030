"""article_search: re-index every article as space-separated folded words

PostgreSQL's text-search parser kept "03/2019/nd-cp" as one token, so an article citing
the decree was not found by "nghi dinh 03"; ``qpan.storage.search`` now hands both
backends the same words. SQLite's tokenizer already cut at punctuation, so its documents
are rewritten only to stay identical to what new articles get. No schema change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from qpan.pipelines.normalize import search_document

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    connection = op.get_bind()
    key = "rowid" if connection.dialect.name == "sqlite" else "article_id"
    update = sa.text(f"UPDATE article_search SET body = :body WHERE {key} = :id")
    rows = connection.execute(sa.text("SELECT id, title, text FROM articles ORDER BY id"))
    while batch := rows.fetchmany(BATCH):
        connection.execute(update, [{"id": row.id, "body": search_document(row.title, row.text)} for row in batch])


def downgrade() -> None:
    """The words stay: the older qpan's queries find the same articles in them."""
