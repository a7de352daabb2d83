"""Use cases of the knowledge base: authoring with kept versions, lifecycle, flags, sharing, search."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.knowledge import answers, domain, search
from hotline.knowledge.domain import ArticleInput, FlagKind, Resolution, Status
from hotline.knowledge.store import Article, ArticleFlag, ArticleVersion
from hotline.settings import get_settings
from hotline.timeutil import china_day, now

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- authoring


def _record_version(session: Session, article: Article, fields: list[str], actor: str, note: str) -> None:
    content = article.content()
    session.add(
        ArticleVersion(
            article_id=article.id,
            version=article.version,
            changed_fields=fields,
            changed_by=actor,
            changed_at=article.updated_at,
            note=note[:500],
            **content,
        )
    )


def create_article(
    session: Session,
    data: ArticleInput,
    *,
    actor: str,
    status: str = Status.DRAFT,
    external_id: str | None = None,
    note: str = "",
) -> Article:
    data.validate()
    target = domain.parse_status(status)
    if external_id is not None:
        external_id = external_id.strip()
        if not external_id:
            raise InvalidInput("外部编号不能为空", code="invalid-external-id")
        if session.scalar(select(Article.id).where(Article.external_id == external_id)) is not None:
            from hotline.errors import Conflict

            raise Conflict(f"外部编号 {external_id} 已存在", code="article-exists")
    stamp = now()
    article = Article(
        external_id=external_id,
        status=target.value,
        version=1,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
        **data.as_dict(),
    )
    session.add(article)
    session.flush()
    if article.external_id is None:
        article.external_id = f"KB{article.id:06d}"
    _record_version(session, article, [*domain.CONTENT_FIELDS, "status"], actor, note or "新建")
    session.flush()
    return article


def get_article(session: Session, key: int | str) -> Article:
    """An article by its number or its external id."""
    article: Article | None = None
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        article = session.get(Article, int(key))
    if article is None and isinstance(key, str):
        article = session.scalar(select(Article).where(Article.external_id == key))
    if article is None:
        raise NotFound(f"知识 {key} 不存在", code="article-not-found")
    return article


def _check_version(article: Article, version: int | None) -> None:
    """VERSION is the one the caller saw: a form or client that read the article before someone else changed it
    must not overwrite that change unawares."""
    if version is not None and version != article.version:
        raise Conflict(
            f"知识已被他人修改（当前为第 {article.version} 版，提交的是第 {version} 版），请核对最新内容后重试",
            code="stale-version",
            current=article.version,
        )


def update_article(
    session: Session,
    key: int | str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    note: str = "",
    version: int | None = None,
) -> Article:
    """Edit content fields; a real change makes a new kept version (no change, no version).

    `version`, when given, must be the article's current version (else `stale-version`, 409)."""
    article = get_article(session, key)
    _check_version(article, version)
    unknown = set(changes) - set(domain.CONTENT_FIELDS)
    if unknown:
        raise InvalidInput(f"不能修改的字段：{', '.join(sorted(unknown))}", code="invalid-field")
    merged = {**article.content(), **changes}
    merged.pop("status")
    for name in ("lines", "regions", "keywords"):
        merged[name] = domain.split_list(merged[name])
    data = ArticleInput(**merged).validate()
    new = data.as_dict()
    fields = domain.changed_fields(article.content(), new)
    if not fields:
        return article
    for name in fields:
        setattr(article, name, new[name])
    _bump(session, article, fields, actor, note or "修改")
    return article


def _bump(session: Session, article: Article, fields: list[str], actor: str, note: str) -> None:
    seen = article.version
    article.version += 1
    article.updated_at = now()
    article.updated_by = actor
    _record_version(session, article, fields, actor, note)
    try:
        session.flush()
    except IntegrityError as exc:
        # Someone saved a version of this article after this change read it: the kept versions are unique per
        # article, so the later save is refused, as a stale form's is, rather than failing as a server error.
        raise Conflict(
            f"知识已被他人修改（您修改的是第 {seen} 版），请重新打开后再改", code="stale-version", seen=seen
        ) from exc


