"""Use cases of telephony: the proxy's routing lookup, call records, transfers, voice notices."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from sqlalchemy import ColumnElement, Select, and_, case, delete, exists, func, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from hotline.db import session_scope
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.nuisance import service as nuisance
from hotline.nuisance.domain import Treatment
from hotline.nuisance.domain import screen as screen_answer
from hotline.plan.domain import Mode
from hotline.plan.regions import PROVINCE, find_region, region_name
from hotline.plan.service import REVISION_COLUMNS as PLAN_REVISION
from hotline.plan.service import effective_date, get_line, list_lines
from hotline.privacy import mask_phone
from hotline.routing.service import decide_with_bound, transfer_available
from hotline.settings import Settings, get_settings
from hotline.telephony import audio, callbacks
from hotline.telephony.domain import (
    DECISION_LABELS,
    EVENT_LABELS,
    NUISANCE_PROMPTS,
    OUTCOME_LABELS,
    POLICE_NUMBER,
    PROMPT_KIND_LABELS,
    TO_AGENTS,
    CallEventType,
    CallFacts,
    CallOutcome,
    EventRecord,
    FactFlags,
    Kpis,
    LineCalls,
    PromptId,
    PromptKind,
    ProxyAnswer,
    Target,
    TransferKind,
    answer_from_dict,
    audio_key,
    cache_seconds,
    call_facts,
    call_flags,
    call_outcome,
    check_endpoint_pattern,
    check_uri_template,
    describe_target,
    event_note,
    notice_text,
    parse_event_type,
    parse_outcome,
    parse_prompt_id,
    parse_target,
    proxy_answer,
    resolve_endpoint,
    seconds_between,
    tally_kpis,
    tally_lines,
    upload_key,
)
from hotline.telephony.store import CallDecision, CallEvent, Endpoint, Prompt, Trunk
from hotline.timeutil import china, now, parse_instant

log = logging.getLogger("hotline.telephony")

# ------------------------------------------------------------------------------------------------
# Trunks and endpoints (configuration kept in the database, changed by an administrator)


def set_trunk(session: Session, trunk: str, region: str, note: str = "") -> dict[str, str]:
    _config_changed()
    trunk = trunk.strip()
    if not trunk or len(trunk) > 128:
        raise InvalidInput("中继名称不能为空且不超过 128 个字符", code="invalid-trunk")
    code = find_region(region).code
    row = session.get(Trunk, trunk)
    if row is None:
        row = Trunk(trunk=trunk, region_code=code, note=note, updated_at=now())
        session.add(row)
    else:
        row.region_code, row.note, row.updated_at = code, note, now()
    session.flush()
    return _trunk_dict(row)


def delete_trunk(session: Session, trunk: str) -> None:
    _config_changed()
    row = session.get(Trunk, trunk)
    if row is None:
        raise NotFound(f"未配置中继：{trunk}", code="trunk-not-found")
    session.delete(row)


def list_trunks(session: Session) -> list[dict[str, str]]:
    return [_trunk_dict(r) for r in session.scalars(select(Trunk).order_by(Trunk.trunk))]


def _trunk_dict(row: Trunk) -> dict[str, str]:
    return {
        "trunk": row.trunk,
        "region_code": row.region_code,
        "region": find_region(row.region_code).name,
        "note": row.note,
    }


def region_for_trunk(session: Session, trunk: str) -> str:
    """The region whose calls arrive on TRUNK: the configured mapping, else a trunk named by a region code
    or name (tgrp=510100), else the provincial centre."""
    trunk = trunk.strip()
    if trunk:
        known = trunk_map(session).get(trunk)
        if known is not None:
            return known
        try:
            return find_region(trunk).code
        except NotFound:
            pass
    return PROVINCE.code


def set_endpoint(session: Session, pattern: str, uri: str) -> dict[str, str]:
    _config_changed()
    pattern = check_endpoint_pattern(pattern)
    uri = check_uri_template(uri)
    row = session.get(Endpoint, pattern)
    if row is None:
        row = Endpoint(pattern=pattern, uri_template=uri, updated_at=now())
        session.add(row)
    else:
        row.uri_template, row.updated_at = uri, now()
    session.flush()
    return {"pattern": row.pattern, "uri": row.uri_template}


def delete_endpoint(session: Session, pattern: str) -> None:
    _config_changed()
    row = session.get(Endpoint, pattern)
    if row is None:
        raise NotFound(f"未配置目标：{pattern}", code="endpoint-not-found")
    session.delete(row)


def list_endpoints(session: Session) -> list[dict[str, str]]:
    return [
        {"pattern": r.pattern, "uri": r.uri_template}
        for r in session.scalars(select(Endpoint).order_by(Endpoint.pattern))
    ]


# The lookup reads trunks and endpoints on every call: they are cached per database for a few seconds
# (a change made through this process is seen at once; one made elsewhere within CONFIG_TTL seconds).
CONFIG_TTL = 5.0
_config_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}


def _cached(session: Session, kind: str, load: Callable[[], dict[str, str]]) -> dict[str, str]:
    key = (str(session.get_bind().engine.url), kind)
    hit = _config_cache.get(key)
    clock = time.monotonic()
    if hit is not None and hit[0] > clock:
        return hit[1]
    value = load()
    _config_cache[key] = (clock + CONFIG_TTL, value)
    return value


def _config_changed() -> None:
    _config_cache.clear()
    _memo.clear()


def endpoint_map(session: Session) -> dict[str, str]:
    return _cached(session, "endpoints", lambda: {r.pattern: r.uri_template for r in session.scalars(select(Endpoint))})


def trunk_map(session: Session) -> dict[str, str]:
    return _cached(session, "trunks", lambda: {r.trunk: r.region_code for r in session.scalars(select(Trunk))})


# ------------------------------------------------------------------------------------------------
# The proxy's lookup


@dataclass(frozen=True)
class RoutedCall:
    answer: ProxyAnswer
    call_id: str
    caller: str
    trunk: str
    decided_for: datetime
    decided_at: datetime
    valid_until: datetime | None = None  # the next instant the decision may change (None: not with this plan)
    cached: bool = False  # served by the proxy from its cache, reported afterwards

    @property
    def ttl(self) -> int:
        """Whole seconds the proxy may keep this answer (domain.cache_seconds); never a screened one (骚扰号码名单):
        it is this caller's alone."""
        if self.answer.screened:
            return 0
        return cache_seconds(self.valid_until, self.decided_for)


def lookup_settings() -> Settings:
    """Settings for the per-call path, read again only when one of the environment variables changes
    (`get_settings()` resolves the data folder on the file system each time: too slow per call)."""
    return _settings_for(*(os.environ.get(name) for name in _LOOKUP_ENV))


_LOOKUP_ENV = ("HOTLINE_DATABASE_URL", "HOTLINE_DATA_DIR", "HOTLINE_ALLOW_TIME_OVERRIDE", "HOTLINE_PLAN_YEAR")


@lru_cache(maxsize=8)
def _settings_for(*_env: str | None) -> Settings:
    return get_settings()


