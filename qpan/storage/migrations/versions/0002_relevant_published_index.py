"""index for dedup's same-story window: relevant articles by publication date

Without it, "relevant articles published within two days" is answered from the index on
``relevant`` alone, whose cost grows with the number of stored relevant articles.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_relevant_published", "articles", ["relevant", "published"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_articles_relevant_published", table_name="articles")