def set_status(
    session: Session, key: int | str, target: str, *, actor: str, note: str = "", version: int | None = None
) -> Article:
    article = get_article(session, key)
    _check_version(article, version)
    dst = domain.check_transition(article.status, target)
    article.status = dst.value
    _bump(session, article, ["status"], actor, note or f"状态改为{domain.STATUS_LABELS[dst]}")
    return article


def list_versions(session: Session, key: int | str) -> list[ArticleVersion]:
    article = get_article(session, key)
    return list(
        session.scalars(
            select(ArticleVersion).where(ArticleVersion.article_id == article.id).order_by(ArticleVersion.version)
        )
    )


def expire_due(session: Session, *, today: date | None = None, actor: str = "system") -> list[Article]:
    """Move published articles whose expiry date has passed to 'expired' (each a kept version)."""
    today = today or china_day(now())
    rows = session.scalars(
        select(Article).where(Article.status == Status.PUBLISHED.value, Article.expires_on < today)
    ).all()
    for article in rows:
        article.status = Status.EXPIRED.value
        _bump(session, article, ["status"], actor, "到期自动失效")
    return list(rows)


# ---------------------------------------------------------------------------------------------- flags


def flag_article(session: Session, key: int | str, kind: str, *, agent: str, comment: str = "") -> ArticleFlag:
    """An agent marks an article useful or outdated; outdated goes to the owning unit with a review deadline."""
    article = get_article(session, key)
    try:
        flag_kind = FlagKind(kind)
    except ValueError:
        raise InvalidInput("标记只能是 useful（有用）或 outdated（过时）", code="invalid-flag") from None
    if not agent.strip():
        raise InvalidInput("请填写标记人", code="agent-required")
    if flag_kind is FlagKind.OUTDATED and not comment.strip():
        # The owning unit reviews what the agent says is wrong: without it there is nothing to check.
        raise InvalidInput("请填写纠错内容：说明知识哪里有误或已过时", code="comment-required")
    if flag_kind is FlagKind.USEFUL and _marked_useful(session, article, agent.strip()):
        # One mark per person and version, so the count says how many found this text useful.
        raise Conflict(f"{agent.strip()} 已标记过本知识第 {article.version} 版有用", code="already-marked")
    due: date | None = None
    if flag_kind is FlagKind.OUTDATED:
        from hotline.calendar.service import load_calendar

        due = load_calendar(session).add_workdays(china_day(now()), domain.REVIEW_WORKDAYS)
    flag = ArticleFlag(
        article_id=article.id,
        article_version=article.version,
        kind=flag_kind.value,
        agent=agent.strip(),
        comment=comment[:1000],
        owner_unit=article.owner_unit,
        created_at=now(),
        review_due=due,
    )
    try:
        with session.begin_nested():
            session.add(flag)
    except IntegrityError:
        # The same person's other click won the race between the check above and this insert.
        raise Conflict(f"{agent.strip()} 已标记过本知识第 {article.version} 版有用", code="already-marked") from None
    return flag


def _marked_useful(session: Session, article: Article, agent: str) -> bool:
    query = select(ArticleFlag.id).where(
        ArticleFlag.article_id == article.id,
        ArticleFlag.article_version == article.version,
        ArticleFlag.kind == FlagKind.USEFUL.value,
        ArticleFlag.agent == agent,
    )
    return session.scalar(query.limit(1)) is not None


@dataclass(frozen=True)
class Usefulness:
    """How agents rated an article: 有用 marks in all and on its current version, and whether AGENT marked it."""

    useful: int
    useful_this_version: int
    marked_by_agent: bool


def usefulness(session: Session, key: int | str, agent: str = "") -> Usefulness:
    article = get_article(session, key)
    rows = session.execute(
        select(ArticleFlag.article_version, func.count())
        .where(ArticleFlag.article_id == article.id, ArticleFlag.kind == FlagKind.USEFUL.value)
        .group_by(ArticleFlag.article_version)
    ).all()
    per_version = {int(version): int(count) for version, count in rows}
    return Usefulness(
        useful=sum(per_version.values()),
        useful_this_version=per_version.get(article.version, 0),
        marked_by_agent=bool(agent.strip()) and _marked_useful(session, article, agent.strip()),
    )