def decision_instant(at: str | None) -> datetime:
    """Now, or the instant a test names: honoured only when HOTLINE_ALLOW_TIME_OVERRIDE is set."""
    if at and at.strip() and lookup_settings().allow_time_override:
        return parse_instant(at)
    return now()


def route_call(
    session: Session,
    dialed: str,
    caller: str,
    trunk: str,
    call_id: str,
    at: str | None,
    instant: datetime | None = None,
    *,
    screen: bool = True,
) -> RoutedCall:
    """What the proxy does with a new call, the caller screened against the 骚扰号码名单 unless SCREEN is false
    (`screened`). Raises (and the proxy falls back to the 12345 queue) only when the platform cannot decide: bad
    input or a target without a configured SIP address."""
    dialed = dialed.strip()
    if not dialed.isdigit():
        raise InvalidInput(f"被叫号码不正确：{dialed!r}", code="invalid-number")
    instant = instant or decision_instant(at)
    region = region_for_trunk(session, trunk)
    decision, until = decide_with_bound(session, dialed, region, instant)
    emergency = False
    if decision.action.value == "reject":
        try:
            emergency = get_line(session, dialed).mode is Mode.EMERGENCY
        except NotFound:
            emergency = False
    try:
        answer = proxy_answer(decision, dialed, region, endpoint_map(session), emergency=emergency)
    except NotFound:
        log.warning("call %s to %s: %s has no SIP address configured", call_id, dialed, decision.target)
        raise
    log.info(
        "call %s to %s via %s (region %s) at %s: %s %s prompt=%s skill=%s",
        call_id,
        dialed,
        trunk,
        region,
        instant.isoformat(),
        answer.action,
        answer.target or answer.code,
        answer.prompt,
        answer.skill,
    )
    routed = RoutedCall(answer, call_id.strip(), caller.strip(), trunk.strip(), instant, now(), until)
    return screened(routed, _session_url(session), session) if screen else routed


def _session_url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def screened(routed: RoutedCall, url: str, session: Session | None = None) -> RoutedCall:
    """ROUTED as its caller gets it: a call for the 12345 seats from a number on the 骚扰号码名单 in force at the
    instant decided for is screened (`nuisance.domain.screen`: the warning and the 骚扰专席, or the notice and
    release; ttl 0). The list is this process's copy (`nuisance.service.treatment_for`): no query per call. A
    release where no announcement server is configured falls back to the warning."""
    if routed.answer.decision != "queue" or not routed.caller:
        return routed
    treatment = nuisance.treatment_for(routed.caller, routed.decided_for, url=url)
    if treatment is None:
        return routed
    endpoints: dict[str, str] = {}
    if treatment is Treatment.RELEASE:
        if session is not None:
            endpoints = endpoint_map(session)
        else:
            with session_scope(url) as fresh:
                endpoints = endpoint_map(fresh)
    try:
        answer = screen_answer(routed.answer, treatment, endpoints)
    except NotFound:
        log.warning("call %s: no announcement server for %s, the listed caller is warned instead", routed.call_id,
                    routed.answer.region)  # fmt: skip
        answer = screen_answer(routed.answer, Treatment.WARN, endpoints)
    log.info("call %s from a listed caller: %s (%s %s prompt=%s)", routed.call_id, answer.screened, answer.action,
             answer.target, answer.prompt)  # fmt: skip
    return replace(routed, answer=answer)


# Decisions for the same number, trunk and second are the same (plan dates and service hours change at
# whole seconds at most): the lookup answers repeats from memory for MEMO_TTL seconds without opening a
# database session: the same bound on staleness as the plan snapshot's (a change is seen within 0.5 s).
MEMO_TTL = 0.5
_memo: dict[tuple[str, str, str, int], tuple[float, ProxyAnswer, datetime | None]] = {}


def lookup(dialed: str, caller: str, trunk: str, call_id: str, at: str | None) -> RoutedCall:
    """The proxy's lookup as one unit of work: `route_call` in its own session, or a fresh memo of it; then the
    caller screened against the 骚扰号码名单 (`screened`: the memo stays the same for every caller)."""
    settings = lookup_settings()
    instant = decision_instant(at)
    url = settings.database_url
    key = (url, dialed.strip(), trunk.strip(), int(instant.timestamp()))
    clock = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and hit[0] > clock:
        answer, until = hit[1], hit[2]
        log.info(
            "call %s to %s via %s (region %s) at %s: %s %s prompt=%s skill=%s (same as a moment ago)",
            call_id,
            answer.dialed,
            trunk,
            answer.region,
            instant.isoformat(),
            answer.action,
            answer.target or answer.code,
            answer.prompt,
            answer.skill,
        )
        return screened(RoutedCall(answer, call_id.strip(), caller.strip(), trunk.strip(), instant, now(), until), url)
    with session_scope(url) as session:
        routed = route_call(session, dialed, caller, trunk, call_id, at, instant=instant, screen=False)
    if len(_memo) > 10_000:
        _memo.clear()
    # Kept as any caller gets it (the key has no caller): the screening is applied after, per call.
    _memo[key] = (clock + MEMO_TTL, routed.answer, routed.valid_until)
    return screened(routed, url)


def record_decisions(session: Session, batch: list[RoutedCall]) -> None:
    """Keep many decisions in one statement (the recorder's batches): insert, or update on the same Call-ID."""
    rows = [_decision_row(routed) for routed in batch if routed.call_id]
    if not rows:
        return
    if session.get_bind().dialect.name not in ("sqlite", "postgresql"):
        for routed in batch:
            record_decision(session, routed)
        return
    store_decision_rows(session, rows)


# The columns of a stored decision, in the order of the rows `store_decision_rows` takes. Rows are plain
# tuples (one per call, built with as little Python as possible: a proxy reports thousands a second).
DECISION_COLUMNS = (
    "call_id",
    "dialed",
    "caller",
    "trunk",
    "region_code",
    "decision",
    "proxy_action",
    "target",
    "uri",
    "prompt",
    "skill",
    "sip_code",
    "reason",
    "decided_for",
    "decided_at",
    "cached",
)
_FOR, _AT = DECISION_COLUMNS.index("decided_for"), DECISION_COLUMNS.index("decided_at")


def _answer_columns(a: ProxyAnswer) -> tuple[Any, ...]:
    """The columns that come from the answer: region_code .. reason (dialed is the row's second column)."""
    return (a.region, a.decision, a.action, a.target, a.uri, a.prompt, a.skill, a.code, a.reason)


def _decision_row(routed: RoutedCall) -> tuple[Any, ...]:
    a = routed.answer
    return (
        routed.call_id[:255],
        a.dialed,
        routed.caller[:64],
        routed.trunk[:128],
        *_answer_columns(a),
        routed.decided_for,
        routed.decided_at,
        routed.cached,
    )


