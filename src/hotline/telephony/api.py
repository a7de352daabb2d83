"""HTTP resources of hotline.telephony: the proxy's lookup, call events, transfers, voice notices; and 漏话回拨
(`/api/callbacks`: the callback tasks of missed calls and the attempts made on them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.accounts.api import acting, signed_actor
from hotline.accounts.domain import GRANT_LABELS, Grant
from hotline.accounts.policy import POLICY
from hotline.db import session_scope
from hotline.deps import SESSION
from hotline.errors import Forbidden, InvalidInput
from hotline.nuisance import service as nuisance
from hotline.nuisance.domain import Screened
from hotline.telephony import agent_states, callbacks, service
from hotline.telephony.recorder import recorder
from hotline.timeutil import now, parse_instant

router = APIRouter(prefix="/telephony", tags=["telephony"])
callbacks_router = APIRouter(prefix="/api/callbacks", tags=["callbacks"])


_ROUTE_PARAMS = [
    {
        "name": "dialed",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
        "description": "被叫号码（Request-URI 的用户部分）",
    },
    {"name": "caller", "in": "query", "schema": {"type": "string"}, "description": "主叫号码"},
    {"name": "trunk", "in": "query", "schema": {"type": "string"}, "description": "呼入中继（tgrp 或来源地址）"},
    {"name": "callid", "in": "query", "schema": {"type": "string"}, "description": "SIP Call-ID"},
    {
        "name": "at",
        "in": "query",
        "schema": {"type": "string"},
        "description": "仅测试：决策时刻（需设置 HOTLINE_ALLOW_TIME_OVERRIDE）；也可用请求头 X-Hotline-At",
    },
]


@router.get("/route", openapi_extra={"parameters": _ROUTE_PARAMS})
async def route(request: Request) -> Response:
    """One line of JSON for the SIP proxy: relay (uri + header values) or reject (SIP code).

    The proxy waits on this answer, so it is kept lean: parameters are read from the query string directly
    (documented above), it runs on the event loop without a thread hop, the decision reads only cached plan
    and configuration (well under a millisecond; repeats within half a second come from memory), and the
    decision is stored with the call by a writer thread, never on the way to the proxy.
    """
    q = request.query_params
    dialed = q.get("dialed")
    if dialed is None:
        raise InvalidInput("缺少被叫号码（dialed）", code="invalid-number")
    routed = service.lookup(
        dialed,
        q.get("caller", ""),
        q.get("trunk", ""),
        q.get("callid", ""),
        q.get("at") or request.headers.get("x-hotline-at"),
    )
    recorder.submit(routed)
    body = {**routed.answer.to_dict(), "ttl": routed.ttl}
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json")


class ReportedDecision(BaseModel):
    call_id: str = Field(..., description="SIP Call-ID of the call the proxy served")
    dialed: str = ""
    caller: str = ""
    trunk: str = ""
    at: float | str = Field(..., description="when the proxy served the call: Unix seconds or ISO 8601")
    for_: str = Field("", alias="for", description="tests only: the instant the X-Hotline-At header named")
    cached: bool = True
    decision: dict[str, Any] = Field(..., description="the answer the proxy acted on, as /telephony/route gave it")


@router.post(
    "/decisions",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": ReportedDecision.model_json_schema(by_alias=True)}
                },
                "text/plain": {
                    "schema": {
                        "type": "string",
                        "description": (
                            "one call per line: call_id TAB served (Unix seconds) TAB caller TAB trunk TAB for TAB answer "
                            "(the JSON of /telephony/route, as kept); the first five fields percent-encoded when they hold a "
                            "tab, a line break or %"
                        ),
                    }
                },
            },
        }
    },
)
async def post_decisions(request: Request) -> dict[str, Any]:
    """Decisions the proxy served from its cache without asking, reported in batches off the call path.

    Stored like the lookup's (idempotent by Call-ID: the same batch again changes nothing), marked
    `cached`. Two forms of body:
    - `text/plain` (what the shipped Kamailio sends): one call per line, see the request body's schema; a
      line that is not a well-formed decision is refused alone and logged, the others are stored; the
      answer is `{"stored": n, "refused": k}`;
    - `application/json`: an array of the items documented here; the whole batch is refused (422) if one
      item is not a well-formed decision.
    The body is read directly: a proxy under load sends thousands a second.
    """
    body = await request.body()
    if request.headers.get("content-type", "").startswith("text/plain"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("请求体不是 UTF-8 文本", code="invalid-input") from exc
        stored, refused = await run_in_threadpool(_store_reported_lines, text)
        return {"stored": stored, "refused": len(refused)}
    try:
        items = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("请求体不是 JSON", code="invalid-input") from exc
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidInput("请求体应为路由结果的数组", code="invalid-input")
    stored = await run_in_threadpool(_store_reported, items)
    return {"stored": stored}


def _store_reported(items: list[dict[str, Any]]) -> int:
    with session_scope(service.lookup_settings().database_url) as session:
        return service.record_reported(session, items)


def _store_reported_lines(text: str) -> tuple[int, list[str]]:
    with session_scope(service.lookup_settings().database_url) as session:
        return service.record_reported_lines(session, text)


@router.get("/revision")
def revision(session: Session = SESSION) -> dict[str, str]:
    """A token that changes whenever the plan, the calendar, trunks, SIP addresses or the 骚扰号码名单 change:
    the proxy polls it (once a second), empties its cache of answers and reloads the screened callers when it
    changes."""
    return {"revision": service.routing_revision(session)}


@router.get("/screened-callers", response_class=PlainTextResponse)
def screened_callers(session: Session = SESSION) -> PlainTextResponse:
    """The callers on the 骚扰号码名单 in force now, for the proxy: one line each, `<number>\\t<whole seconds
    left>\\n` (empty when none). The proxy reloads it when the revision changes and asks the platform, never
    its cache of answers, for a call from one of them: their answer is not other callers'."""
    at = now()
    return PlainTextResponse(screened_lines(nuisance.screened_numbers(session, at), at))