def list_flags(
    session: Session,
    *,
    unit: str | None = None,
    open_only: bool = True,
    kind: str | None = None,
    article: int | str | None = None,
) -> list[ArticleFlag]:
    """Flags waiting for the owning unit (oldest deadline first); ARTICLE (number or external id) limits them to
    one article's."""
    query = select(ArticleFlag)
    if unit:
        query = query.where(ArticleFlag.owner_unit == unit)
    if article is not None:
        query = query.where(ArticleFlag.article_id == get_article(session, article).id)
    if open_only:
        query = query.where(ArticleFlag.resolved_at.is_(None))
    if kind:
        query = query.where(ArticleFlag.kind == kind)
    return list(session.scalars(query.order_by(ArticleFlag.review_due, ArticleFlag.id)))


def is_overdue(flag: ArticleFlag, today: date | None = None) -> bool:
    today = today or china_day(now())
    return flag.resolved_at is None and flag.review_due is not None and today > flag.review_due


def flag_dict(flag: ArticleFlag, today: date | None = None) -> dict[str, Any]:
    return {
        "id": flag.id,
        "article_id": flag.article_id,
        "article_version": flag.article_version,
        "kind": flag.kind,
        "agent": flag.agent,
        "comment": flag.comment,
        "owner_unit": flag.owner_unit,
        "created_at": flag.created_at.isoformat(),
        "review_due": flag.review_due.isoformat() if flag.review_due else None,
        "overdue": is_overdue(flag, today),
        "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
        "resolved_by": flag.resolved_by,
        "resolution": flag.resolution,
    }


def review_flag(session: Session, flag_id: int, resolution: str, *, actor: str, note: str = "") -> ArticleFlag:
    """The owning unit closes a flag: confirmed as correct, updated, or the article withdrawn."""
    flag = session.get(ArticleFlag, flag_id)
    if flag is None:
        raise NotFound(f"标记 {flag_id} 不存在", code="flag-not-found")
    if flag.resolved_at is not None:
        from hotline.errors import Conflict

        raise Conflict("该标记已处理", code="flag-already-reviewed")
    try:
        res = Resolution(resolution)
    except ValueError:
        raise InvalidInput(
            "处理结果只能是 confirmed（确认无误）、updated（已更新）或 withdrawn（已撤回）", code="invalid-resolution"
        ) from None
    if res is Resolution.WITHDRAWN:
        article = get_article(session, flag.article_id)
        if article.status != Status.WITHDRAWN.value:
            set_status(session, article.id, Status.WITHDRAWN, actor=actor, note=note or "核查后撤回")
    flag.resolved_at = now()
    flag.resolved_by = actor
    flag.resolution = res.value
    flag.resolution_note = note[:1000]
    session.flush()
    return flag


# ---------------------------------------------------------------------------------------------- maintenance queue

# A published article whose expiry date falls within this many days is listed as 即将到期, in time to renew it.
EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class QueuedArticle:
    """An article on the maintenance queue: what its row shows (not its body)."""

    id: int
    key: str  # external id, else the number: what its page is addressed by
    title: str
    owner_unit: str
    status: str
    version: int
    updated_at: datetime
    updated_by: str
    expires_on: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.key,
            "title": self.title,
            "owner_unit": self.owner_unit,
            "status": self.status,
            "status_label": domain.STATUS_LABELS[Status(self.status)],
            "version": self.version,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
        }


@dataclass(frozen=True)
class QueuedFlag:
    """An open 纠错 with its article's key and title, and whether its review deadline has passed (超期)."""

    flag: ArticleFlag
    article_key: str
    article_title: str
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            **flag_dict(self.flag),
            "article_external_id": self.article_key,
            "article_title": self.article_title,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class MaintenanceQueue:
    """What waits on those who maintain the knowledge base (知识维护)."""

    today: date
    review: list[QueuedArticle]  # submitted for review, longest waiting first
    flags: list[QueuedFlag]  # open 纠错, oldest deadline first
    expired: list[QueuedArticle]  # still published past their expiry date (`expire_due` not yet run)
    expiring: list[QueuedArticle]  # published, expiring within EXPIRING_WITHIN_DAYS, soonest first
    drafts: list[QueuedArticle]  # latest changed first

    @property
    def overdue_flags(self) -> int:
        return sum(1 for f in self.flags if f.overdue)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "review": [a.as_dict() for a in self.review],
            "flags": [f.as_dict() for f in self.flags],
            "overdue_flags": self.overdue_flags,
            "expired": [a.as_dict() for a in self.expired],
            "expiring": [a.as_dict() for a in self.expiring],
            "expiring_within_days": EXPIRING_WITHIN_DAYS,
            "drafts": [a.as_dict() for a in self.drafts],
        }


