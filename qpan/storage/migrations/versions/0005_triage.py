"""triage: analysts' verdicts on articles, beside the scorer's; indexes for the web view's list and chart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=True),
        sa.CheckConstraint("verdict IN ('relevant', 'not_relevant', 'read')", name="ck_triage_verdict"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_triage_article_id", "triage", ["article_id"], unique=False)
    # the relevant articles newest first without a sort, the weekly chart from the index alone,
    # and an article's republications without a scan
    op.create_index("ix_articles_duplicate_of_id", "articles", ["duplicate_of_id"], unique=False)
    op.create_index(
        "ix_articles_relevant_newest", "articles", ["relevant", sa.text("coalesce(published, fetched_at)")], unique=False
    )
    op.create_index(
        "ix_articles_relevant_source", "articles", ["relevant", "published", "fetched_at", "source"], unique=False
    )


def downgrade() -> None:
    # Analysts' verdicts exist nowhere else: a downgrade refuses to drop them.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM triage")).scalar():
        raise RuntimeError("the triage table holds analysts' verdicts: export them (`qpan triage -f json`) first")
    op.drop_index("ix_articles_relevant_source", table_name="articles")
    op.drop_index("ix_articles_relevant_newest", table_name="articles")
    op.drop_index("ix_articles_duplicate_of_id", table_name="articles")
    op.drop_index("ix_triage_article_id", table_name="triage")
    op.drop_table("triage")