def screened_lines(screened: Iterable[Screened], at: datetime) -> str:
    """`<number>\\t<seconds left>\\n` for each entry; only digit strings (the proxy parses the lines with string
    transformations; numbers are stored normalized, so this drops nothing real)."""
    return "".join(f"{s.number}\t{s.seconds_left(at)}\n" for s in screened if s.number.isdigit())


class EventIn(BaseModel):
    call_id: str = Field(..., description="SIP Call-ID of the call")
    event: str = Field(..., description="offered | queued | answered | abandoned | transferred | ended")
    at: str | None = Field(None, description="ISO 8601 instant; now if missing; without offset = China time")
    agent: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


@router.post("/events")
def post_event(body: EventIn, response: Response, session: Session = SESSION) -> dict[str, Any]:
    """Receive one call event from the telephony side. Idempotent by (call_id, event): 201 the first time,
    200 with `duplicate: true` after."""
    at = parse_instant(body.at) if body.at else None
    result = service.record_event(session, body.call_id, body.event, at, body.agent, body.data)
    response.status_code = 201 if result.created else 200
    return {**result.event, "duplicate": not result.created}


class AgentStateIn(BaseModel):
    agent: str = Field(..., description="座席工号, e.g. A007")
    state: str = Field(
        ..., description="ready 空闲 | not_ready 示忙 | busy 通话中 | wrap_up 话后整理 | logged_out 签出"
    )
    at: str | None = Field(None, description="ISO 8601 instant; now if missing; without offset = China time")
    reason: str = Field("", description="示忙原因 (not_ready): 小休, 培训, 会议…")


@router.post("/agent-states")
def post_agent_states(
    body: AgentStateIn | list[AgentStateIn], response: Response, session: Session = SESSION
) -> dict[str, Any]:
    """Receive an agent's state change (or a list of them) from the ACD / agent desk. Idempotent by (agent, at,
    state): one change answers 201 the first time, 200 with `duplicate: true` after; a list answers 200
    `{"stored": n, "duplicates": k, "changes": [...]}` and is refused whole (422) if one item is malformed."""
    items = body if isinstance(body, list) else [body]
    changes, created = agent_states.record_states(session, [item.model_dump() for item in items])
    if isinstance(body, list):
        return {"stored": created, "duplicates": len(changes) - created, "changes": changes}
    response.status_code = 201 if created else 200
    return changes[0]


