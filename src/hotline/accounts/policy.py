"""Which roles may use each HTTP resource of the platform: one table, read by the guard, so the whole access
policy can be reviewed in one place. A resource missing here is refused (404) once sign-in is on; a test checks
that every route the application serves has its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.accounts.domain import Grant

A, DI, DE, SU, AD, FE, PR = (
    Grant.AGENT, Grant.DISPATCHER, Grant.DEPARTMENT, Grant.SUPERVISOR, Grant.ADMIN, Grant.FEED, Grant.PROXY,
)  # fmt: skip
PUBLIC: frozenset[Grant] = frozenset()  # anyone, signed in or not
STAFF = frozenset({A, DI, DE, SU, AD})
DESK = frozenset({A, DI, SU, AD})  # those who take demands in (受理) and decide where they go
INTAKE = frozenset({A, DI, AD})  # the roles `workorders.service.create_order` lets take a demand in
MONITORS = frozenset({DI, SU, AD})  # KPIs, overdue work and the data sub-centres deliver
MANAGERS = frozenset({SU, AD})
QUALITY = frozenset({A, SU, AD})  # 质检: supervisors inspect, agents see their own results (`quality.api`)
ADMIN = frozenset({AD})
SIGNED_IN = frozenset(Grant)

# (method, path template as the routers declare it, roles). HEAD is answered as GET.
RULES: tuple[tuple[str, str, frozenset[Grant]], ...] = (
    # signing in, health, citizens' own look-ups, Open311 (apps hold their own keys)
    ("GET", "/api/health", PUBLIC),
    ("GET", "/login", PUBLIC),
    ("POST", "/login", PUBLIC),
    ("POST", "/logout", PUBLIC),
    ("POST", "/api/auth/login", PUBLIC),
    ("POST", "/api/auth/logout", PUBLIC),
    ("GET", "/api/auth/me", SIGNED_IN),
    ("POST", "/api/auth/password", STAFF),  # one's own password: people have one, systems hold tokens
    ("GET", "/api/auth/events", ADMIN),
    # accounts: each person's own page, and the administrators' management (a page and its API)
    ("GET", "/account", STAFF),
    ("POST", "/account", STAFF),
    ("GET", "/accounts", ADMIN),
    ("POST", "/accounts", ADMIN),
    ("POST", "/accounts/{login}/edit", ADMIN),
    ("POST", "/accounts/{login}/disable", ADMIN),
    ("POST", "/accounts/{login}/enable", ADMIN),
    ("POST", "/accounts/{login}/password", ADMIN),
    ("POST", "/accounts/{login}/tokens", ADMIN),
    ("POST", "/accounts/{login}/revoke", ADMIN),
    ("GET", "/api/accounts", ADMIN),
    ("POST", "/api/accounts", ADMIN),
    ("PATCH", "/api/accounts/{login}", ADMIN),
    ("POST", "/api/accounts/{login}/disable", ADMIN),
    ("POST", "/api/accounts/{login}/enable", ADMIN),
    ("POST", "/api/accounts/{login}/password", ADMIN),
    ("POST", "/api/accounts/{login}/tokens", ADMIN),
    ("POST", "/api/accounts/{login}/revoke", ADMIN),
    ("GET", "/track", PUBLIC),
    ("GET", "/api/public/orders/{number}", PUBLIC),
    ("GET", "/open311/v2/services.{fmt}", PUBLIC),
    ("GET", "/open311/v2/services/{code}.{fmt}", PUBLIC),
    ("GET", "/open311/v2/requests.{fmt}", PUBLIC),
    ("POST", "/open311/v2/requests.{fmt}", PUBLIC),
    ("GET", "/open311/v2/requests/{request_id}.{fmt}", PUBLIC),
    # pages
    ("GET", "/", STAFF),
    ("GET", "/plan", STAFF),
    ("POST", "/plan/records", MANAGERS),  # recording a milestone done or postponed from the page, as /api/plan/records
    ("GET", "/calendar", STAFF),  # 工作日历: everyone's deadlines count on it; only administrators change it
    ("POST", "/calendar/days", ADMIN),
    ("POST", "/calendar/days/clear", ADMIN),
    ("POST", "/calendar/import", ADMIN),
    ("GET", "/settings/dispatch", MANAGERS),  # 派单设置: supervisors read; administrators keep units, catalogue, limits
    ("POST", "/settings/dispatch/units", ADMIN),
    ("POST", "/settings/dispatch/units/deactivate", ADMIN),  # 停用 (机构调整), with a successor
    ("POST", "/settings/dispatch/units/activate", ADMIN),
    ("POST", "/settings/dispatch/catalogue", ADMIN),
    ("POST", "/settings/dispatch/catalogue/remove", ADMIN),
    ("POST", "/settings/dispatch/limits", ADMIN),
    ("GET", "/route", STAFF),
    ("GET", "/calls", DESK),  # 话务记录 (web.calls_page): callers' numbers masked as on work orders
    ("GET", "/calls/{call_id}", DESK),
    ("GET", "/callbacks", DESK),  # 漏话回拨 (web.callbacks_page): numbers in full for those who dial, as 话务记录
    ("POST", "/callbacks/{callback_id}/attempts", INTAKE),  # those who dial record their attempts; supervisors read
    ("GET", "/orders", STAFF),
    ("GET", "/orders/new", INTAKE),  # 受理; a literal path, so it wins over /orders/{number}
    ("POST", "/orders/new", INTAKE),
    ("GET", "/orders/{number}", STAFF),
    ("POST", "/orders/{number}/act", STAFF),  # which step a role may take: the lifecycle's rule
    ("POST", "/orders/{number}/attachments", frozenset({A, DI, DE, SU})),  # 上传附件 from the order page
    ("GET", "/kb", STAFF),
    ("GET", "/kb/new", MANAGERS),  # writing an article (web.kb_pages); reading and 纠错 are everyone's
    ("POST", "/kb/new", MANAGERS),
    ("GET", "/kb/articles/{key}", STAFF),
    ("POST", "/kb/articles/{key}/flag", STAFF),
    ("POST", "/kb/articles/{key}/useful", STAFF),
    ("GET", "/kb/articles/{key}/edit", MANAGERS),
    ("POST", "/kb/articles/{key}/edit", MANAGERS),
    ("POST", "/kb/articles/{key}/status", MANAGERS),
    ("POST", "/kb/flags/{flag_id}/review", MANAGERS),
    ("GET", "/kb/manage", MANAGERS),  # 知识维护: what waits on those who maintain the knowledge base
    ("GET", "/seats", MANAGERS),
    ("POST", "/seats", MANAGERS),
    ("GET", "/kpis", MONITORS),
    ("GET", "/monitor", MONITORS),  # 实时监控 (web.monitor_page): counts only, who reads the KPIs
    # 质检 (web.quality_page): supervisors draw, score and review; an agent reads, confirms and appeals their own
    ("GET", "/quality", QUALITY),
    ("GET", "/quality/sheet", QUALITY),  # 质检标准: everyone inspected reads it; administrators change it
    ("POST", "/quality/sheet", ADMIN),
    ("POST", "/quality/draw", MANAGERS),
    ("POST", "/quality/pick", MANAGERS),
    ("GET", "/quality/{inspection_id}", QUALITY),
    ("POST", "/quality/{inspection_id}/score", MANAGERS),
    ("POST", "/quality/{inspection_id}/confirm", frozenset({A})),
    ("POST", "/quality/{inspection_id}/appeal", frozenset({A})),
    ("POST", "/quality/{inspection_id}/review", MANAGERS),
    ("POST", "/quality/{inspection_id}/void", MANAGERS),  # 作废 a task still 待质检
    # 骚扰号码名单 (web.nuisance_page): the desk applies (from a call or an order), supervisors and administrators decide
    ("GET", "/nuisance", DESK),
    ("POST", "/nuisance/apply", DESK),
    ("GET", "/nuisance/{entry_id}", DESK),
    ("POST", "/nuisance/{entry_id}/approve", MANAGERS),
    ("POST", "/nuisance/{entry_id}/reject", MANAGERS),
    ("POST", "/nuisance/{entry_id}/lift", MANAGERS),
    # 短信记录 (web.sms_page): supervisors and administrators read the texts sent to citizens and resend failed ones
    ("GET", "/sms", MANAGERS),
    ("POST", "/sms/{message_id}/retry", MANAGERS),
    ("GET", "/sms/replies", DESK),  # 短信回访's replies (numbers masked): agents and dispatchers make the phone 回访
    ("GET", "/hotspots", MONITORS),  # 热点诉求 (web.hotspots_page)
    ("GET", "/feeds", MONITORS),
    ("GET", "/feeds/{code}", MONITORS),
    # routing and the plan
    ("GET", "/api/route", STAFF | {PR}),
    ("GET", "/api/lines", STAFF),
    ("GET", "/api/lines/{number}", STAFF),
    ("POST", "/api/lines", ADMIN),
    ("GET", "/api/regions", STAFF),
    ("GET", "/api/plan/status", STAFF),
    ("GET", "/api/plan/overdue", STAFF),
    ("GET", "/api/plan/records", STAFF),
    ("GET", "/api/calendar/months/{month}", STAFF),
    ("PUT", "/api/calendar/days/{day}", ADMIN),
    ("DELETE", "/api/calendar/days/{day}", ADMIN),
    ("POST", "/api/calendar/import", ADMIN),
    ("POST", "/api/plan/records", MANAGERS),
    ("PUT", "/api/subcenters/{number}/hours", ADMIN),
    # work orders: which action a role may take is the lifecycle's rule (workorders.domain)
    ("POST", "/api/orders", INTAKE),
    ("GET", "/api/orders", STAFF),
    ("GET", "/api/orders/export.xlsx", STAFF),  # masked as the list is; each export audited
    ("GET", "/api/orders/lifecycle", STAFF),
    ("GET", "/api/orders/{number}", STAFF),
    ("POST", "/api/orders/{number}/actions/{action}", STAFF),
    # 工单附件 (attachments.api): whoever reads the order reads its files; who adds one is the service's rule (not 管理员)
    ("GET", "/api/orders/{number}/attachments", STAFF),
    ("POST", "/api/orders/{number}/attachments", frozenset({A, DI, DE, SU})),
    ("GET", "/api/orders/{number}/attachments/{attachment_id}", STAFF),
    ("GET", "/api/workorders/units", STAFF),
    ("POST", "/api/workorders/units", ADMIN),
    ("POST", "/api/workorders/units/{code}/deactivate", ADMIN),
    ("POST", "/api/workorders/units/{code}/activate", ADMIN),
    ("PUT", "/api/workorders/catalogue", ADMIN),
    ("DELETE", "/api/workorders/catalogue", ADMIN),
    ("GET", "/api/workorders/catalogue/lookup", STAFF),
    ("GET", "/api/workorders/limits", STAFF),
    ("PUT", "/api/workorders/limits/{key}", ADMIN),
    ("GET", "/api/settings/changes", MANAGERS),  # 设置变更记录: who changed units, 派单目录, 办理时限, 工作日历
    # knowledge base: everyone reads and flags; supervisors and administrators edit
    ("GET", "/api/kb/search", STAFF),
    ("POST", "/api/kb/articles", MANAGERS),
    ("GET", "/api/kb/articles/{key}", STAFF),
    ("PATCH", "/api/kb/articles/{key}", MANAGERS),
    ("POST", "/api/kb/articles/{key}/status", MANAGERS),
    ("GET", "/api/kb/articles/{key}/versions", STAFF),
    ("POST", "/api/kb/articles/{key}/flags", STAFF),
    ("GET", "/api/kb/flags", STAFF),
    ("POST", "/api/kb/flags/{flag_id}/review", MANAGERS),
    ("GET", "/api/kb/queue", MANAGERS),
    ("GET", "/api/kb/changes", STAFF),
    ("POST", "/api/kb/import", MANAGERS),
    ("GET", "/api/kb/export", STAFF),
    # smart dispatch
    ("POST", "/api/dispatch/suggest", DESK),
    ("POST", "/api/dispatch/feedback", MONITORS),
    # telephony: the proxy's own resources, then the desk's and the administrator's
    ("GET", "/telephony/route", frozenset({PR, AD})),
    ("POST", "/telephony/decisions", frozenset({PR, AD})),
    ("GET", "/telephony/revision", frozenset({PR, AD})),
    ("GET", "/telephony/screened-callers", frozenset({PR})),  # callers in full: for the proxy alone
    ("POST", "/telephony/events", frozenset({PR, AD})),
    ("POST", "/telephony/agent-states", frozenset({PR, AD})),  # the ACD / agent desk, as call events
    ("GET", "/telephony/calls", STAFF),
    ("GET", "/telephony/calls/{call_id}", STAFF),
    ("POST", "/telephony/calls/{call_id}/transfer", DESK),
    ("GET", "/telephony/kpis", STAFF),
    ("GET", "/telephony/trunks", STAFF),
    ("PUT", "/telephony/trunks/{trunk}", ADMIN),
    ("DELETE", "/telephony/trunks/{trunk}", ADMIN),
    ("GET", "/telephony/endpoints", STAFF),
    ("PUT", "/telephony/endpoints/{pattern}", ADMIN),
    ("DELETE", "/telephony/endpoints/{pattern}", ADMIN),
    ("GET", "/telephony/prompts", STAFF),
    ("GET", "/telephony/prompts/{prompt_id}", STAFF),
    ("PUT", "/telephony/prompts/{prompt_id}/text", ADMIN),
    ("PUT", "/telephony/prompts/{prompt_id}/recording", ADMIN),
    ("DELETE", "/telephony/prompts/{prompt_id}", ADMIN),
    ("GET", "/telephony/prompts/{prompt_id}/audio", STAFF | {PR}),
    # 漏话回拨: the callback tasks of missed calls; agents and dispatchers (and administrators) record attempts
    ("GET", "/api/callbacks", DESK),
    ("POST", "/api/callbacks/{callback_id}/attempts", INTAKE),
    # 质检: the API of the same (quality.api)
    ("GET", "/api/quality/sheet", QUALITY),
    ("PUT", "/api/quality/sheet", ADMIN),
    ("POST", "/api/quality/draws", MANAGERS),
    ("GET", "/api/quality/inspections", QUALITY),
    ("POST", "/api/quality/inspections", MANAGERS),
    ("GET", "/api/quality/inspections/{inspection_id}", QUALITY),
    ("POST", "/api/quality/inspections/{inspection_id}/score", MANAGERS),
    ("POST", "/api/quality/inspections/{inspection_id}/confirm", frozenset({A})),
    ("POST", "/api/quality/inspections/{inspection_id}/appeal", frozenset({A})),
    ("POST", "/api/quality/inspections/{inspection_id}/review", MANAGERS),
    ("POST", "/api/quality/inspections/{inspection_id}/void", MANAGERS),
    ("GET", "/api/quality/figures", QUALITY),
    # 骚扰号码名单 (nuisance.api): those who take calls apply and read (numbers masked); supervisors and administrators decide
    ("GET", "/api/nuisance", DESK),
    ("POST", "/api/nuisance", DESK),
    ("GET", "/api/nuisance/{entry_id}", DESK),
    ("POST", "/api/nuisance/{entry_id}/approve", MANAGERS),
    ("POST", "/api/nuisance/{entry_id}/reject", MANAGERS),
    ("POST", "/api/nuisance/{entry_id}/lift", MANAGERS),
    # 短信通知 (sms.api): supervisors and administrators read the texts (numbers masked) and send failed ones again
    ("GET", "/api/sms", MANAGERS),
    ("POST", "/api/sms/{message_id}/retry", MANAGERS),
    # 短信回访: the SMS gateway delivers citizens' replies; those who do (or watch) the phone 回访 read them, masked
    ("POST", "/api/sms/replies", frozenset({Grant.SMS_GATEWAY})),
    ("GET", "/api/sms/replies", DESK),
    # seats, KPIs, data gathering
    ("POST", "/api/seats/plan", MANAGERS),
    ("GET", "/api/supervision/kpis", MONITORS),
    ("GET", "/api/supervision/kpis/export.xlsx", MONITORS),  # KPI figures and unit names: no personal data
    ("GET", "/api/supervision/hotspots", MONITORS),  # counts, words, places, order numbers: no caller
    ("GET", "/api/monitor", MONITORS),  # 实时监控: counts only, no caller
    ("GET", "/api/monitor/stream", MONITORS),  # the same, as Server-Sent Events
    ("POST", "/api/feeds/{source}", frozenset({FE, AD})),
    ("GET", "/api/feeds", MONITORS),
    ("GET", "/api/feeds/{source}/kpis", MONITORS),
    ("GET", "/api/system/queue-workers", MANAGERS),
)


@dataclass(frozen=True)
class Rule:
    method: str
    template: str
    grants: frozenset[Grant]
    pattern: re.Pattern[str]

    @property
    def public(self) -> bool:
        return not self.grants


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    return re.compile("^" + "".join("([^/]+)" if p.startswith("{") else re.escape(p) for p in parts if p) + "$")


class Policy:
    def __init__(self, rules: tuple[tuple[str, str, frozenset[Grant]], ...] = RULES) -> None:
        self.rules = [Rule(m, t, g, _compile(t)) for m, t, g in rules]
        # A literal path wins over a template that also matches it (/api/orders/lifecycle vs /{number}).
        self.rules.sort(key=lambda r: "{" in r.template)
        self._found: dict[tuple[str, str], Rule | None] = {}

    def find(self, method: str, path: str) -> Rule | None:
        method = "GET" if method == "HEAD" else method
        key = (method, path)
        if key in self._found:  # the hot paths (/api/route, /telephony/route) repeat: skip the ~100 patterns
            return self._found[key]
        if len(self._found) >= 4096:
            self._found.clear()
        found = next((r for r in self.rules if r.method == method and r.pattern.match(path)), None)
        self._found[key] = found
        return found

    def allows(self, method: str, path: str, grants: tuple[Grant, ...]) -> bool:
        """Whether an account holding GRANTS may use the resource (for showing only the links it may follow)."""
        rule = self.find(method, path)
        return rule is not None and (rule.public or any(g in rule.grants for g in grants))

    def knows_path(self, path: str) -> bool:
        return any(rule.pattern.match(path) for rule in self.rules)

    def keys(self) -> set[tuple[str, str]]:
        return {(r.method, r.template) for r in self.rules}


POLICY = Policy()