_QUEUED_COLUMNS = (
    Article.id,
    Article.external_id,
    Article.title,
    Article.owner_unit,
    Article.status,
    Article.version,
    Article.updated_at,
    Article.updated_by,
    Article.expires_on,
)


def maintenance_queue(session: Session, *, unit: str | None = None, today: date | None = None) -> MaintenanceQueue:
    """Articles awaiting review, open 纠错 flags, published articles expired or expiring soon, and drafts; with
    UNIT, only those its owning unit answers for (a flag's unit is the article's when it was flagged)."""
    today = today or china_day(now())
    horizon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    waiting = (Status.REVIEW.value, Status.DRAFT.value)
    query = select(*_QUEUED_COLUMNS).where(
        (Article.status.in_(waiting)) | ((Article.status == Status.PUBLISHED.value) & (Article.expires_on <= horizon))
    )
    if unit:
        query = query.where(Article.owner_unit == unit)
    rows = [
        QueuedArticle(number, ext or str(number), title, owner, status, version, at, by, expires)
        for number, ext, title, owner, status, version, at, by, expires in session.execute(query)
    ]
    open_flags = list_flags(session, unit=unit, kind=FlagKind.OUTDATED.value)
    titles: dict[int, tuple[str, str]] = {}
    if open_flags:
        flagged = select(Article.id, Article.external_id, Article.title).where(
            Article.id.in_({f.article_id for f in open_flags})
        )
        titles = {number: (ext or str(number), title) for number, ext, title in session.execute(flagged)}
    published = sorted(
        (a for a in rows if a.status == Status.PUBLISHED.value), key=lambda a: (a.expires_on or horizon, a.id)
    )
    return MaintenanceQueue(
        today=today,
        review=sorted((a for a in rows if a.status == Status.REVIEW.value), key=lambda a: (a.updated_at, a.id)),
        flags=[QueuedFlag(f, *titles[f.article_id], overdue=is_overdue(f, today)) for f in open_flags],
        expired=[a for a in published if a.expires_on is not None and a.expires_on < today],
        expiring=[a for a in published if a.expires_on is not None and a.expires_on >= today],
        drafts=sorted(
            (a for a in rows if a.status == Status.DRAFT.value), key=lambda a: (a.updated_at, a.id), reverse=True
        ),
    )


# ---------------------------------------------------------------------------------------------- sync


