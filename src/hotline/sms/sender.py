"""The SMS gateway (an HTTP endpoint the centre's SMS provider or its own adapter serves) and the background worker
that keeps texting: `hotline serve` runs `run` among its workers (`hotline.workers`, no message queue needed).

The gateway contract (docs/sms.md): `POST HOTLINE_SMS_GATEWAY_URL` with JSON `{"id": 17, "phone": "13812345678",
"text": "【12345】…"}` (`Authorization: Bearer HOTLINE_SMS_GATEWAY_TOKEN` when set); a 2xx answer means taken (its
JSON `id`, if any, is kept as the gateway's id), 4xx refused for good (408 and 429 excepted), 5xx or no answer
within HOTLINE_SMS_TIMEOUT seconds: tried again later. `id` is the same on every try of a text: a gateway that
took a text whose answer was lost can drop the repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from hotline.db import session_scope
from hotline.settings import Settings, get_settings, without_secrets
from hotline.sms import service

POLL = 5.0  # seconds between the worker's rounds


@dataclass(frozen=True)
class Reply:
    status: int | None  # None: no answer (timeout, connection refused)
    gateway_id: str | None = None
    error: str = ""


class HttpGateway:
    def __init__(self, url: str, *, token: str = "", timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, float(timeout)

    def send(self, message_id: int, phone: str, text: str) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"id": message_id, "phone": phone, "text": text}
        try:
            answer = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            return Reply(None, error=f"短信网关 {self.timeout:g} 秒内未应答")
        except httpx.HTTPError as exc:
            return Reply(None, error=without_secrets(f"无法连接短信网关：{exc}"))
        if answer.is_success:
            return Reply(answer.status_code, _gateway_id(answer))
        return Reply(answer.status_code, error=f"短信网关返回 {answer.status_code}：{answer.text.strip()[:200]}")


def _gateway_id(answer: httpx.Response) -> str | None:
    try:
        found = answer.json()
    except ValueError:
        return None
    value = found.get("id") if isinstance(found, dict) else None
    return str(value)[:64] if value not in (None, "") else None


def configured(settings: Settings | None = None) -> HttpGateway | None:
    """The gateway HOTLINE_SMS_GATEWAY_URL names, or None (texts then wait as 待发送)."""
    settings = settings or get_settings()
    if not settings.sms_gateway_url:
        return None
    return HttpGateway(settings.sms_gateway_url, token=settings.sms_gateway_token, timeout=settings.sms_timeout)


def relay_all() -> dict[str, int]:
    """Relay rounds until the history is read to its end, each round its own transaction."""
    total = {"read": 0, "written": 0, "skipped": 0}
    while True:
        with session_scope() as session:
            counts = service.relay_once(session)
        for key in total:
            total[key] += counts[key]
        if counts["read"] < service.BATCH:
            return total


def send_now(gateway: service.Gateway) -> dict[str, int]:
    """One sender round through GATEWAY."""
    with session_scope() as session:
        return service.send_due(session, gateway)


async def run(
    stop: asyncio.Event,
    *,
    tell: Callable[[str], None],
    sleep: Callable[[float, asyncio.Event], Awaitable[None]],
    poll: float = POLL,
) -> None:
    """Write texts and send what is due every POLL seconds until STOP is set; a failure (the database) is raised
    to the supervisor. TELL says what failed for good; without a gateway configured texts are written, not sent."""
    while not stop.is_set():
        await asyncio.to_thread(relay_all)
        gateway = configured()
        if gateway is not None:
            counts = await asyncio.to_thread(send_now, gateway)
            if counts["stale"]:
                tell(f"短信：{counts['stale']} 条生成后超过 24 小时仍未发出，不再发送")
            if counts["failed"]:
                tell(f"短信：{counts['failed']} 条发送失败，可在短信记录页或 hotline sms retry 重新发送")
            if counts["sent"] + counts["failed"] + counts["retry"] >= service.SEND_BATCH:
                continue  # more may be due
        await sleep(poll, stop)