def store_decision_rows(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert decisions, or update the one stored for the same Call-ID (last wins): idempotent by Call-ID.

    SQLite: one prepared INSERT … ON CONFLICT run for every row by the driver (executemany), instants as
    the text SQLAlchemy stores them. PostgreSQL: one statement for the whole batch (INSERT … SELECT FROM
    unnest of one array per column), duplicates within the batch resolved first (last wins).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        params = []
        for row in rows:
            at = _sqlite_instant(row[_AT])
            params.append(
                (*row[:_FOR], at if row[_FOR] is row[_AT] else _sqlite_instant(row[_FOR]), at, *row[_AT + 1 :])
            )
        connection.exec_driver_sql(_SQLITE_UPSERT, params)
    else:
        unique = list({row[0]: row for row in rows}.values())
        connection.exec_driver_sql(_POSTGRESQL_UPSERT, tuple(list(column) for column in zip(*unique, strict=True)))
    # A call's events may have come first (a decision the proxy served from its cache is reported afterwards): the
    # caller now known, its missed call is to be called back, or its answer closes the number's callback task.
    callbacks.follow_calls(session, [row[0] for row in rows])


def _sqlite_instant(value: datetime) -> str:
    """An instant as SQLAlchemy keeps it in SQLite (UTCDateTime: UTC, no offset, microseconds)."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]  # without the "+00:00"


_UPDATE = ", ".join(f"{name} = excluded.{name}" for name in DECISION_COLUMNS[1:])
_SQLITE_UPSERT = (
    f"INSERT INTO telephony_call ({', '.join(DECISION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in DECISION_COLUMNS)}) ON CONFLICT (call_id) DO UPDATE SET {_UPDATE}"
)
_PG_TYPES = {"sip_code": "integer", "decided_for": "timestamptz", "decided_at": "timestamptz", "cached": "boolean"}
_POSTGRESQL_UPSERT = (
    f"INSERT INTO telephony_call ({', '.join(DECISION_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%s::{_PG_TYPES.get(name, 'text')}[]" for name in DECISION_COLUMNS)
    + f") ON CONFLICT (call_id) DO UPDATE SET {_UPDATE}"
)


def record_decision(session: Session, routed: RoutedCall) -> None:
    """Keep the decision with the call (last one wins if the same Call-ID is routed again)."""
    if not routed.call_id:
        return
    values = dict(zip(DECISION_COLUMNS[1:], _decision_row(routed)[1:], strict=True))
    row = session.get(CallDecision, routed.call_id[:255])
    if row is None:
        try:
            with session.begin_nested():
                session.add(CallDecision(call_id=routed.call_id[:255], **values))
        except IntegrityError:
            row = session.get(CallDecision, routed.call_id[:255])
    if row is not None:
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
    callbacks.follow_calls(session, [routed.call_id[:255]])  # as `store_decision_rows`


# ------------------------------------------------------------------------------------------------
# Decisions the proxy served from its cache, reported afterwards (POST /telephony/decisions)

MAX_REPORTED = 5000


def _instant(value: object, name: str) -> datetime:
    """An instant as the proxy reports it: Unix seconds (number or text, e.g. Kamailio's $TV(Sn)) or ISO 8601."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except ValueError:
            return parse_instant(text)
    raise InvalidInput(f"{name} 应为时间（Unix 秒数或 ISO 8601）", code="invalid-instant")


def reported_call(item: dict[str, Any], answers: dict[Any, ProxyAnswer] | None = None) -> RoutedCall:
    """One decision the proxy served from its cache: {call_id, dialed, caller, trunk, at, for, decision}.

    `at` is when the proxy served it; `for` the instant it was decided for when a test named one (honoured
    only with HOTLINE_ALLOW_TIME_OVERRIDE, like the lookup's); `decision` the answer the proxy acted on."""
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > 255:
        raise InvalidInput("呼叫标识（call_id）不能为空且不超过 255 个字符", code="invalid-call-id")
    decision = item.get("decision")
    if not isinstance(decision, dict):
        raise InvalidInput("缺少路由结果（decision）", code="invalid-decision")
    try:
        key: Any = tuple(decision.items())
        answer = answers[key] if answers is not None and key in answers else None
    except TypeError:  # a value that is not hashable: not a well-formed answer anyway
        key, answer = None, None
    if answer is None:
        answer = answer_from_dict(decision)
        if answers is not None and key is not None:
            answers[key] = answer
    served = _instant(item.get("at"), "at")
    named = item.get("for")
    decided_for = served
    if isinstance(named, str) and named.strip() and lookup_settings().allow_time_override:
        decided_for = parse_instant(named)
    return RoutedCall(
        answer,
        call_id.strip(),
        str(item.get("caller") or "").strip(),
        str(item.get("trunk") or "").strip(),
        decided_for,
        served,
        cached=True,
    )


def record_reported(session: Session, items: list[dict[str, Any]]) -> int:
    """Keep the decisions a proxy served from its cache, like the lookup's (idempotent by Call-ID: a batch
    sent again changes nothing). The whole batch is checked first: one bad item refuses it."""
    if len(items) > MAX_REPORTED:
        raise InvalidInput(f"一次最多报告 {MAX_REPORTED} 条路由结果", code="too-many-decisions")
    answers: dict[Any, ProxyAnswer] = {}  # a batch repeats a few answers many times: check each once
    batch = [reported_call(item, answers) for item in items]
    for routed in batch if log.isEnabledFor(logging.INFO) else ():
        log.info(
            "call %s to %s via %s (region %s) at %s: %s %s prompt=%s skill=%s (proxy cache)",
            routed.call_id,
            routed.answer.dialed,
            routed.trunk,
            routed.answer.region,
            routed.decided_for.isoformat(),
            routed.answer.action,
            routed.answer.target or routed.answer.code,
            routed.answer.prompt,
            routed.answer.skill,
        )
    record_decisions(session, batch)
    return len(batch)


REPORT_FIELDS = 6  # call_id, served, caller, trunk, for, answer: one line per call, tab-separated


def record_reported_lines(session: Session, body: str) -> tuple[int, list[str]]:
    """Keep the decisions a proxy served from its cache, sent in the compact line format (what the shipped
    Kamailio posts): one call per line,

        call_id TAB served TAB caller TAB trunk TAB for TAB answer

    `served` is Unix seconds (Kamailio's $TV(Sn)); `for` the instant a test named (honoured only with
    HOTLINE_ALLOW_TIME_OVERRIDE), else empty; `answer` the JSON the lookup gave, as the proxy kept it (the
    last field: taken as is). The other fields are percent-encoded when they hold a tab, a line break or a
    `%`. Each distinct answer is parsed and checked once per batch. Stored like the lookup's decisions,
    marked cached, idempotent by Call-ID. A line that is not a well-formed decision is refused alone (it
    is logged and returned); the others are stored. Returns (stored, refused lines).
    """
    answers: dict[str, tuple[Any, ...] | None] = {}
    override = lookup_settings().allow_time_override
    from_timestamp = datetime.fromtimestamp
    rows: list[tuple[Any, ...]] = []
    refused: list[str] = []
    for line in body.split("\n"):
        if not line:
            continue
        fields = line.split("\t", REPORT_FIELDS - 1)
        try:
            call_id, served, caller, trunk, named, answer_text = fields
            if "%" in call_id or "%" in caller or "%" in trunk or "%" in named:
                call_id, caller, trunk, named = unquote(call_id), unquote(caller), unquote(trunk), unquote(named)
            if not call_id or len(call_id) > 255:
                raise ValueError("call_id")
            columns = answers.get(answer_text, ())
            if columns == ():
                columns = answers[answer_text] = _reported_answer(answer_text)
            if columns is None:
                raise ValueError("answer")
            at = from_timestamp(float(served), UTC)
            decided_for = parse_instant(named) if named and override else at
        except (ValueError, InvalidInput):  # also a wrong number of fields, a bad instant
            refused.append(line)
            continue
        rows.append((call_id, columns[0], caller[:64], trunk[:128], *columns[1:], decided_for, at, True))
    for line in refused:
        log.warning("refused a reported decision (not a well-formed line): %r", line[:500])
    if log.isEnabledFor(logging.INFO):
        for row in rows:
            log.info(
                "call %s to %s via %s (region %s) at %s: %s %s prompt=%s skill=%s (proxy cache)",
                row[0],
                row[1],
                row[3],
                row[4],
                row[13].isoformat(),
                row[6],
                row[7] or row[11],
                row[9],
                row[10],
            )
    if rows:
        store_decision_rows(session, rows)
    return len(rows), refused


def _reported_answer(text: str) -> tuple[Any, ...] | None:
    """(dialed, region_code .. reason) of a reported answer, or None if it is not one the lookup gives."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            return None
        answer = answer_from_dict(data)
    except (ValueError, InvalidInput):
        return None
    return (answer.dialed, *_answer_columns(answer))


_CONFIG_COLUMNS = tuple(
    column
    for table in (Trunk, Endpoint)
    for column in (
        select(func.count()).select_from(table).scalar_subquery(),
        select(func.max(table.updated_at)).scalar_subquery(),
    )
)
_REVISION_QUERY = select(*PLAN_REVISION, *_CONFIG_COLUMNS)
_last_config: dict[str, tuple[Any, ...]] = {}


def routing_revision(session: Session) -> str:
    """A short token that changes whenever what the lookup decides from changes: the plan's revision, the
    calendar overrides, trunks and SIP addresses (one small query), and the 骚扰号码名单 (`nuisance.list_revision`:
    the proxy then reloads the screened callers). The proxy polls it and empties its cache when it changes. A change of trunks or addresses seen here also drops this process's short-lived
    cache of them, so the next lookups use the new ones."""
    row = tuple(session.execute(_REVISION_QUERY).one())
    config = row[-len(_CONFIG_COLUMNS) :]
    url = str(session.get_bind().engine.url)
    if _last_config.get(url) != config:
        if url in _last_config:
            _config_changed()
        _last_config[url] = config
    return hashlib.sha256(repr((row, nuisance.list_revision(session))).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------
# Call events


@dataclass(frozen=True)
class EventResult:
    event: dict[str, Any]
    created: bool


def _event_dict(row: CallEvent) -> dict[str, Any]:
    return {
        "call_id": row.call_id,
        "event": row.event,
        "at": china(row.at).isoformat(),
        "agent": row.agent,
        "data": row.data or {},
    }


def record_event(
    session: Session,
    call_id: str,
    event: str,
    at: datetime | None = None,
    agent: str = "",
    data: dict[str, Any] | None = None,
) -> EventResult:
    """Store one call event; the same (call id, event) again changes nothing and says so (idempotent)."""
    call_id = call_id.strip()
    if not call_id or len(call_id) > 255:
        raise InvalidInput("呼叫标识（Call-ID）不能为空且不超过 255 个字符", code="invalid-call-id")
    kind = parse_event_type(event)
    existing = session.scalar(select(CallEvent).where(CallEvent.call_id == call_id, CallEvent.event == kind.value))
    if existing is not None:
        return EventResult(_event_dict(existing), created=False)
    row = CallEvent(
        call_id=call_id, event=kind.value, at=at or now(), agent=agent.strip()[:64], data=data or {}, received_at=now()
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        again = session.scalar(select(CallEvent).where(CallEvent.call_id == call_id, CallEvent.event == kind.value))
        if again is None:
            raise
        return EventResult(_event_dict(again), created=False)
    if kind in callbacks.FOLLOWED:  # the call may now be missed (漏话回拨), or its caller may have got through
        callbacks.follow_calls(session, [call_id])
    return EventResult(_event_dict(row), created=True)


def _decision_dict(row: CallDecision, *, mask: bool = True) -> dict[str, Any]:
    return {
        "call_id": row.call_id,
        "dialed": row.dialed,
        "caller": mask_phone(row.caller) if mask and row.caller else row.caller,
        "trunk": row.trunk,
        "region_code": row.region_code,
        "region": find_region(row.region_code).name,
        "decision": row.decision,
        "proxy_action": row.proxy_action,
        "target": row.target,
        "uri": row.uri,
        "prompt": row.prompt,
        "skill": row.skill,
        "sip_code": row.sip_code,
        "reason": row.reason,
        "decided_for": china(row.decided_for).isoformat(),
        "decided_at": china(row.decided_at).isoformat(),
        "cached": bool(row.cached),
    }


def get_call(session: Session, call_id: str, *, mask: bool = True) -> dict[str, Any]:
    """The decision made for a call and its events (caller's number masked unless MASK is false)."""
    decision = session.get(CallDecision, call_id)
    events = list(
        session.scalars(select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.at, CallEvent.id))
    )
    if decision is None and not events:
        raise NotFound(f"没有该呼叫的记录：{call_id}", code="call-not-found")
    facts = call_facts(call_id, [EventRecord(CallEventType(e.event), e.at) for e in events])
    return {
        "call_id": call_id,
        "decision": _decision_dict(decision, mask=mask) if decision else None,
        "events": [_event_dict(e) for e in events],
        "facts": _facts_dict(facts),
    }


def list_calls(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    *,
    dialed: str = "",
    region: str = "",
    outcome: str = "",
    offset: int = 0,
    mask: bool = True,
) -> list[dict[str, Any]]:
    """Routing decisions kept, newest first: made in [SINCE, UNTIL), to the number DIALED, for REGION (code or
    name), with OUTCOME (`domain.call_outcome`); the caller's number masked unless MASK is false."""
    if limit < 1 or limit > 1000:
        raise InvalidInput("limit 应在 1 到 1000 之间", code="invalid-limit")
    if offset < 0:
        raise InvalidInput("offset 不能为负数", code="invalid-offset")
    query = _calls_where(select(CallDecision), since, until, dialed, region, outcome)
    query = query.order_by(CallDecision.decided_at.desc(), CallDecision.call_id.desc()).offset(offset).limit(limit)
    return [_decision_dict(r, mask=mask) for r in session.scalars(query)]


def count_calls(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    dialed: str = "",
    region: str = "",
    outcome: str = "",
) -> int:
    """How many decisions `list_calls` selects with the same filters, whatever its limit."""
    query = _calls_where(select(func.count()).select_from(CallDecision), since, until, dialed, region, outcome)
    return int(session.scalar(query) or 0)


_Query = TypeVar("_Query", bound=Select)  # any select of the decisions table


def _calls_where(
    query: _Query, since: datetime | None, until: datetime | None, dialed: str, region: str, outcome: str
) -> _Query:
    if since:
        query = query.where(CallDecision.decided_at >= since)
    if until:
        query = query.where(CallDecision.decided_at < until)
    if dialed.strip():
        query = query.where(CallDecision.dialed == dialed.strip())
    if region.strip():
        query = query.where(CallDecision.region_code == find_region(region).code)
    if outcome.strip():
        query = query.where(_outcome_is(parse_outcome(outcome)))
    return query


def _outcome_is(outcome: CallOutcome) -> ColumnElement[bool]:
    """`domain.call_outcome` as a condition on a kept decision and its events (only `ended` reported is no facts:
    未上报, as `_facts_of` and the day's figures read it)."""

    def has(*kinds: CallEventType) -> ColumnElement[bool]:
        found = exists().where(CallEvent.call_id == CallDecision.call_id)
        return found.where(CallEvent.event.in_([k.value for k in kinds]))

    answered, transferred = has(CallEventType.ANSWERED), has(CallEventType.TRANSFERRED)
    unreported = and_(~has(*_FACT_EVENTS.values()), CallDecision.decision.in_(TO_AGENTS))
    conditions = {
        CallOutcome.TRANSFERRED: transferred,
        CallOutcome.ANSWERED: and_(answered, ~transferred),
        CallOutcome.ABANDONED: and_(has(CallEventType.ABANDONED), ~answered, ~transferred),
        CallOutcome.UNREPORTED: unreported,
        CallOutcome.UNANSWERED: and_(
            ~has(CallEventType.ANSWERED, CallEventType.ABANDONED, CallEventType.TRANSFERRED), ~unreported
        ),
    }
    return conditions[outcome]


def facts_by_call(session: Session, call_ids: Sequence[str]) -> dict[str, CallFacts]:
    """The facts (`call_facts`) of these calls that have events, by call id, read in one query."""
    return {f.call_id: f for f in _facts_of(session, list(call_ids))} if call_ids else {}


def call_records(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    dialed: str = "",
    region: str = "",
    outcome: str = "",
    offset: int = 0,
    limit: int = 50,
    mask: bool = True,
) -> dict[str, Any]:
    """The 话务记录 page's list: how many calls the filters select (`total`) and a page of them (`calls`), newest
    first, each its decision (`list_calls`) told in words with its facts and outcome (`call_view`)."""
    calls = list_calls(
        session, since, until, limit, dialed=dialed, region=region, outcome=outcome, offset=offset, mask=mask
    )
    facts = facts_by_call(session, [c["call_id"] for c in calls])
    lines = _line_names(session)
    return {
        "total": count_calls(session, since, until, dialed=dialed, region=region, outcome=outcome),
        "calls": [call_view(c, facts.get(c["call_id"]), lines) for c in calls],
    }


def call_detail(session: Session, call_id: str, *, mask: bool = True) -> dict[str, Any]:
    """A call as `get_call` gives it, its decision told in words (`view`, as on the list) and each event labelled
    (`label`, `note`). Unknown call: `call-not-found`."""
    call = get_call(session, call_id, mask=mask)
    events = [
        {
            **e,
            "time": _seconds_text(e["at"]),
            "label": EVENT_LABELS[CallEventType(e["event"])],
            "note": event_note(e["event"], e["data"]),
        }
        for e in call["events"]
    ]
    facts = facts_by_call(session, [call_id]).get(call_id)
    view = call_view(call["decision"], facts, _line_names(session)) if call["decision"] else None
    outcome = call_outcome(facts, call["decision"]["decision"] if call["decision"] else None)
    return {**call, "events": events, "view": view, "outcome_label": OUTCOME_LABELS[outcome]}


def _seconds_text(instant: str) -> str:
    """An ISO instant as the dicts here give it (China time) to the second, as people read it."""
    return datetime.fromisoformat(instant).strftime("%Y-%m-%d %H:%M:%S")


def _line_names(session: Session) -> dict[str, str]:
    return {line.number: line.short_name or line.name for line in list_lines(session)}


def call_view(decision: dict[str, Any], facts: CallFacts | None, lines: dict[str, str]) -> dict[str, Any]:
    """A kept decision (`_decision_dict`) in the words a supervisor reads: the line's name, what was done and where
    the call went, the notice played first, how long the caller waited for an agent, and the outcome."""
    target = decision["target"]
    where_region, where_line = decision["region"], ""
    if target:
        try:
            aimed = parse_target(target)
            where_region, where_line = region_name(aimed.region), lines.get(aimed.number or "", "")
        except InvalidInput:
            pass
    try:
        prompt = PROMPT_KIND_LABELS[parse_prompt_id(decision["prompt"]).kind] if decision["prompt"] else ""
    except InvalidInput:
        prompt = decision["prompt"]
    outcome = call_outcome(facts, decision["decision"])
    return {
        **decision,
        "time": _seconds_text(decision["decided_at"]),
        "line_name": lines.get(decision["dialed"], ""),
        "action_label": DECISION_LABELS.get(decision["decision"], decision["decision"]),
        "where": describe_target(target, where_region, where_line, decision["skill"]),
        "prompt_label": prompt,
        "wait_seconds": facts.queue_seconds if facts else None,
        "outcome": outcome.value,
        "outcome_label": OUTCOME_LABELS[outcome],
        # Sent to agents (12345, a line's own seats, a sub-centre): a demand may have been told, or may be on a
        # call back. A refused call or a cancellation notice reached no one.
        "to_agents": decision["decision"] in TO_AGENTS,
    }


def _facts_dict(f: CallFacts) -> dict[str, Any]:
    return {
        "offered_at": china(f.offered_at).isoformat() if f.offered_at else None,
        "requested": f.requested,
        "answered": f.answered,
        "abandoned": f.abandoned,
        "wait_seconds": f.wait_seconds,
        "queue_seconds": f.queue_seconds,
        "transferred": f.transferred,
    }


def calls_facts(session: Session, since: datetime, until: datetime) -> list[CallFacts]:
    """Per-call facts (offered, answered, wait) of the calls offered in [since, until)."""
    return _facts_of(session, _offered_in(since, until))


def _offered_in(since: datetime, until: datetime) -> Select[Any]:
    """The ids of the calls offered in [since, until): those whose `offered` event is in it."""
    if until <= since:
        raise InvalidInput("结束时间必须晚于开始时间", code="invalid-period")
    return select(CallEvent.call_id).where(
        CallEvent.event == CallEventType.OFFERED.value, CallEvent.at >= since, CallEvent.at < until
    )


# The events `call_facts` reads (not `ended`), and each type by its stored value (an enum call per row costs).
_FACT_EVENTS = {e.value: e for e in CallEventType if e is not CallEventType.ENDED}


def _facts_of(session: Session, calls: Select[Any] | list[str]) -> list[CallFacts]:
    """The facts of the CALLS (a query of call ids, or the ids) that have events, by call id.

    Read through the table, not the mapped class: a day's events are tens of thousands of rows, and the ORM's
    handling of each row cost more than the query (bench/telephony.md, 话务记录)."""
    events = CallEvent.__table__.c
    rows = session.connection().execute(
        select(events.call_id, events.event, events.at).where(
            events.call_id.in_(calls), events.event.in_(list(_FACT_EVENTS))
        )
    )
    grouped: dict[str, list[EventRecord]] = {}
    for call_id, event, at in rows:
        grouped.setdefault(call_id, []).append(EventRecord(_FACT_EVENTS[event], at))
    return [call_facts(call_id, events) for call_id, events in sorted(grouped.items())]


# A period's figures (`kpi_report`, `day_report`) count calls by the flags of their facts (`domain.tally_kpis`): the
# database groups each call's events into one row (`_tallied`), the kinds of event it has as one number, a bit
# each (the store keeps one event of each kind per call, so their sum is their union).
_KIND_BITS = {kind: 1 << i for i, kind in enumerate(_FACT_EVENTS.values())}


@lru_cache(maxsize=1 << len(_KIND_BITS))
def _flags(kinds: int) -> FactFlags | None:
    """The flags of a call whose events have these kinds (`_KIND_BITS`); None: none that `call_facts` reads."""
    found = [kind for kind, bit in _KIND_BITS.items() if kinds & bit]
    return call_flags(found) if found else None


def _tallied(calls: Select[Any]) -> Select[Any]:
    """One row per call of CALLS (a query of call ids) that has events: its id, the kinds of event `call_facts`
    reads that it has (`_KIND_BITS`, 0 for none) and the two instants its wait is measured between: `answered_at`
    (None: not answered) and, when answered, `start_at` (queued, else offered; None: neither). The instants come
    as the driver gives them, not through the column's type (SQLite: the text SQLAlchemy stored), which cost more
    than the query on a busy day: `_waits` turns the few it needs into seconds."""
    events = CallEvent.__table__.c

    def first(kind: CallEventType) -> ColumnElement[Any]:
        return func.min(case((events.event == kind.value, events.at)))

    kinds = func.sum(case({kind.value: bit for kind, bit in _KIND_BITS.items()}, value=events.event, else_=0))
    answered = first(CallEventType.ANSWERED)
    start = case((answered.is_not(None), func.coalesce(first(CallEventType.QUEUED), first(CallEventType.OFFERED))))
    return (
        select(
            events.call_id,
            kinds.label("kinds"),
            type_coerce(answered, NullType()).label("answered_at"),
            type_coerce(start, NullType()).label("start_at"),
        )
        .where(events.call_id.in_(calls))
        .group_by(events.call_id)
    )


def _waits(rows: Sequence[Sequence[Any]], label: int) -> list[tuple[Any, float]]:
    """(ROW[LABEL], `wait_seconds`) of each call of ROWS (the call id first, `_tallied`'s instants last) that has a
    wait, in call-id order: the order `compute_kpis` sums them in over `_facts_of`, so the average is the same to
    the last digit."""
    timed = sorted((row for row in rows if row[-1] is not None), key=itemgetter(0))
    read = datetime.fromisoformat if timed and isinstance(timed[0][-1], str) else _as_is
    # `seconds_between` is never None here (both instants are known): `or` only tells mypy so (0.0 stays 0.0).
    return [(row[label], seconds_between(read(row[-1]), read(row[-2])) or 0.0) for row in timed]


def _as_is(value: datetime) -> datetime:
    return value


@dataclass(frozen=True)
class ObservedCall:
    """One call the proxy routed: the number dialled, when, and how long an agent spent on it (answered to
    ended), when both events were reported."""

    dialed: str
    at: datetime
    handle_seconds: float | None


def observed_calls(session: Session, since: datetime, until: datetime, region: str) -> list[ObservedCall]:
    """The calls of REGION the proxy routed in [since, until) (rejected numbers left out): what a call
    forecast is made from (`hotline.staffing`)."""
    routed = _routed(since, until, region)
    calls = session.execute(routed).all()
    times: dict[str, dict[str, datetime]] = {}
    events = select(CallEvent.call_id, CallEvent.event, CallEvent.at).where(
        CallEvent.call_id.in_(routed.with_only_columns(CallDecision.call_id)),
        CallEvent.event.in_((CallEventType.ANSWERED.value, CallEventType.ENDED.value)),
    )
    for call_id, event, at in session.execute(events):  # the same sub-query as `calls_facts` uses
        seen = times.setdefault(call_id, {})
        seen[event] = min(at, seen.get(event, at))
    out = []
    for call_id, dialed, at in calls:
        t = times.get(call_id, {})
        answered, ended = t.get(CallEventType.ANSWERED.value), t.get(CallEventType.ENDED.value)
        handled = (ended - answered).total_seconds() if answered and ended and ended > answered else None
        out.append(ObservedCall(dialed, at, handled))
    return out


def _routed(since: datetime, until: datetime, region: str) -> Select[str, str, datetime]:
    """The calls of REGION the proxy routed in [since, until), rejected numbers left out."""
    if until <= since:
        raise InvalidInput("结束时间必须晚于开始时间", code="invalid-period")
    return select(CallDecision.call_id, CallDecision.dialed, CallDecision.decided_for).where(
        CallDecision.region_code == find_region(region).code,
        CallDecision.decision != "reject",
        CallDecision.decided_for >= since,
        CallDecision.decided_for < until,
    )


def routed_calls_facts(session: Session, since: datetime, until: datetime, region: str) -> list[CallFacts]:
    """Per-call facts (`call_facts`) of the calls `observed_calls` counts: those of REGION the proxy routed in
    [since, until), rejected numbers left out, that have events. Callers' patience is measured from them
    (`hotline.staffing`)."""
    return _facts_of(session, _routed(since, until, region).with_only_columns(CallDecision.call_id))


def kpi_report(session: Session, since: datetime, until: datetime, threshold_seconds: int = 15) -> Kpis:
    """`compute_kpis` of `calls_facts`: the calls offered in [since, until), counted in the database by their
    flags (`_tallied`) rather than made into facts one by one."""
    rows = session.connection().execute(_tallied(_offered_in(since, until))).all()
    counted = Counter(map(itemgetter(1), rows))
    flagged = [(flags, calls) for kinds, calls in counted.items() if (flags := _flags(kinds)) is not None]
    return tally_kpis(flagged, [wait for _, wait in _waits(rows, 0)], threshold_seconds)


@dataclass(frozen=True)
class DayReport:
    """The calls routed in a period: their KPIs (`domain.compute_kpis` over what the call centre reported) and
    the same calls per number dialed (`domain.calls_by_line`), so the figures and the table add up."""

    kpis: Kpis
    lines: list[LineCalls]


def day_report(
    session: Session, since: datetime, until: datetime, *, region: str = "", threshold_seconds: int = 15
) -> DayReport:
    """The calls the proxy routed in [SINCE, UNTIL) (for REGION, code or name): `compute_kpis` of the facts of
    those with events and `calls_by_line` of all, from one query that gives a row per call, its decision and its
    events grouped (`_tallied`), counted here by number dialed, decision and flags (a few dozen kinds of call on
    a busy day of tens of thousands: bench/telephony.md, 话务记录)."""
    decided = _calls_where(select(CallDecision.call_id), since, until, "", region, "")
    table, tallied = CallDecision.__table__, _tallied(decided).subquery()
    query = select(
        table.c.call_id,
        table.c.dialed,
        table.c.decision,
        func.coalesce(tallied.c.kinds, 0),
        tallied.c.answered_at,
        tallied.c.start_at,
    ).select_from(table.outerjoin(tallied, tallied.c.call_id == table.c.call_id))
    rows = session.connection().execute(_calls_where(query, since, until, "", region, "")).all()
    lines: list[tuple[str, str, FactFlags | None, int]] = []
    reported: Counter[FactFlags] = Counter()
    for (dialed, decision, kinds), calls in Counter(map(itemgetter(1, 2, 3), rows)).items():
        flags = _flags(kinds)
        lines.append((dialed, decision, flags, calls))
        if flags is not None:
            reported[flags] += calls
    waits: dict[str, list[float]] = {}
    every: list[float] = []
    for dialed, wait in _waits(rows, 1):
        waits.setdefault(dialed, []).append(wait)
        every.append(wait)
    return DayReport(
        tally_kpis(reported.items(), every, threshold_seconds), tally_lines(lines, waits, threshold_seconds)
    )


# ------------------------------------------------------------------------------------------------
# Transfers from 12345


def _call_region(session: Session, call_id: str) -> str:
    decision = session.get(CallDecision, call_id)
    if decision is not None:
        return decision.region_code
    known = session.scalar(select(CallEvent.id).where(CallEvent.call_id == call_id).limit(1))
    if known is None:
        raise NotFound(f"没有该呼叫的记录：{call_id}", code="call-not-found")
    return PROVINCE.code


def transfer_call(
    session: Session,
    call_id: str,
    kind: str,
    number: str | None = None,
    agent: str = "",
    at: str | None = None,
) -> dict[str, Any]:
    """Transfer a call from a 12345 agent: three-way to a sub-centre (from its `transfer-mechanism` date in
    the call's region) or one key to 110. Recorded as the call's `transferred` event."""
    try:
        how = TransferKind(kind)
    except ValueError as exc:
        raise InvalidInput(f"转接方式不正确：{kind!r}（subcenter 或 police）", code="invalid-transfer") from exc
    instant = decision_instant(at)
    region = _call_region(session, call_id)
    if how is TransferKind.SUBCENTER:
        if not number:
            raise InvalidInput("三方转接需要分中心号码", code="invalid-transfer")
        line = get_line(session, number)
        if line.mode is not Mode.SUBCENTER:
            raise InvalidInput(f"{number}（{line.name}）不是分中心热线，不能三方转接", code="not-a-subcenter")
        if not transfer_available(session, number, region, instant):
            since = effective_date(session, number, "transfer-mechanism", region)
            raise Conflict(
                f"{find_region(region).name}尚未与{line.short_name or line.name}分中心建立三方转接机制"
                f"（生效日期 {since.isoformat()}）",
                code="transfer-not-available",
            )
        target = Target("subcenter", number, region)
        data: dict[str, str | None] = {"kind": how.value, "to": number, "mode": "three-way", "target": target.key}
    else:
        target = Target("police", None, region)
        data = {"kind": how.value, "to": POLICE_NUMBER, "mode": "one-key", "target": target.key}
    try:
        data["uri"] = resolve_endpoint(target, endpoint_map(session), data["to"] or "")
    except NotFound:
        data["uri"] = None
    result = record_event(session, call_id, CallEventType.TRANSFERRED.value, at=instant, agent=agent, data=data)
    if not result.created and result.event["data"].get("to") != data["to"]:
        raise Conflict(f"该呼叫已转接至 {result.event['data'].get('to')}", code="already-transferred")
    return {"transferred": result.event, "created": result.created}


# ------------------------------------------------------------------------------------------------
# Voice notices


def _prompt_dir() -> Path:
    return get_settings().data_dir / "prompts"


def _audio_paths(key: str) -> tuple[Path, Path]:
    base = _prompt_dir()
    return base / f"{key}.wav", base / f"{key}.ulaw.wav"


HOTLINE_NUMBER = "12345"
HOTLINE_NAME = "12345政务服务便民热线"


def _catalogue(session: Session) -> dict[str, tuple[PromptId, str, str]]:
    """Every notice a line and phase has: id -> (parsed id, line name, default text)."""
    out: dict[str, tuple[PromptId, str, str]] = {}
    for line in list_lines(session):
        name = line.short_name or line.name
        if line.mode is Mode.FULL_MERGE:
            cancelled = effective_date(session, line.number, "cancellation", PROVINCE.code)
            for kind in (PromptKind.TRANSITION, PromptKind.CANCELLATION):
                pid = PromptId(kind, line.number)
                out[str(pid)] = (pid, name, notice_text(pid, name, cancelled))
        elif line.mode is Mode.SUBCENTER:
            pid = PromptId(PromptKind.AFTER_HOURS, line.number)
            out[str(pid)] = (pid, name, notice_text(pid, name))
    for kind in NUISANCE_PROMPTS:  # 骚扰号码名单: 12345's own notices
        pid = PromptId(kind, HOTLINE_NUMBER)
        out[str(pid)] = (pid, HOTLINE_NAME, notice_text(pid, HOTLINE_NAME))
    return out


def _prompt_view(pid: PromptId, name: str, default: str, row: Prompt | None) -> dict[str, Any]:
    text = row.text if row is not None and row.text else default
    recorded = bool(row is not None and row.recorded and row.recording_key)
    key = row.recording_key if recorded and row is not None else audio_key(text)
    assert key is not None
    wav, ulaw = _audio_paths(key)
    return {
        "prompt_id": str(pid),
        "kind": pid.kind.value,
        "kind_label": PROMPT_KIND_LABELS[pid.kind],
        "number": pid.number,
        "line": name,
        "text": text,
        "custom_text": bool(row is not None and row.text),
        "source": "recording" if recorded else "tts",
        "audio_key": key,
        "built": wav.exists() and ulaw.exists(),
        "wav": str(wav),
        "ulaw": str(ulaw),
        "updated_by": row.updated_by if row is not None else "",
    }


def list_prompts(session: Session) -> list[dict[str, Any]]:
    rows = {r.prompt_id: r for r in session.scalars(select(Prompt))}
    return [_prompt_view(pid, name, text, rows.get(key)) for key, (pid, name, text) in _catalogue(session).items()]


def get_prompt(session: Session, prompt_id: str) -> dict[str, Any]:
    pid = parse_prompt_id(prompt_id)
    entry = _catalogue(session).get(str(pid))
    if entry is None:
        raise NotFound(f"没有这个提示音：{prompt_id}", code="prompt-not-found")
    return _prompt_view(entry[0], entry[1], entry[2], session.get(Prompt, str(pid)))


def build_prompts(session: Session, only: list[str] | None = None, force: bool = False) -> list[dict[str, Any]]:
    """Make the audio of every notice (or ONLY these ids) whose text has no audio yet (all with FORCE)."""
    views = [get_prompt(session, p) for p in only] if only else list_prompts(session)
    built = []
    for view in views:
        if view["source"] == "tts" and (force or not view["built"]):
            audio.synthesize(view["text"], Path(view["wav"]), Path(view["ulaw"]))
            view = {**view, "built": True}
        built.append(view)
    return built


def set_prompt_text(session: Session, prompt_id: str, text: str, actor: str = "") -> dict[str, Any]:
    """Change a notice's text (its audio is made again from the new text; a recording is dropped)."""
    view = get_prompt(session, prompt_id)
    text = text.strip()
    if not text or len(text) > 500:
        raise InvalidInput("提示音文本不能为空且不超过 500 字", code="invalid-prompt-text")
    row = session.get(Prompt, view["prompt_id"])
    if row is None:
        row = Prompt(prompt_id=view["prompt_id"], updated_at=now(), updated_by=actor)
        session.add(row)
    row.text, row.recorded, row.recording_key, row.updated_at, row.updated_by = text, False, None, now(), actor
    session.flush()
    return build_prompts(session, [view["prompt_id"]])[0]


MAX_RECORDING_BYTES = 20_000_000


def upload_recording(session: Session, prompt_id: str, content: bytes, actor: str = "") -> dict[str, Any]:
    """Use a recorded file instead of synthesis (converted to the telephony formats)."""
    view = get_prompt(session, prompt_id)
    if len(content) > MAX_RECORDING_BYTES:
        raise InvalidInput(f"录音文件过大（上限 {MAX_RECORDING_BYTES // 1_000_000} MB）", code="recording-too-large")
    key = upload_key(content)
    wav, ulaw = _audio_paths(key)
    audio.convert_recording(content, wav, ulaw)
    row = session.get(Prompt, view["prompt_id"])
    if row is None:
        row = Prompt(prompt_id=view["prompt_id"], updated_at=now(), updated_by=actor)
        session.add(row)
    row.recorded, row.recording_key, row.updated_at, row.updated_by = True, key, now(), actor
    session.flush()
    return get_prompt(session, view["prompt_id"])


def reset_prompt(session: Session, prompt_id: str) -> dict[str, Any]:
    """Back to the default text and synthesised audio."""
    view = get_prompt(session, prompt_id)
    session.execute(delete(Prompt).where(Prompt.prompt_id == view["prompt_id"]))
    session.flush()
    return get_prompt(session, view["prompt_id"])


def prompt_audio(session: Session, prompt_id: str, fmt: str = "wav") -> Path:
    """The audio file of a notice in FMT (wav: 16-bit PCM, ulaw: G.711 μ-law), made on first use."""
    if fmt not in {"wav", "ulaw"}:
        raise InvalidInput("格式只能是 wav 或 ulaw", code="invalid-audio-format")
    view = build_prompts(session, [prompt_id])[0]
    path = Path(view[fmt])
    if not path.exists():
        raise NotFound(f"提示音录音文件缺失：{prompt_id}", code="prompt-audio-missing")
    return path


# ------------------------------------------------------------------------------------------------
# Demo data


DEMO_ENDPOINTS = {
    "queue:*": "sip:queue-{region}@127.0.0.1:5070",
    "legacy:*": "sip:legacy-{number}-{region}@127.0.0.1:5071",
    "subcenter:*": "sip:subcenter-{number}-{region}@127.0.0.1:5072",
    "announcement:*": "sip:announce-{region}@127.0.0.1:5073",
    "police:*": "sip:110@127.0.0.1:5074",
}
DEMO_TRUNKS = {"cd-telecom": "510100", "cd-unicom": "510100", "my-telecom": "510700", "sc-mobile": "510000"}


# A few calls of the last day and a half, as the ACD would have reported them: (call id, caller, trunk, hours ago,
# events as (event, seconds after the call)). Some were missed, so 漏话回拨 has work on a first start: one caller
# twice, one past the deadline; one missed caller got through later; an anonymous caller cannot be called back.
_MISSED = (("offered", 0), ("queued", 2), ("abandoned", 48))
_ANSWERED = (("offered", 0), ("queued", 2), ("answered", 11), ("ended", 200))
DEMO_CALLS: tuple[tuple[str, str, str, float, tuple[tuple[str, int], ...]], ...] = (
    ("DEMO-CALL-01", "13912340001", "cd-telecom", 30, _MISSED),
    ("DEMO-CALL-02", "13912340002", "cd-telecom", 5, _MISSED),
    ("DEMO-CALL-03", "13912340002", "cd-unicom", 2, (("offered", 0), ("queued", 2), ("ended", 95))),
    ("DEMO-CALL-04", "08162345678", "my-telecom", 3, _MISSED),
    ("DEMO-CALL-05", "13912340005", "cd-telecom", 6, _MISSED),
    ("DEMO-CALL-06", "13912340005", "cd-telecom", 4, _ANSWERED),
    ("DEMO-CALL-07", "anonymous", "cd-telecom", 1, _MISSED),
    ("DEMO-CALL-08", "13912340008", "sc-mobile", 1.5, _ANSWERED),
)


def load_demo(session: Session) -> str:
    """SIP addresses of the local demo (SIPp endpoints on 127.0.0.1:5070-5074), a few trunks, and a few calls of
    the last day and a half (some missed, for 漏话回拨); a call already kept is left as it is."""
    for pattern, uri in DEMO_ENDPOINTS.items():
        if session.get(Endpoint, pattern) is None:
            set_endpoint(session, pattern, uri)
    for trunk, region in DEMO_TRUNKS.items():
        if session.get(Trunk, trunk) is None:
            set_trunk(session, trunk, region, note="演示中继")
    moment, made = now(), 0
    for call_id, caller, trunk, hours_ago, events in DEMO_CALLS:
        if session.get(CallDecision, call_id) is not None:
            continue
        at = moment - timedelta(hours=hours_ago)
        routed = route_call(session, "12345", caller, trunk, call_id, None, instant=at)
        record_decision(session, replace(routed, decided_at=at))
        for event, seconds in events:
            record_event(
                session, call_id, event, at + timedelta(seconds=seconds), agent="A001" if event == "answered" else ""
            )
        made += 1
    return f"话务：{len(DEMO_ENDPOINTS)} 个 SIP 目标、{len(DEMO_TRUNKS)} 条中继已配置，演示来电 {made} 通"