def changes_since(session: Session, since: datetime | None, *, limit: int = 500) -> dict[str, Any]:
    """Articles changed after SINCE (withdrawn and expired ones too), oldest change first, with a cursor."""
    if limit < 1 or limit > 5000:
        raise InvalidInput("limit 须在 1 到 5000 之间", code="invalid-limit")
    query = select(Article)
    if since is not None:
        query = query.where(Article.updated_at > since)
    rows = list(session.scalars(query.order_by(Article.updated_at, Article.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1].updated_at if rows else since
    return {
        "articles": [article_dict(a) for a in rows],
        "next_since": cursor.isoformat() if cursor else None,
        "more": more,
    }


def article_dict(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "external_id": article.external_id,
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "owner_unit": article.owner_unit,
        "lines": list(article.lines or []),
        "regions": list(article.regions or []),
        "keywords": list(article.keywords or []),
        "effective_from": article.effective_from.isoformat() if article.effective_from else None,
        "expires_on": article.expires_on.isoformat() if article.expires_on else None,
        "status": article.status,
        "status_label": domain.STATUS_LABELS[Status(article.status)],
        "version": article.version,
        "updated_at": article.updated_at.isoformat(),
        "updated_by": article.updated_by,
    }


# ---------------------------------------------------------------------------------------------- import / export


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def text(self) -> str:
        return f"导入完成：新增 {self.created} 条，更新 {self.updated} 条，未变化 {self.unchanged} 条"


def import_records(
    session: Session,
    records: Iterable[tuple[str, ArticleInput]],
    *,
    actor: str,
    status: str = Status.PUBLISHED,
) -> ImportSummary:
    """Create or update articles keyed by external id; a changed article gets a new version."""
    target = domain.parse_status(status)
    existing = {a.external_id: a for a in session.scalars(select(Article)) if a.external_id}
    summary = ImportSummary()
    seen: set[str] = set()
    for external_id, data in records:
        if external_id in seen:
            raise InvalidInput(f"导入文件中编号 {external_id} 重复", code="duplicate-id")
        seen.add(external_id)
        article = existing.get(external_id)
        if article is None:
            create_article(session, data, actor=actor, status=target, external_id=external_id, note="导入")
            summary.created += 1
            continue
        before = article.version
        update_article(session, article.id, data.as_dict(), actor=actor, note="导入更新")
        if article.version != before:
            summary.updated += 1
        else:
            summary.unchanged += 1
    return summary


def import_file(
    session: Session,
    path: Path,
    *,
    id_column: str,
    body_column: str,
    title_column: str | None = None,
    actor: str = "import",
    status: str = Status.PUBLISHED,
) -> ImportSummary:
    from hotline.knowledge import transfer

    rows = transfer.read_table(path, needed=[id_column, body_column, title_column or ""])
    # Every row is validated before anything is written.
    records = list(
        transfer.records_from_rows(rows, id_column=id_column, body_column=body_column, title_column=title_column)
    )
    return import_records(session, records, actor=actor, status=status)


def export_articles(session: Session, path: Path, *, status: str | None = None) -> int:
    """Write articles to PATH (.csv or .xlsx) with the documented Chinese columns; returns the row count."""
    from hotline.knowledge import transfer

    query = select(Article).order_by(Article.id)
    if status:
        query = query.where(Article.status == domain.parse_status(status).value)
    articles = [article_dict(a) for a in session.scalars(query)]
    transfer.write_table(path, articles)
    return len(articles)


# ---------------------------------------------------------------------------------------------- search index

_CACHE: dict[str, search.SearchIndex] = {}
_CACHE_LOCK = threading.Lock()


def _signature(session: Session) -> str:
    """What the index was built from: every create and every change moves `updated_at` (articles are never
    deleted by the platform), so the newest change and the highest id identify the table's state. Both are
    index look-ups, cheap at any size."""
    # Two scalar subqueries: each max() alone is answered from its index (SQLite scans for a combined one).
    latest, top = session.execute(
        select(
            select(func.max(Article.updated_at)).scalar_subquery(),
            select(func.max(Article.id)).scalar_subquery(),
        )
    ).one()
    model = answer_model()
    ranking = f"{search.DEFAULT_CONFIG!r}#answers={model.digest if model else ''}"
    return f"{search.ANALYZER_VERSION}|{ranking}|{latest}|{top}"


def _cache_path(url: str) -> Path:
    digest = hashlib.sha1(url.encode()).hexdigest()[:16]
    return get_settings().data_dir / "knowledge" / f"index-{digest}.pkl"


def _url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def get_index(session: Session) -> search.SearchIndex:
    """The search index of the current articles: from memory, else from disk, else (re)built and saved.

    Rebuilding reuses the analysed text of every unchanged article version, so an edit costs one article's
    segmentation plus assembling the matrices.
    """
    signature = _signature(session)
    url = _url(session)
    with _CACHE_LOCK:
        cached = _CACHE.get(url)
        if cached is not None and cached.signature == signature:
            return cached
        path = _cache_path(url)
        if cached is None and path.exists():
            try:
                with path.open("rb") as fh:
                    cached = pickle.load(fh)
            except Exception:  # a corrupt or incompatible cache is rebuilt
                log.warning("knowledge index cache unreadable, rebuilding")
                cached = None
            if cached is not None and cached.signature == signature:
                _CACHE[url] = cached
                return cached
        if cached is not None:
            updated = _apply_meta_changes(session, cached, signature)
            if updated is not None:
                # Lifecycle and filter changes only (publish, withdraw, expire, dates, lines…): no rebuild.
                _CACHE[url] = updated
                return updated
        index = _build_index(session, signature, cached)
        _CACHE[url] = index
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return index


def _meta(a: Article) -> search.DocMeta:
    return search.DocMeta(
        article_id=a.id,
        external_id=a.external_id,
        title=a.title,
        body=a.body,
        keywords=tuple(a.keywords or ()),
        status=a.status,
        owner_unit=a.owner_unit,
        category=a.category,
        lines=tuple(a.lines or ()),
        regions=tuple(a.regions or ()),
        effective_from=a.effective_from,
        expires_on=a.expires_on,
    )


def _apply_meta_changes(session: Session, index: search.SearchIndex, signature: str) -> search.SearchIndex | None:
    """The index updated in place when every article changed since it was built kept its searchable text
    (a withdrawal, publication, expiry or new validity dates); None when a rebuild is needed."""
    since = getattr(index, "built_upto", None)
    if since is None or index.signature.split("|")[:2] != signature.split("|")[:2]:
        return None
    changed = list(session.scalars(select(Article).where(Article.updated_at > since).limit(1001)))
    if len(changed) > 1000 or session.scalar(select(func.count(Article.id))) != len(index):
        return None  # many changes, or rows deleted outside the platform (tests empty the tables)
    positions = index.positions()
    updates = []
    for a in changed:
        j = positions.get(a.id)
        if j is None:
            return None  # a new article
        old = index.meta[j]
        if (old.title, old.body, old.keywords) != (a.title, a.body, tuple(a.keywords or ())):
            return None  # its text changed
        updates.append((j, _meta(a), f"{a.version}@{a.updated_at.isoformat()}"))
    for j, meta, key in updates:
        index.replace_meta(j, meta, key)
    index.signature = signature
    index.built_upto = max((a.updated_at for a in changed), default=since)
    return index


def _build_index(session: Session, signature: str, previous: search.SearchIndex | None) -> search.SearchIndex:
    reuse: dict[int, search.DocTokens] = {}
    # The analysed words depend on the analyzer only, not on the ranking weights.
    if previous is not None and previous.signature.split("|", 1)[0] == str(search.ANALYZER_VERSION):
        reuse = {m.article_id: t for m, t in zip(previous.meta, previous.tokens, strict=True)}
    metas: list[search.DocMeta] = []
    tokens: list[search.DocTokens | None] = []
    todo: list[tuple[int, tuple[str, list[str], str, str]]] = []
    latest = None
    for a in session.scalars(select(Article).order_by(Article.id)):
        metas.append(_meta(a))
        latest = a.updated_at if latest is None or a.updated_at > latest else latest
        key = f"{a.version}@{a.updated_at.isoformat()}"
        old = reuse.get(a.id)
        if old is not None and old.key == key:
            tokens.append(old)
        else:
            todo.append((len(tokens), (a.title, list(a.keywords or []), a.body, key)))
            tokens.append(None)
    for (position, _), analysed in zip(todo, search.analyse_many([item for _, item in todo]), strict=True):
        tokens[position] = analysed
    done = [t for t in tokens if t is not None]
    index = search.SearchIndex(metas, done, search.DEFAULT_CONFIG, signature, answers=answer_model())
    index.built_upto = latest
    return index


def search_articles(
    session: Session,
    parts: str | Sequence[str],
    *,
    top: int = 10,
    filters: search.Filters | None = None,
    highlight: bool = True,
) -> list[dict[str, Any]]:
    """Ranked articles for a query (one text, or parts such as a message's subject and detail).

    By default only published articles valid today are found.
    """
    if isinstance(parts, str):
        parts = [parts]
    parts = [p for p in (str(x or "").strip() for x in parts)]
    if not any(parts):
        raise InvalidInput("请输入要搜索的内容", code="empty-query")
    if top < 1 or top > 100:
        raise InvalidInput("返回条数须在 1 到 100 之间", code="invalid-top")
    filters = filters or search.Filters()
    if filters.status is None and filters.valid_on is None:
        filters.valid_on = china_day(now())
    if filters.status not in (None, "any"):
        domain.parse_status(filters.status)
    index = get_index(session)
    hits, grams, _ = index.search(parts, filters, top)
    out = []
    for rank, hit in enumerate(hits, start=1):
        meta = index.meta[hit.position]
        out.append(
            {
                "rank": rank,
                "article_id": meta.external_id,
                "id": meta.article_id,
                "score": round(hit.score, 6),
                "title": meta.title,
                "title_highlight": search.highlight(meta.title, grams, width=300) if highlight else meta.title,
                "snippet": search.highlight(meta.body, grams) if highlight else "",
                "status": meta.status,
                "category": meta.category,
                "owner_unit": meta.owner_unit,
            }
        )
    return out


def search_batch(
    session: Session, rows: Sequence[Mapping[str, str]], *, text_columns: Sequence[str], top: int = 10
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Search each row's TEXT_COLUMNS (the first one weighs differently); rows need a `query_id`."""
    if not text_columns:
        raise InvalidInput("请至少指定一个文本列", code="missing-column")
    if rows:
        missing = [c for c in ("query_id", *text_columns) if c not in rows[0]]
        if missing:
            raise InvalidInput(f"查询文件缺少列：{'、'.join(missing)}", code="missing-column")
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for row in rows:
        parts = [row.get(c, "") or "" for c in text_columns]
        hits = search_articles(session, parts, top=top, highlight=False) if any(p.strip() for p in parts) else []
        out.append((row["query_id"], hits))
    return out


# ---------------------------------------------------------------------------------- learned answers

ANSWERS_FILE = "answers.npz"
_ANSWERS: dict[Path, tuple[tuple[int, int], answers.AnswerModel]] = {}


def answers_path() -> Path:
    return get_settings().data_dir / "knowledge" / ANSWERS_FILE


def answer_model() -> answers.AnswerModel | None:
    """The answer model of this data folder (see `answers.py`), or None if none was learned."""
    path = answers_path()
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _ANSWERS.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        model = answers.load(path)
    except (OSError, ValueError, KeyError) as exc:  # an unreadable model is ignored, searching goes on
        log.warning("answer model %s unreadable (%s), searching without it", path, exc)
        return None
    _ANSWERS[path] = (stamp, model)
    return model


@dataclass
class LearnSummary:
    pairs: int
    skipped: int
    articles: int

    def text(self) -> str:
        skipped = f"，{self.skipped} 条因找不到对应知识或内容为空而跳过" if self.skipped else ""
        return f"已从 {self.pairs} 条已答复的留言学习答复模型（参照 {self.articles} 条知识）{skipped}"


def pairs_from_rows(
    rows: Sequence[Mapping[str, str]], *, text_columns: Sequence[str], article_column: str
) -> list[tuple[str, str]]:
    """(message, article external id) of each row of an answered-messages table: the message is its
    TEXT_COLUMNS joined, the article the id in ARTICLE_COLUMN."""
    if not text_columns:
        raise InvalidInput("请至少指定一个文本列", code="missing-column")
    if rows:
        missing = [c for c in (*text_columns, article_column) if c not in rows[0]]
        if missing:
            raise InvalidInput(f"留言文件缺少列：{'、'.join(missing)}", code="missing-column")
    return [
        ("。".join((row.get(c) or "").strip() for c in text_columns), (row.get(article_column) or "").strip())
        for row in rows
    ]


def learn_answers(
    pairs: Sequence[tuple[str, str]], *, articles: Mapping[str, str], replace_larger: bool = True
) -> LearnSummary:
    """Learn which articles answer which messages from PAIRS (message text, external id of the article that
    answered it) and save the model in the data folder. Searches use the new model at once.

    ARTICLES maps external ids to article text (title and body). With REPLACE_LARGER false, a model learned
    from more pairs than this one is kept (`answers-fewer-pairs`): answers recorded on a few work orders alone
    must not replace what set-up learned from a whole file.
    """
    a = search.analyzer()
    article_words = {key: a.words(text) for key, text in articles.items()}  # each article cut once
    messages: list[list[str]] = []
    answered: list[list[str]] = []
    answered_ids: list[str] = []
    skipped = 0
    for text, key in pairs:
        article = article_words.get(key)
        words = a.words(text)
        if article is None or not words:
            skipped += 1
            continue
        messages.append(words)
        answered.append(article)
        answered_ids.append(key)
    if len(messages) < 2:
        raise InvalidInput("可用于学习的已答复留言不足 2 条（答复编号需与知识的外部编号对应）", code="too-few-pairs")
    current = answer_model()
    if not replace_larger and current is not None and current.train_x.shape[0] > len(messages):
        raise Conflict(
            f"当前答复模型学自 {current.train_x.shape[0]} 条留言，多于这次的 {len(messages)} 条，未替换"
            "（可同时给出原有的已答复留言文件，或确认替换）",
            code="answers-fewer-pairs",
        )
    model = answers.learn(messages, answered, list(article_words.values()), answer_ids=answered_ids)
    path = answers_path()
    answers.save(model, path)
    _ANSWERS.pop(path, None)
    return LearnSummary(len(messages), skipped, len(articles))


def _article_text(title: str, body: str) -> str:
    return f"{title}。{body}" if title else body


def article_texts(session: Session) -> dict[str, str]:
    """External id → title and body of every article in the database (what `learn_answers` reads)."""
    rows = session.execute(
        select(Article.external_id, Article.title, Article.body).where(Article.external_id.is_not(None))
    )
    return {ext: _article_text(title, body) for ext, title, body in rows if ext}


def article_texts_from(
    rows: Sequence[Mapping[str, str]], *, id_column: str, body_column: str, title_column: str | None = None
) -> dict[str, str]:
    """External id → title and body of the articles in a table (a department's file, not yet imported)."""
    needed = [c for c in (id_column, body_column, title_column) if c]
    missing = [c for c in needed if rows and c not in rows[0]]
    if missing:
        raise InvalidInput(f"知识文件缺少列：{'、'.join(missing)}", code="missing-column")
    return {
        key: _article_text((r.get(title_column) or "").strip() if title_column else "", r.get(body_column) or "")
        for r in rows
        if (key := (r.get(id_column) or "").strip())
    }


# ---------------------------------------------------------------------------------------------- demo


def load_demo(session: Session) -> str:
    """Publish the bundled sample articles about 12345 lines (idempotent: re-running updates nothing)."""
    from hotline.knowledge import transfer

    rows = transfer.read_demo_rows()
    records = transfer.records_from_rows(rows, id_column="编号", body_column="正文", title_column="标题")
    summary = import_records(session, records, actor="demo", status=Status.PUBLISHED)
    backlog = _demo_backlog(session)
    total = session.scalar(select(func.count(Article.id)))
    return f"知识库：演示知识 {summary.created} 条新增，共 {total} 条" + (f"；{backlog}" if backlog else "")


def _demo_backlog(session: Session) -> str:
    """One article submitted for review and one 纠错 waiting on its unit, so 知识维护 has work on a first start
    (each made once: a later run finds it and adds nothing)."""
    made = []
    if session.scalar(select(Article.id).where(Article.external_id == "DEMO-R01")) is None:
        data = ArticleInput(
            title="城乡居民医保下一年度集中缴费",
            body="下一年度城乡居民基本医疗保险的集中缴费期和个人缴费标准，以省医保局、税务部门发布的公告为准；"
            "已参保人员可通过税务App、银行或社区代收点续缴。",
            category="医疗保障",
            owner_unit="省医保局",
            keywords=["医保缴费", "城乡居民医保"],
        )
        create_article(session, data, actor="demo", status=Status.REVIEW, external_id="DEMO-R01")
        made.append("待审核 1 条")
    flagged = get_article(session, "DEMO-015")
    if not list_flags(session, kind=FlagKind.OUTDATED.value, article=flagged.id):
        flag_article(session, flagged.id, FlagKind.OUTDATED.value, agent="座席001",
                     comment="市民反映缴费期说法与今年公告不一致，请按最新公告核实")  # fmt: skip
        made.append("纠错待核实 1 条")
    return "、".join(made)
