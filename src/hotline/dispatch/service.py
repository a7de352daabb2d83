"""Use cases of smart dispatch: train and version the model, predict files, advise on a new demand, feedback.

Models live under `<data_dir>/models/dispatch/<version>/` (`model.npz` + `metadata.json`); the file `CURRENT`
names the version in use. A new version is written to a temporary folder and renamed into place, and `CURRENT`
is replaced atomically, so a reader never sees half a model.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import textfile
from hotline.dispatch import corpus as corpora
from hotline.dispatch import predictor as predictors
from hotline.dispatch import text as textprep
from hotline.dispatch.domain import (
    CATEGORIES,
    DEFAULT_MANUAL_THRESHOLD,
    Demand,
    OpenOrder,
    RepeatMatch,
    RepeatRule,
    Suggestion,
    Weights,
    check_threshold,
    find_repeats,
    suggest,
)
from hotline.dispatch.similarity import SimilarityScorer
from hotline.dispatch.store import DispatchFeedback
from hotline.errors import Conflict, InvalidInput
from hotline.settings import get_settings
from hotline.timeutil import now, to_utc

if TYPE_CHECKING:
    from hotline.dispatch import model as models

log = logging.getLogger(__name__)

THRESHOLD_ENV = "HOTLINE_DISPATCH_MANUAL_THRESHOLD"
CURRENT = "CURRENT"
# A retrained model may score this much lower in grouped CV on the shared data (fold noise) and still count
# as not worse; on dispatchers' feedback it must not score lower at all.
CV_TOLERANCE = 0.005

Echo = Callable[[str], None]


# --- model registry ------------------------------------------------------------------------------------


def models_root() -> Path:
    return get_settings().data_dir / "models" / "dispatch"


def current_version() -> str | None:
    pointer = models_root() / CURRENT
    if not pointer.is_file():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    return version if version and (models_root() / version / predictors.MODEL_FILE).is_file() else None


@contextmanager
def _training_lock() -> Iterator[None]:
    root = models_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_cache: dict[Path, predictors.Predictor] = {}
_cache_lock = threading.Lock()


def _load(version: str) -> predictors.Predictor:
    folder = models_root() / version
    with _cache_lock:
        found = _cache.get(folder)
        if found is None:
            found = predictors.load(folder)
            _cache.clear()
            _cache[folder] = found
        return found


def usable_version() -> str | None:
    """The current version if its model loads: one written in another format (or a damaged file) counts as
    missing, so it is trained again instead of failing every prediction."""
    version = current_version()
    if version is None:
        return None
    try:
        _load(version)
    except Exception as exc:  # whatever reading a damaged or foreign file raises
        log.warning(
            "dispatch model %s cannot be loaded (%s: %s); it will be trained again", version, type(exc).__name__, exc
        )
        return None
    return version


def classifier(*, auto_train: bool = True, echo: Echo | None = None) -> predictors.Predictor:
    """The model in use; trains one from the shared data on first use when none exists or the current one
    cannot be loaded (and auto_train)."""
    version = usable_version()
    if version is None:
        if not auto_train:
            raise Conflict("尚未训练派单模型，请先运行 hotline dispatch train", code="dispatch-model-missing")
        with _training_lock():
            version = usable_version()
            if version is None:
                if echo:
                    echo("未找到派单模型，正在用共享数据训练（约一两分钟）…")
                report = _train_locked(data_dir=None, params=None, folds=0, feedback=[], force=False)
                version = str(report.version)
    return _load(version)


def manual_threshold(value: float | None = None) -> float:
    """The manual-dispatch threshold: the given value, else $HOTLINE_DISPATCH_MANUAL_THRESHOLD, else 0.6."""
    if value is None:
        raw = os.environ.get(THRESHOLD_ENV, "")
        if not raw:
            return DEFAULT_MANUAL_THRESHOLD
        try:
            value = float(raw)
        except ValueError as exc:
            raise InvalidInput(f"环境变量 {THRESHOLD_ENV} 必须是 0 到 1 之间的数", code="invalid-threshold") from exc
    try:
        return check_threshold(float(value))
    except ValueError as exc:
        raise InvalidInput("人工派单阈值必须在 0 到 1 之间", code="invalid-threshold") from exc


def classify(texts: Sequence[str], *, threshold: float | None = None, echo: Echo | None = None) -> list[Suggestion]:
    """Suggestions (category, calibrated confidence, top 3, manual flag) for raw texts, in order."""
    limit = manual_threshold(threshold)
    clf = classifier(echo=echo)
    if not texts:
        return []
    probs = predictors.predict_texts(clf, [t or "" for t in texts])
    labels = clf.labels
    return [suggest(labels, row.tolist(), limit) for row in probs]


# --- training ------------------------------------------------------------------------------------------


@dataclass
class TrainReport:
    version: str | None
    replaced: bool
    metadata: dict[str, Any]
    lines: list[str] = field(default_factory=list)


def _fmt(scores: dict[str, Any] | None) -> str:
    if not scores:
        return "—"
    return f"macro-F1 {scores['macro_f1']:.4f}，准确率 {scores['accuracy']:.4f}（{scores['n']} 条）"


def feedback_rows(session: Session) -> list[tuple[str, str, str]]:
    """(key, text, first-level category) of every dispatcher decision known, oldest first.

    Two sources: decisions recorded with `record_feedback` (key `fb:<id>`), and the categories dispatchers sent
    work orders under (`hotline.workorders.service.list_categorised_orders`, key `order:<number>`) when that
    capability provides it. An order with an explicit feedback row is taken once, from the feedback.
    """
    rows = session.execute(
        select(
            DispatchFeedback.id, DispatchFeedback.text, DispatchFeedback.category, DispatchFeedback.order_id
        ).order_by(DispatchFeedback.id)
    ).all()
    found = [(f"fb:{r[0]}", str(r[1]), str(r[2])) for r in rows]
    covered = {str(r[3]) for r in rows if r[3]}
    listing = getattr(_workorders(), "list_categorised_orders", None)
    if listing is not None:
        for order in listing(session):
            number = str(getattr(order, "number", ""))
            category = str(getattr(order, "category", "") or "").replace(">", "/").split("/")[0].strip()
            content = str(getattr(order, "content", "") or "")
            if number in covered or category not in CATEGORIES or not content.strip():
                continue
            found.append((f"order:{number}", content, category))
    return found


def train_model(
    *,
    data_dir: Path | None = None,
    seed: int = 0,
    folds: int = 5,
    session: Session | None = None,
    force: bool = False,
    echo: Echo | None = None,
) -> TrainReport:
    """Train a new model version from the shared data (plus dispatchers' feedback when `session` is given).

    With feedback, the evaluation is printed first and the new model only replaces the current one if it is
    not worse (grouped CV on the shared data within CV_TOLERANCE, and on the feedback rows), unless `force`.
    """
    if folds == 1 or folds < 0:
        raise InvalidInput("交叉验证折数必须为 0（不验证）或不少于 2", code="invalid-folds")
    feedback = feedback_rows(session) if session is not None else []
    if session is not None and not feedback:
        raise InvalidInput("数据库中还没有派单员确认的分类，无法增量训练", code="dispatch-feedback-empty")
    from hotline.dispatch import model as models

    with _training_lock():
        return _train_locked(
            data_dir=data_dir, params=models.Params(seed=seed), folds=folds, feedback=feedback, force=force, echo=echo
        )


def _train_locked(
    *,
    data_dir: Path | None,
    params: models.Params | None,
    folds: int,
    feedback: list[tuple[str, str, str]],
    force: bool,
    echo: Echo | None = None,
) -> TrainReport:
    # scikit-learn is imported only to train (about a second): predicting uses the saved arrays alone.
    from hotline.dispatch import model as models

    params = params or models.Params()
    say: Echo = echo or (lambda _line: None)
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        say(line)

    source_dir = data_dir or corpora.default_data_dir()
    corpus = corpora.load_shared(source_dir)
    if feedback:
        corpus = corpora.with_feedback(corpus, [(text, label) for _, text, label in feedback])
    out(f"训练数据：{source_dir}（{len(corpus)} 条，其中派单员反馈 {len(feedback)} 条）")

    metadata: dict[str, Any] = {
        "data_dir": str(source_dir),
        "data_hash": corpus.data_hash,
        "params": params.as_dict(),
        "rows": len(corpus),
        "feedback_ids": [fid for fid, _, _ in feedback],
        "labels": list(CATEGORIES),
    }
    cv: dict[str, Any] | None = None
    if folds:
        corpora.grouped(corpus)
        out(f"{folds} 折分组交叉验证（近重复消息同折）…")
        cv, _ = models.cross_validate(corpus, params, folds)
        metadata["groups"] = len(set(corpus.groups.tolist()))
        out(f"新模型 交叉验证：全部 {_fmt(cv['all'])}")
        for key, name in ((corpora.SEG, "分词文本"), (corpora.RAW, "原始文本"), (corpora.FEEDBACK, "派单员反馈")):
            if key in cv:
                out(f"    {name}：{_fmt(cv[key])}")
    metadata["cv"] = cv

    started = time.perf_counter()
    clf = models.fit(corpus, params)
    metadata["train_seconds"] = round(time.perf_counter() - started, 1)
    created = datetime.now(UTC)
    version = f"{created:%Y%m%dT%H%M%S%fZ}-{corpus.data_hash[:8]}-s{params.seed}"
    metadata["version"] = version
    metadata["created_at"] = created.isoformat()
    clf.metadata = metadata

    previous = current_version()
    if previous is not None and feedback and not force:
        verdict = _compare(_load(previous), cv, feedback, out)
        if verdict is not None:
            out(f"新模型不如当前模型（{verdict}），未替换当前模型 {previous}；如确需替换请加 --force")
            return TrainReport(None, False, metadata, lines)

    _publish(clf, version)
    out(f"已生成派单模型 {version}（训练 {metadata['train_seconds']} 秒），位于 {models_root() / version}")
    return TrainReport(version, True, metadata, lines)


def _compare(
    old: predictors.Predictor,
    cv: dict[str, Any] | None,
    feedback: list[tuple[str, str, str]],
    out: Echo,
) -> str | None:
    """Evaluation of old versus new on the same footing; returns why the new one is worse, or None."""
    seen = set(old.metadata.get("feedback_ids") or [])
    unseen = [(t, label) for fid, t, label in feedback if fid not in seen]
    old_scores = old.metadata.get("cv") or {}
    old_cv = old_scores.get("shared") or old_scores.get("all")
    reasons: list[str] = []
    if cv is None:
        out("未做交叉验证，无法与当前模型比较")
        return "缺少交叉验证结果"
    if old_cv is not None:
        shared_new = cv.get("shared") or cv["all"]
        out(f"当前模型 交叉验证（共享数据）：{_fmt(old_cv)}；新模型：{_fmt(shared_new)}")
        if shared_new["macro_f1"] < old_cv["macro_f1"] - CV_TOLERANCE:
            reasons.append("共享数据交叉验证 macro-F1 下降")
    if unseen:
        texts = [textprep.prepare(t) for t, _ in unseen]
        predicted = [old.labels[int(i)] for i in old.probabilities(texts).argmax(axis=1)]
        from hotline.dispatch import model as models

        old_fb = models.scores([label for _, label in unseen], predicted)
        new_fb = cv.get(corpora.FEEDBACK)
        out(f"当前模型 在其未见过的派单员反馈上：{_fmt(old_fb)}；新模型（交叉验证）：{_fmt(new_fb)}")
        if new_fb is not None and new_fb["accuracy"] < old_fb["accuracy"]:
            reasons.append("派单员反馈上的准确率下降")
    return "；".join(reasons) or None


def _publish(clf: models.Classifier, version: str) -> None:
    root = models_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        clf.compile().save(staging)
        staging.rename(root / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer = root / f".{CURRENT}.tmp"
    pointer.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer, root / CURRENT)


# --- prediction of a file ------------------------------------------------------------------------------


def predict_file(
    input_path: Path,
    output_path: Path,
    *,
    text_column: str = "text",
    threshold: float | None = None,
    echo: Echo | None = None,
) -> int:
    """Write `output_path`: every input row in order with `label`, `confidence` and `manual` added.

    Input columns named like the added ones are replaced. Returns the number of rows.
    """
    if not input_path.is_file():
        raise InvalidInput(f"找不到输入文件：{input_path}", code="input-not-found")
    text = textfile.decode(input_path.read_bytes())
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = list(reader.fieldnames or [])
        if text_column not in fields:
            raise InvalidInput(
                f"输入文件缺少文本列 {text_column}（现有列：{'、'.join(fields) or '无'}）",
                code="column-missing",
                column=text_column,
            )
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"输入文件不是有效的 CSV：{exc}", code="input-invalid") from exc
    suggestions = classify([r.get(text_column) or "" for r in rows], threshold=threshold, echo=echo)
    added = ["label", "confidence", "manual"]
    out_fields = [f for f in fields if f not in added] + added
    output_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".predict-", suffix=".csv", dir=output_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=out_fields, extrasaction="ignore")
            writer.writeheader()
            for row, s in zip(rows, suggestions, strict=True):
                row = {k: v for k, v in row.items() if k is not None}
                row.update(label=s.category, confidence=f"{s.confidence:.4f}", manual="是" if s.manual else "否")
                writer.writerow(row)
        os.replace(tmp, output_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)


# --- advice at order creation --------------------------------------------------------------------------


def _workorders() -> Any:
    try:
        from hotline.workorders import service as wo
    except ImportError:
        return None
    return wo


def _unit(session: Session, category: str, region_code: str | None, line: str | None) -> dict[str, Any] | None:
    wo = _workorders()
    lookup = getattr(wo, "lookup_dispatch_catalogue", None)
    if lookup is None or not region_code:
        return None
    unit = lookup(session, category, region_code, line or None)
    if unit is None:
        return None
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": getattr(unit, "kind", ""),
        "region_code": getattr(unit, "region_code", ""),
    }


_scorer: SimilarityScorer | None = None
_scorer_lock = threading.Lock()


def _repeat_scorer(weights: Weights) -> SimilarityScorer:
    """Open orders are compared with every new demand: their features are kept between calls, by one scorer
    per model (a new model's weights start a new cache)."""
    global _scorer
    with _scorer_lock:
        if _scorer is None or _scorer.weights is not weights:
            _scorer = SimilarityScorer(textprep.tokens, weights)
        return _scorer


class _OpenOrders:
    """The open orders each city's last demand was compared with, as `OpenOrder`s, by (number, payload_hash).

    An order's content, time, caller, place and region never change after 受理: a demand reads only the numbers
    (and hashes) of its city's open orders, and the rest of the orders not seen before. Each city keeps
    the orders of its latest listing (the closed ones go); the hash tells a number used again, in a database
    emptied and filled anew, from the order kept. Orders without a hash are read every time.
    """

    def __init__(self) -> None:
        # city -> number -> order, and number -> payload_hash (strings only: no work for the garbage collector)
        self._cities: dict[str | None, tuple[dict[str, OpenOrder], dict[str, str]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(orders) for orders, _digests in self._cities.values())

    def candidates(self, session: Session, wo: Any, city: str | None, rows: Sequence[Any]) -> list[OpenOrder]:
        """The `OpenOrder` of each of ROWS (`list_open_order_keys`' (number, payload_hash) pairs of CITY's orders),
        in their order."""
        if not rows:
            return []
        # Not zip(*rows): that holds an iterator per row at once, tens of thousands for the garbage collector.
        numbers, digests = list(map(itemgetter(0), rows)), list(map(itemgetter(1), rows))
        with self._lock:
            known, known_digests = self._cities.get(city, ({}, {}))
        found = [
            order if order is not None and known_digests[number] == digest else None
            for number, digest, order in zip(numbers, digests, map(known.get, numbers), strict=True)
        ]
        missing = [number for number, order in zip(numbers, found, strict=True) if order is None]
        if missing:
            read = {row[0]: _candidate(row) for row in wo.list_orders_by_number(session, missing)}
            found = [order or read[number] for number, order in zip(numbers, found, strict=True)]
        if missing or len(known) != len(numbers):
            kept = [(n, d, o) for n, d, o in zip(numbers, digests, found, strict=True) if d is not None]
            with self._lock:
                self._cities[city] = ({n: o for n, _d, o in kept}, {n: d for n, d, _o in kept})  # type: ignore[misc]
        return cast("list[OpenOrder]", found)


_open = _OpenOrders()


def _open_orders(session: Session, since: datetime, city: str | None) -> list[OpenOrder] | None:
    """Open lead orders of CITY (the whole province's when None) taken since SINCE, oldest first; None without a
    work-order service."""
    wo = _workorders()
    if getattr(wo, "list_open_order_keys", None) is None:
        return None
    return _open.candidates(session, wo, city, wo.list_open_order_keys(session, since=since, region_code=city))


def _candidate(row: Any) -> OpenOrder:
    # Unpacked by position (`list_orders_by_number`'s documented columns): faster than by name.
    number, _digest, content, created_at, phone, place, region_code, _state, _category = row
    return OpenOrder(number, content or "", created_at, phone or None, place or None, region_code)


def _proposal(match: RepeatMatch, row: Any) -> dict[str, Any]:
    """A 并单 proposal as the API and pages show it (made only for the few matches, not every candidate)."""
    order = match.order
    return {
        **match.as_dict(),
        "number": order.order_id,
        "state": str(row.state),
        "category": str(row.category or ""),
        "region_code": str(order.region_code),
        "place": order.place or "",
        "excerpt": order.text[:40] + ("…" if len(order.text) > 40 else ""),
    }


def advise(
    session: Session,
    *,
    text: str,
    region_code: str | None,
    line: str | None = None,
    phone: str | None = None,
    place: str | None = None,
    at: datetime | None = None,
    threshold: float | None = None,
    rule: RepeatRule | None = None,
    exclude: str | None = None,
) -> dict[str, Any]:
    """Category (calibrated confidence, top 3, manual flag), suggested lead unit, and 并单 candidates.

    Read-only: safe inside the caller's transaction. `at` is the demand's instant (default now).
    """
    if not text or not text.strip():
        raise InvalidInput("诉求内容不能为空", code="text-empty")
    if at is not None and at.tzinfo is None:
        raise InvalidInput("时间必须带时区", code="invalid-time")
    code = None
    if region_code and region_code.strip():
        from hotline.plan.regions import find_region

        # A county's six-digit code is taken as is (the catalogue falls back to its 市（州）); names are looked up.
        raw_code = region_code.strip()
        code = raw_code if raw_code.isdigit() and len(raw_code) == 6 else find_region(raw_code).code
    instant = to_utc(at) if at is not None else now()
    rule = rule or RepeatRule()
    suggestion = classify([text], threshold=threshold)[0]
    weights = classifier().weights()
    result: dict[str, Any] = suggestion.as_dict()
    result["unit"] = _unit(session, suggestion.category, code, line)
    notes: list[str] = []
    city = None if not code else code[:4] + "00"
    candidates = _open_orders(session, instant - timedelta(days=rule.window_days), city)
    if candidates is None:
        notes.append("工单服务未提供在办工单查询，未检查重复诉求")
        candidates = []
    demand = Demand(text=text, at=instant, phone=phone, place=place, region_code=code)
    scorer = partial(_repeat_scorer(weights), group=city)  # a city's demands meet only its own orders
    found = find_repeats(demand, candidates, rule, exclude=exclude, scorer=scorer)
    # The proposals' state and category as they are now (the candidates' listing reads neither).
    proposed = [m.order.order_id for m in found]
    rows = {r.number: r for r in _workorders().list_orders_by_number(session, proposed)} if proposed else {}
    result["repeats"] = [_proposal(m, rows[m.order.order_id]) for m in found]
    result["model_version"] = current_version()
    result["notes"] = notes
    return result


# --- feedback from dispatchers -------------------------------------------------------------------------


def record_feedback(
    session: Session,
    *,
    text: str,
    category: str,
    actor: str,
    at: datetime | None = None,
    order_id: int | str | None = None,
    suggested: str = "",
) -> int:
    """Record the first-level category a dispatcher finally chose for a demand; returns the row id."""
    category = category.strip().split("/")[0].split(">")[0].strip()
    if category not in CATEGORIES:
        raise InvalidInput(f"未知的一级分类：{category}（可选：{'、'.join(CATEGORIES)}）", code="category-unknown")
    if not text or not text.strip():
        raise InvalidInput("诉求内容不能为空", code="text-empty")
    if not actor or not actor.strip():
        raise InvalidInput("必须注明派单员", code="actor-missing")
    if at is not None and at.tzinfo is None:
        raise InvalidInput("时间必须带时区", code="invalid-time")
    row = DispatchFeedback(
        text=text.strip(),
        category=category,
        suggested=suggested or "",
        actor=actor.strip()[:64],
        order_id="" if order_id is None else str(order_id),
        recorded_at=at or now(),
    )
    session.add(row)
    session.flush()
    return int(row.id)