@router.get("/calls")
def calls(
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    dialed: str = "",
    region: str = "",
    outcome: str = "",
    offset: int = 0,
    session: Session = SESSION,
) -> list[dict[str, Any]]:
    """Recent routing decisions, newest first (caller's number masked); optionally only those to the number
    `dialed`, for `region` (code or name), or with `outcome` (answered, abandoned, transferred, unanswered,
    unreported: docs/telephony.md), from the `offset`-th on."""
    recorder.flush()
    return service.list_calls(
        session,
        parse_instant(since) if since else None,
        parse_instant(until) if until else None,
        limit,
        dialed=dialed,
        region=region,
        outcome=outcome,
        offset=offset,
    )


@router.get("/calls/{call_id}")
def call(call_id: str, session: Session = SESSION) -> dict[str, Any]:
    """A call's routing decision, events and facts (offered, answered, wait seconds)."""
    recorder.flush()
    return service.get_call(session, call_id)


class TransferIn(BaseModel):
    kind: str = Field(..., description="subcenter (三方转接) | police (一键转接110)")
    number: str | None = Field(None, description="the sub-centre's number for kind=subcenter")
    agent: str = ""
    at: str | None = Field(None, description="tests only (HOTLINE_ALLOW_TIME_OVERRIDE)")


@router.post("/calls/{call_id}/transfer")
def transfer(call_id: str, body: TransferIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """The agent desk transfers a call: three-way to a sub-centre, or one key to 110."""
    return service.transfer_call(session, call_id, body.kind, body.number, signed_actor(request, body.agent), body.at)


@router.get("/kpis")
def kpis(since: str, until: str, threshold: int = 15, session: Session = SESSION) -> dict[str, Any]:
    """Connection rate and answered-within-threshold rate of calls offered in [since, until)."""
    start: datetime = parse_instant(since)
    end: datetime = parse_instant(until)
    return service.kpi_report(session, start, end, threshold).to_dict()


# --- trunks and SIP addresses -------------------------------------------------------------------


class TrunkIn(BaseModel):
    region: str
    note: str = ""


@router.get("/trunks")
def trunks(session: Session = SESSION) -> list[dict[str, str]]:
    return service.list_trunks(session)


@router.put("/trunks/{trunk}")
def put_trunk(trunk: str, body: TrunkIn, session: Session = SESSION) -> dict[str, str]:
    return service.set_trunk(session, trunk, body.region, body.note)


@router.delete("/trunks/{trunk}", status_code=204)
def delete_trunk(trunk: str, session: Session = SESSION) -> None:
    service.delete_trunk(session, trunk)


class EndpointIn(BaseModel):
    uri: str


@router.get("/endpoints")
def endpoints(session: Session = SESSION) -> list[dict[str, str]]:
    return service.list_endpoints(session)


@router.put("/endpoints/{pattern}")
def put_endpoint(pattern: str, body: EndpointIn, session: Session = SESSION) -> dict[str, str]:
    return service.set_endpoint(session, pattern, body.uri)


@router.delete("/endpoints/{pattern}", status_code=204)
def delete_endpoint(pattern: str, session: Session = SESSION) -> None:
    service.delete_endpoint(session, pattern)


# --- voice notices --------------------------------------------------------------------------------


@router.get("/prompts")
def prompts(session: Session = SESSION) -> list[dict[str, Any]]:
    return service.list_prompts(session)


@router.get("/prompts/{prompt_id}")
def prompt(prompt_id: str, session: Session = SESSION) -> dict[str, Any]:
    return service.get_prompt(session, prompt_id)


class PromptTextIn(BaseModel):
    text: str
    actor: str = ""


@router.put("/prompts/{prompt_id}/text")
def put_prompt_text(prompt_id: str, body: PromptTextIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Change a notice's text; its audio is made again."""
    return service.set_prompt_text(session, prompt_id, body.text, signed_actor(request, body.actor))


@router.put("/prompts/{prompt_id}/recording")
def put_recording(
    prompt_id: str, request: Request, file: UploadFile = File(...), actor: str = "", session: Session = SESSION
) -> dict[str, Any]:
    """Upload a recorded WAV used instead of synthesis (converted to 8 kHz mono WAV and μ-law)."""
    return service.upload_recording(session, prompt_id, file.file.read(), signed_actor(request, actor))


@router.delete("/prompts/{prompt_id}")
def reset_prompt(prompt_id: str, session: Session = SESSION) -> dict[str, Any]:
    """Back to the default text and synthesised audio."""
    return service.reset_prompt(session, prompt_id)


@router.get("/prompts/{prompt_id}/audio")
def prompt_audio(prompt_id: str, format: str = "wav", session: Session = SESSION) -> FileResponse:
    """The notice's audio: format=wav (8 kHz mono 16-bit PCM) or ulaw (G.711 μ-law WAV)."""
    path = service.prompt_audio(session, prompt_id, format)
    return FileResponse(path, media_type="audio/wav", filename=f"{prompt_id.replace(':', '-')}-{format}.wav")


# --- 漏话回拨 ---------------------------------------------------------------------------------------------------


def _callback_role(request: Request, role: str | None, method: str, path: str) -> tuple[str, bool]:
    """The role a callbacks request acts in (signed in: one the account holds), refused unless that role itself may
    use the resource, and whether it sees callers' numbers in full: those who dial (话务员, 派单员) and
    administrators, as on 话务记录 (`workorders.domain.sees_every_contact`)."""
    from hotline.workorders import domain as wo

    who = acting(request, role or None, default="agent")
    if not POLICY.allows(method, path, tuple(g for g in Grant if g.value == who.role)):
        raise Forbidden(f"角色 {who.role} 不能执行此操作", code="role-not-allowed", role=who.role)
    return who.role, wo.sees_every_contact(wo.Role(who.role))


@callbacks_router.get("")
def list_callbacks(
    request: Request,
    state: str = "open",
    region: str = "",
    overdue: bool = False,
    role: str = "",
    limit: int = 200,
    offset: int = 0,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Callback tasks of missed calls: `state` open (待回拨, oldest first), closed (已处理) or all; only `region`'s;
    only the `overdue` ones (超时). Callers' numbers in full for agents, dispatchers and administrators, masked for
    the others. `hours` and `max_attempts`: the centre's deadline and 未接通 attempts before a task closes."""
    _, full = _callback_role(request, role, "GET", "/api/callbacks")
    return callbacks.list_callbacks(
        session, state=state, region=region, overdue=overdue, mask=not full, limit=limit, offset=offset
    )


class AttemptIn(BaseModel):
    outcome: str = Field(
        ..., description="reached 回拨接通 | no-answer 未接通 | invalid-number 号码无效 | not-needed 无需办理"
    )
    note: str = ""
    order: str = Field("", description="回拨接通时受理的工单编号（可选）")
    role: str | None = Field(None, description="操作角色（登录后默认账号的第一个角色）")
    actor: str = Field("", description="回拨人（未启用登录时）；登录后记为当前账号")


@callbacks_router.post("/{callback_id}/attempts", status_code=201)
def post_attempt(callback_id: int, body: AttemptIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Record a callback attempt; answers the task as it now stands. Refused, writing nothing: `callback-not-found`,
    `callback-closed` (409), `invalid-callback-outcome`, `invalid-callback-order`, `workorder-not-found`."""
    role, full = _callback_role(request, body.role, "POST", f"/api/callbacks/{callback_id}/attempts")
    actor = signed_actor(request, body.actor.strip()) or GRANT_LABELS[Grant(role)]
    return callbacks.record_attempt(
        session, callback_id, body.outcome, note=body.note, order=body.order, actor=actor, mask=not full
    )
