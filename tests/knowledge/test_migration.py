"""The migrations create exactly the knowledge tables `hotline.knowledge.store` declares (both databases), and 0017
merges 有用 marks already doubled before it makes them unique."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import hotline.knowledge.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine
from tests.conftest import fresh_database


def test_migrations_match_store(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "kb_" in repr(d)] == []


def test_0017_keeps_one_useful_mark_per_person_and_version(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0016")
        with get_engine(url).begin() as conn:
            conn.execute(text(
                "INSERT INTO kb_articles (external_id, title, body, category, owner_unit, lines, regions, keywords,"
                " status, version, created_at, updated_at, updated_by) VALUES ('KB000001', '医保缴费',"
                " '每年缴费', '', '', '[]', '[]', '[]', 'published', 2, '2026-11-01 02:00:00+00',"
                " '2026-11-01 02:00:00+00', '')"
            ))  # fmt: skip
            for version, agent, kind in [
                (2, "张敏", "useful"),
                (2, "张敏", "useful"),
                (1, "张敏", "useful"),
                (2, "李强", "useful"),
                (2, "张敏", "outdated"),
                (2, "张敏", "outdated"),
            ]:
                conn.execute(text(
                    "INSERT INTO kb_article_flags (article_id, article_version, kind, agent, comment, owner_unit,"
                    " created_at, resolved_by, resolution, resolution_note) SELECT id, :v, :k, :a, '', '',"
                    " '2026-11-02 02:00:00+00', '', '', '' FROM kb_articles"
                ), {"v": version, "k": kind, "a": agent})  # fmt: skip
        db.upgrade(url, "0017")
        with get_engine(url).connect() as conn:
            kept = conn.execute(text(
                "SELECT article_version, agent, kind, count(*) FROM kb_article_flags"
                " GROUP BY article_version, agent, kind ORDER BY article_version, agent, kind"
            )).all()  # fmt: skip
        # Only the doubled 有用 of the same person on the same version goes; 纠错 may be repeated.
        assert [tuple(r) for r in kept] == [
            (1, "张敏", "useful", 1),
            (2, "张敏", "outdated", 2),
            (2, "张敏", "useful", 1),
            (2, "李强", "useful", 1),
        ]
        assert "uq_kb_article_flags_useful" in {
            i["name"] for i in inspect(get_engine(url)).get_indexes("kb_article_flags")
        }
        db.downgrade(url, "0016")
        db.upgrade(url, "0017")
