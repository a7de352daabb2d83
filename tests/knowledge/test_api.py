"""HTTP contract of /api/kb: success shapes and error codes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from hotline.app import create_app


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_app())


def _create(client: TestClient, **kw: object) -> dict:  # type: ignore[type-arg]
    body = {"title": "社保卡挂失", "body": "社会保障卡丢失后应立即挂失并补办", "actor": "editor", **kw}
    res = client.post("/api/kb/articles", json=body)
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


def test_author_publish_search_withdraw(client: TestClient) -> None:
    art = _create(client, lines=["12333"], owner_unit="人社厅", external_id="HR-1")
    assert art["status"] == "draft" and art["external_id"] == "HR-1"
    assert client.get("/api/kb/search", params={"q": "社会保障卡丢失"}).json()["results"] == []
    for status in ("review", "published"):
        res = client.post(f"/api/kb/articles/{art['id']}/status", json={"status": status, "actor": "chief"})
        assert res.status_code == 200
    hits = client.get("/api/kb/search", params={"q": "社会保障卡丢失", "line": "12333"}).json()["results"]
    assert hits[0]["article_id"] == "HR-1" and "<mark>" in hits[0]["snippet"]
    res = client.patch("/api/kb/articles/HR-1", json={"keywords": ["社保卡"], "actor": "editor"})
    assert res.json()["version"] == 4
    versions = client.get("/api/kb/articles/HR-1/versions").json()["versions"]
    assert [v["changed_fields"] for v in versions][-1] == ["keywords"]
    client.post("/api/kb/articles/HR-1/status", json={"status": "withdrawn", "actor": "chief"})
    assert client.get("/api/kb/search", params={"q": "社会保障卡丢失"}).json()["results"] == []
    changes = client.get("/api/kb/changes", params={"since": "2000-01-01"}).json()
    assert changes["articles"][0]["status"] == "withdrawn" and changes["next_since"]


def test_error_codes(client: TestClient) -> None:
    res = client.get("/api/kb/articles/missing")
    assert res.status_code == 404 and res.json()["code"] == "article-not-found"
    art = _create(client)
    res = client.post(f"/api/kb/articles/{art['id']}/status", json={"status": "published", "actor": "x"})
    assert res.status_code == 409 and res.json()["code"] == "transition-not-allowed"
    res = client.post("/api/kb/articles", json={"title": "", "body": "", "actor": "x"})
    assert res.status_code == 422 and res.json()["code"] == "article-empty"
    res = client.post("/api/kb/articles", json={"body": "x", "actor": "x", "external_id": art["external_id"]})
    assert res.status_code == 409 and res.json()["code"] == "article-exists"
    res = client.get("/api/kb/search", params={"q": " "})
    assert res.status_code == 422 and res.json()["code"] == "empty-query"
    res = client.get("/api/kb/search", params={"q": "x", "valid_on": "2021-13-01"})
    assert res.status_code == 422 and res.json()["code"] == "invalid-date"
    res = client.get("/api/kb/changes", params={"since": "yesterday"})
    assert res.status_code == 422 and res.json()["code"] == "invalid-time"
    res = client.post(f"/api/kb/articles/{art['id']}/flags", json={"kind": "wrong", "agent": "a"})
    assert res.status_code == 422 and res.json()["code"] == "invalid-flag"
    res = client.post("/api/kb/flags/999/review", json={"resolution": "confirmed", "actor": "a"})
    assert res.status_code == 404 and res.json()["code"] == "flag-not-found"
    res = client.get("/api/kb/export", params={"format": "pdf"})
    assert res.status_code == 422 and res.json()["code"] == "unsupported-format"


def test_a_change_from_an_old_copy_is_refused(client: TestClient) -> None:
    art = _create(client)
    assert (
        client.patch(f"/api/kb/articles/{art['id']}", json={"body": "新内容", "actor": "a", "version": 1}).json()[
            "version"
        ]
        == 2
    )
    stale = client.patch(f"/api/kb/articles/{art['id']}", json={"body": "旧副本的改动", "actor": "b", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "stale-version"
    assert stale.json()["details"] == {"current": 2}
    moved = client.post(f"/api/kb/articles/{art['id']}/status", json={"status": "review", "actor": "b", "version": 1})
    assert moved.status_code == 409 and moved.json()["code"] == "stale-version"
    current = client.get(f"/api/kb/articles/{art['id']}").json()
    assert (current["body"], current["status"], current["version"]) == ("新内容", "draft", 2)


def test_a_correction_says_what_is_wrong(client: TestClient) -> None:
    art = _create(client)
    res = client.post(
        f"/api/kb/articles/{art['id']}/flags", json={"kind": "outdated", "agent": "座席7", "comment": " "}
    )
    assert res.status_code == 422 and res.json()["code"] == "comment-required"
    assert (
        client.post(f"/api/kb/articles/{art['id']}/flags", json={"kind": "useful", "agent": "座席7"}).status_code == 201
    )


def test_flag_review_flow(client: TestClient) -> None:
    art = _create(client, owner_unit="省医保局")
    res = client.post(
        f"/api/kb/articles/{art['id']}/flags", json={"kind": "outdated", "agent": "座席7", "comment": "已调整"}
    )
    assert res.status_code == 201 and res.json()["review_due"] and res.json()["overdue"] is False
    flags = client.get("/api/kb/flags", params={"unit": "省医保局"}).json()["flags"]
    assert len(flags) == 1
    res = client.post(f"/api/kb/flags/{flags[0]['id']}/review", json={"resolution": "confirmed", "actor": "审核员"})
    assert res.json()["resolution"] == "confirmed"
    assert client.get("/api/kb/flags", params={"unit": "省医保局"}).json()["flags"] == []


def test_import_upload_and_export(client: TestClient) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "标题", "正文", "适用热线"])
    sheet.append(["T-1", "个税汇算", "个人所得税年度汇算可通过个税App办理", "12366"])
    buf = io.BytesIO()
    book.save(buf)
    res = client.post(
        "/api/kb/import",
        files={"file": ("dept.xlsx", buf.getvalue(), "application/octet-stream")},
        data={"id_column": "编号", "body_column": "正文", "title_column": "标题"},
    )
    assert res.status_code == 200 and res.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert client.get("/api/kb/search", params={"q": "年度汇算"}).json()["results"][0]["article_id"] == "T-1"
    res = client.post(
        "/api/kb/import",
        files={"file": ("dept.csv", "编号,正文\nT-2,内容\n".encode(), "text/csv")},
        data={"id_column": "id", "body_column": "正文"},
    )
    assert res.status_code == 422 and res.json()["code"] == "missing-column"
    res = client.get("/api/kb/export", params={"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(res.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "T-1" and rows[1][10] == "已发布"
    csv_text = client.get("/api/kb/export").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("编号,标题,正文")
    res = client.post(
        "/api/kb/import",
        files={"file": ("dept.pdf", b"%PDF", "application/pdf")},
        data={"id_column": "编号", "body_column": "正文"},
    )
    assert res.status_code == 422 and res.json()["code"] == "unsupported-format"


def test_import_upload_of_an_old_excel_file(client: TestClient) -> None:
    xls = (Path(__file__).parent / "data" / "department.xls").read_bytes()
    res = client.post(
        "/api/kb/import",
        files={"file": ("医保局知识库.xls", xls, "application/vnd.ms-excel")},
        data={"id_column": "编号", "body_column": "答复口径", "title_column": "问题"},
    )
    assert res.status_code == 200 and res.json() == {"created": 3, "updated": 0, "unchanged": 0}
    found = client.get("/api/kb/search", params={"q": "异地就医备案"}).json()["results"][0]
    assert found["article_id"] == "1002"
    res = client.post(
        "/api/kb/import",
        files={"file": ("broken.xls", b"not a workbook", "application/vnd.ms-excel")},
        data={"id_column": "编号", "body_column": "答复口径"},
    )
    assert res.status_code == 422 and res.json()["code"] == "bad-xlsx"


def test_flags_of_one_article(client: TestClient) -> None:
    first = _create(client, owner_unit="省医保局")
    second = _create(client, title="医保卡挂失", owner_unit="省医保局")
    for art, comment in ((first, "电话已改"), (second, "地址已改"), (second, "材料已变")):
        body = {"kind": "outdated", "agent": "座席7", "comment": comment}
        assert client.post(f"/api/kb/articles/{art['id']}/flags", json=body).status_code == 201
    listed = client.get("/api/kb/flags", params={"article": str(second["id"])}).json()["flags"]
    assert sorted(f["comment"] for f in listed) == ["地址已改", "材料已变"]
    missing = client.get("/api/kb/flags", params={"article": "99999"})
    assert missing.status_code == 404 and missing.json()["code"] == "article-not-found"


def test_useful_once_per_person_and_version(client: TestClient) -> None:
    art = _create(client)
    mark = {"kind": "useful", "agent": "座席7"}
    assert client.post(f"/api/kb/articles/{art['id']}/flags", json=mark).status_code == 201
    again = client.post(f"/api/kb/articles/{art['id']}/flags", json=mark)
    assert again.status_code == 409 and again.json()["code"] == "already-marked"
    assert client.post(f"/api/kb/articles/{art['id']}/flags", json={**mark, "agent": "座席8"}).status_code == 201
    assert client.patch(f"/api/kb/articles/{art['id']}", json={"body": "新内容", "actor": "b"}).status_code == 200
    assert client.post(f"/api/kb/articles/{art['id']}/flags", json=mark).status_code == 201  # the new version
    marks = client.get("/api/kb/flags", params={"kind": "useful", "open_only": "false", "article": str(art["id"])})
    assert sorted((f["agent"], f["article_version"]) for f in marks.json()["flags"]) == [
        ("座席7", 1),
        ("座席7", 2),
        ("座席8", 1),
    ]
