"""run_sources: article links already known, and feeds answering 304, per source and run

These tell a quiet source (nothing new, but its feeds still lead to known articles) from a
broken one (its feeds and listings lead nowhere), which source-health alerts need.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped_seen", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("not_modified", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("run_sources", schema=None) as batch_op:
        batch_op.drop_column("not_modified")
        batch_op.drop_column("skipped_seen")
