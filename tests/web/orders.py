"""Work orders taken in on a test server through the API, as an agent would: for the pages' tests that need an
order of their own (the demo's are shared by every test on the server)."""

from __future__ import annotations

import httpx


def take_in(server: str, content: str, phone: str, *, actor: str = "") -> str:
    """A 投诉 in 成都市 taken in by an agent (ACTOR, else the role's name), without the dispatch advice: its number."""
    order = {"type": "投诉", "content": content, "phone": phone, "region": "510100", "role": "agent"}
    created = httpx.post(
        f"{server}/api/orders",
        params={"advice": "false"},
        json={**order, **({"actor": actor} if actor else {})},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["number"])
