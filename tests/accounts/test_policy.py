"""The access table: every route the application serves has exactly one rule, and the guard finds the rule the
router would dispatch to."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts

from hotline.accounts import policy
from hotline.accounts.domain import Grant
from hotline.accounts.policy import RULES, Policy
from hotline.app import create_app

# FastAPI's and Starlette's own pages, and the static files: the guard lets them through unchecked.
FRAMEWORK = {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}


def _served() -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for route in iter_route_contexts(create_app().routes):
        path, methods = route.path, route.methods
        if path is None or methods is None or path in FRAMEWORK:
            continue  # the /static mount has no methods
        served |= {(m, path) for m in methods if m != "HEAD"}
    return served


SERVED = _served()


def _rule(p: Policy, method: str, path: str) -> policy.Rule:
    rule = p.find(method, path)
    assert rule is not None, (method, path)
    return rule


def _filled(template: str) -> str:
    """A concrete path for a template, with values no literal route uses."""
    return re.sub(r"\{[a-z_]+\}", "x9", template)


def test_the_app_serves_what_the_test_expects() -> None:
    # Guards the walk over the routes itself: if it found nothing, the two tests below would pass vacuously.
    assert ("GET", "/api/orders/{number}") in SERVED and ("GET", "/api/route") in SERVED
    assert ("POST", "/api/feeds/{source}") in SERVED and ("GET", "/") in SERVED
    assert len(SERVED) > 80


def test_every_served_route_has_a_rule() -> None:
    assert SERVED - Policy().keys() == set()


def test_every_rule_names_a_served_route() -> None:
    assert Policy().keys() - SERVED == set()


def test_no_route_has_two_rules() -> None:
    keys = [(m, t) for m, t, _ in RULES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(("method", "template"), sorted(SERVED))
def test_the_guard_finds_the_routes_own_rule(method: str, template: str) -> None:
    rule = Policy().find(method, _filled(template))
    assert rule is not None and rule.template == template


def test_a_literal_path_wins_over_a_template() -> None:
    assert _rule(Policy(), "GET", "/api/orders/lifecycle").template == "/api/orders/lifecycle"
    assert _rule(Policy(), "GET", "/api/orders/5101002021093000001").template == "/api/orders/{number}"
    # The table's order does not matter: the template listed first still loses.
    own = Policy(
        (
            ("GET", "/api/orders/{number}", policy.STAFF),
            ("GET", "/api/orders/lifecycle", policy.ADMIN),
        )
    )
    assert _rule(own, "GET", "/api/orders/lifecycle").grants == policy.ADMIN
    assert _rule(own, "GET", "/api/orders/123").grants == policy.STAFF


def test_head_is_answered_as_get() -> None:
    rule = Policy().find("HEAD", "/kpis")
    assert rule is not None and rule.method == "GET" and rule.template == "/kpis"


def test_a_template_part_matches_one_path_segment_only() -> None:
    p = Policy()
    assert p.find("GET", "/api/orders/1/2") is None
    assert _rule(p, "GET", "/api/feeds/12366/kpis").template == "/api/feeds/{source}/kpis"
    assert p.find("POST", "/api/feeds/12366/kpis") is None
    assert p.find("GET", "/api/orders/") is None


def test_an_unknown_method_on_a_known_path() -> None:
    p = Policy()
    assert p.find("DELETE", "/api/orders") is None and p.knows_path("/api/orders")
    assert not p.knows_path("/api/nothing")


@pytest.mark.parametrize(
    ("method", "path", "allowed", "refused"),
    [
        ("PUT", "/api/workorders/limits/x9", {Grant.ADMIN}, {Grant.DISPATCHER, Grant.SUPERVISOR, Grant.AGENT}),
        ("GET", "/api/supervision/kpis", {Grant.DISPATCHER, Grant.SUPERVISOR}, {Grant.AGENT, Grant.DEPARTMENT}),
        ("POST", "/api/feeds/x9", {Grant.FEED, Grant.ADMIN}, {Grant.AGENT, Grant.SUPERVISOR, Grant.PROXY}),
        ("GET", "/telephony/route", {Grant.PROXY, Grant.ADMIN}, {Grant.AGENT, Grant.FEED}),
        # the 骚扰号码名单's numbers in full: the proxy alone (everyone else reads them masked on /api/nuisance)
        ("GET", "/telephony/screened-callers", {Grant.PROXY}, {Grant.ADMIN, Grant.SUPERVISOR, Grant.AGENT}),
        # 受理 by the roles create_order accepts: a supervisor is refused at the door, as on the page
        (
            "POST",
            "/api/orders",
            {Grant.AGENT, Grant.DISPATCHER, Grant.ADMIN},
            {Grant.SUPERVISOR, Grant.DEPARTMENT, Grant.FEED},
        ),
        ("GET", "/orders/new", {Grant.AGENT, Grant.DISPATCHER, Grant.ADMIN}, {Grant.SUPERVISOR, Grant.DEPARTMENT}),
        ("GET", "/seats", {Grant.SUPERVISOR, Grant.ADMIN}, {Grant.AGENT, Grant.DISPATCHER}),
    ],
)
def test_sample_rules(method: str, path: str, allowed: set[Grant], refused: set[Grant]) -> None:
    rule = Policy().find(method, path)
    assert rule is not None and not rule.public
    assert allowed <= rule.grants and not (refused & rule.grants)


def test_public_rules_are_the_sign_in_health_and_citizens_own() -> None:
    public = {t for m, t, g in RULES if not g}
    assert public == {
        "/api/health", "/login", "/logout", "/api/auth/login", "/api/auth/logout", "/track",
        "/api/public/orders/{number}", "/open311/v2/services.{fmt}", "/open311/v2/services/{code}.{fmt}",
        "/open311/v2/requests.{fmt}", "/open311/v2/requests/{request_id}.{fmt}",
    }  # fmt: skip
