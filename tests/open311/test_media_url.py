"""Open311 `media_url`: the address of the citizen's photo an app sends with a request is kept with its work order,
given back by GET (JSON and XML), and shown to staff in the order page's 附件 section as an external link that
leaks no referrer and earns no search ranking. Only http(s) addresses of at most 1,000 characters: anything else is
refused in the standard's form and writes nothing. The platform never fetches it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.open311.domain import MAX_MEDIA_URL
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders
from tests.open311.test_api import KEY, ZJJ, _orders, _submit, client

__all__ = ["client"]  # the fixture: the app with two Open311 apps, tianfu and wechat

PHOTO = "https://img.tianfu.example.cn/upload/2021/06/井盖.jpg?sig=a1&size=large"


def _get(client: TestClient, number: str, fmt: str = "json") -> httpx.Response:
    return client.get(f"/open311/v2/requests/{number}.{fmt}", params={"api_key": KEY["tianfu"]})


def _section(html: str) -> str:
    found = re.search(r'<section class="card" id="attachments">(.*?)</section>', html, re.S)
    return found[1] if found else ""


def test_media_url_is_kept_and_given_back_in_json_and_xml(client: TestClient) -> None:
    number = _submit(client, media_url=f"  {PHOTO} ").json()[0]["service_request_id"]
    without = _submit(client).json()[0]["service_request_id"]
    assert _get(client, number).json()[0]["media_url"] == PHOTO
    xml = ElementTree.fromstring(_get(client, number, "xml").content)
    assert xml.findtext("request/media_url") == PHOTO
    listed = client.get("/open311/v2/requests.json", params={"api_key": KEY["tianfu"]}).json()
    assert {r["service_request_id"]: r["media_url"] for r in listed} == {number: PHOTO, without: None}
    by_ids = client.get(
        "/open311/v2/requests.xml", params={"api_key": KEY["tianfu"], "service_request_id": f"{without},{number}"}
    )
    assert [e.findtext("media_url") for e in ElementTree.fromstring(by_ids.content)] == ["", PHOTO]
    with session_scope() as session:  # kept in the 受理 entry of the order's history
        order = workorders.show_order(session, number, "dispatcher")
    assert order["history"][0]["changes"]["media_url"] == [None, PHOTO]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("javascript:alert(1)", "open311-media-url-invalid"),
        ("file:///etc/passwd", "open311-media-url-invalid"),
        ("ftp://img.example.cn/a.jpg", "open311-media-url-invalid"),
        ("img.example.cn/a.jpg", "open311-media-url-invalid"),  # no scheme
        ("https:///a.jpg", "open311-media-url-invalid"),  # no host
        ("https://img.example.cn/a b.jpg", "open311-media-url-invalid"),
        ("http://[::1/a.jpg", "open311-media-url-invalid"),  # malformed host
        ("https://img.example.cn/" + "a" * MAX_MEDIA_URL, "open311-media-url-too-long"),
    ],
)
def test_a_media_url_that_is_no_web_address_is_refused_and_nothing_is_kept(
    client: TestClient, url: str, code: str
) -> None:
    got = _submit(client, media_url=url)
    assert got.status_code == 400
    (error,) = got.json()
    assert (error["code"], error["error_code"]) == (400, code) and "media_url" in error["description"]
    assert _orders() == 0


def test_the_longest_allowed_media_url_is_kept(client: TestClient) -> None:
    url = "http://img.example.cn/" + "a" * (MAX_MEDIA_URL - len("http://img.example.cn/"))
    number = _submit(client, media_url=url).json()[0]["service_request_id"]
    assert _get(client, number).json()[0]["media_url"] == url


def test_the_order_page_links_the_photo_without_fetching_it(client: TestClient) -> None:
    number = _submit(client, media_url=PHOTO).json()[0]["service_request_id"]
    shown = _section(client.get(f"/orders/{number}", params={"role": "agent"}).text)
    link = re.search(r'<a href="([^"]+)"([^>]*)>市民上传的图片（外部链接）</a>', shown)
    assert link is not None and link[1].replace("&amp;", "&") == PHOTO
    assert 'rel="noopener noreferrer nofollow"' in link[2] and 'target="_blank"' in link[2]
    assert "<img" not in shown  # no thumbnail: the browser is not made to load it either
    assert "本工单暂无附件" not in shown

    at = datetime.now(CHINA_TZ)  # the handling unit sees it on its order too
    with session_scope() as session:
        workorders.act(session, number, "dispatch", role="dispatcher", target_unit=ZJJ, at=at)
    unit = _section(client.get(f"/orders/{number}", params={"role": "department", "unit": ZJJ}).text)
    assert "市民上传的图片（外部链接）" in unit

    plain = _submit(client).json()[0]["service_request_id"]
    other = _section(client.get(f"/orders/{plain}", params={"role": "agent"}).text)
    assert "市民上传的图片" not in other and "本工单暂无附件" in other


@pytest.fixture
def photo_host() -> Iterator[tuple[str, list[str]]]:
    """A web server on this machine standing for the app's image host, counting the requests it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/photo.jpg", hits
    server.shutdown()
    server.server_close()


def test_the_platform_never_fetches_the_media_url(client: TestClient, photo_host: tuple[str, list[str]]) -> None:
    url, hits = photo_host
    number = _submit(client, media_url=url).json()[0]["service_request_id"]
    assert _get(client, number).json()[0]["media_url"] == url
    assert _get(client, number, "xml").status_code == 200
    assert url in client.get(f"/orders/{number}", params={"role": "agent"}).text
    assert hits == []  # an address inside the centre's network is no way in for an app (no SSRF)
