"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_runs_started_at'), ['started_at'], unique=False)

    op.create_table('http_cache',
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('url')
    )
    op.create_table('seen_urls',
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('outcome', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('canonical_url')
    )
    op.create_table('source_health',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('total_articles', sa.Integer(), nullable=False),
    sa.Column('last_articles', sa.Integer(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('consecutive_empty', sa.Integer(), nullable=False),
    sa.Column('alert_state', sa.String(length=16), nullable=False),
    sa.Column('discovered', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('source')
    )
    op.create_table('articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('seed_name', sa.String(length=200), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published', sa.DateTime(timezone=True), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('section', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=True),
    sa.Column('relevance', sa.Float(), nullable=False),
    sa.Column('relevant', sa.Boolean(), nullable=False),
    sa.Column('matched_terms', sa.JSON(), nullable=False),
    sa.Column('methods', sa.JSON(), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('cluster', sa.Integer(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['articles.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('canonical_url'),
    sa.UniqueConstraint('seed_name')
    )
    op.create_index('ix_articles_newest', 'articles', [sa.text('coalesce(published, fetched_at)')], unique=False)
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_cluster'), ['cluster'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_fetched_at'), ['fetched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_published'), ['published'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_relevant'), ['relevant'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_source'), ['source'], unique=False)

    op.create_table('run_sources',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('fetched', sa.Integer(), nullable=False),
    sa.Column('extracted', sa.Integer(), nullable=False),
    sa.Column('relevant', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('dropped', sa.JSON(), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=False),
    sa.Column('error_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'source')
    )
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedup_key', sa.String(length=300), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key', 'channel', name='uq_alert_deliveries_key_channel')
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_deliveries_status'), ['status'], unique=False)

    op.create_table('dedup_bands',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'band')
    )
    with op.batch_alter_table('dedup_bands', schema=None) as batch_op:
        batch_op.create_index('ix_dedup_bands_key', ['band', 'key'], unique=False)


    _create_search_table()


def _create_search_table() -> None:
    """Full-text index of folded text; the one backend-specific table (see storage/search.py).

    On SQLite the FTS5 rowid is the article id.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE article_search USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        return
    op.execute(
        "CREATE TABLE article_search ("
        " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
        " body TEXT NOT NULL,"
        " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
    )
    op.execute("CREATE INDEX ix_article_search_tsv ON article_search USING GIN (tsv)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS article_search")
    with op.batch_alter_table('dedup_bands', schema=None) as batch_op:
        batch_op.drop_index('ix_dedup_bands_key')

    op.drop_table('dedup_bands')
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_article_id'))

    op.drop_table('alert_deliveries')
    op.drop_table('run_sources')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_source'))
        batch_op.drop_index(batch_op.f('ix_articles_relevant'))
        batch_op.drop_index(batch_op.f('ix_articles_published'))
        batch_op.drop_index(batch_op.f('ix_articles_fetched_at'))
        batch_op.drop_index(batch_op.f('ix_articles_content_hash'))
        batch_op.drop_index(batch_op.f('ix_articles_cluster'))

    op.drop_index('ix_articles_newest', table_name='articles')
    op.drop_table('articles')
    op.drop_table('source_health')
    op.drop_table('seen_urls')
    op.drop_table('http_cache')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_started_at'))

    op.drop_table('crawl_runs')
