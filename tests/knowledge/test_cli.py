"""`hotline kb ...`: import from CSV and XLSX, search (text, JSON, batch), export, errors on stderr."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from hotline.cli import mount
from hotline.errors import InvalidInput

runner = CliRunner()


def _corpus_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["reply_id", "reply_time", "reply"])
        w.writerow(
            [
                "R1",
                "2019/5/10 14:56:53",
                "关于您反映A2区景蓉花苑物业管理有问题的情况，业委会已召开业主大会研究停车收费。",
            ]
        )
        w.writerow(
            ["R2", "2019/5/9 9:49:10", "您反映的潇楚大道西线道路工程目前正在进行土方及排水施工，预计8月底完工通车。"]
        )
        w.writerow(["R3", "2019/5/8 9:00:00", "关于小区加装电梯的问题，请按程序经业主表决后向街道申请。"])
    return path


def test_import_csv_search_batch_and_export(db_url: str, tmp_path: Path) -> None:
    corpus = _corpus_csv(tmp_path / "replies.csv")
    res = runner.invoke(mount(), ["kb", "import", str(corpus), "--id-column", "reply_id", "--body-column", "reply"])
    assert res.exit_code == 0, res.output
    assert "新增 3 条" in res.output

    res = runner.invoke(mount(), ["kb", "search", "潇楚大道道路施工什么时候完工", "--top", "2", "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["results"][0]["article_id"] == "R2" and len(payload["results"]) <= 2

    queries = tmp_path / "queries.csv"
    with queries.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query_id", "subject", "detail", "reply_id"])
        w.writerow(["Q1", "景蓉花苑物业管理有问题", "小区停车收费不合理", "R1"])
        w.writerow(["Q2", "老小区想装电梯", "楼层高老人上下楼不方便", "R3"])
    out = tmp_path / "out.csv"
    res = runner.invoke(
        mount(),
        [
            "kb",
            "search",
            "--queries",
            str(queries),
            "--text-columns",
            "subject,detail",
            "--top",
            "10",
            "--output",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["query_id", "rank", "article_id", "score"]
    firsts = {r[0]: r[2] for r in rows[1:] if r[1] == "1"}
    assert firsts == {"Q1": "R1", "Q2": "R3"}
    ranks = [int(r[1]) for r in rows[1:] if r[0] == "Q1"]
    assert ranks == list(range(1, len(ranks) + 1))
    scores = [float(r[3]) for r in rows[1:] if r[0] == "Q1"]
    assert scores == sorted(scores, reverse=True)

    res = runner.invoke(mount(), ["kb", "status", "R2", "withdrawn", "--actor", "审核员", "--note", "已过时"])
    assert res.exit_code == 0 and "已撤回" in res.output
    res = runner.invoke(mount(), ["kb", "search", "潇楚大道道路施工什么时候完工", "--json"])
    assert "R2" not in [h["article_id"] for h in json.loads(res.output)["results"]]

    export = tmp_path / "kb.xlsx"
    res = runner.invoke(mount(), ["kb", "export", str(export)])
    assert res.exit_code == 0 and "3 条" in res.output
    assert load_workbook(export).worksheets[0].max_row == 4


def test_import_xlsx_reimport_updates_as_new_version(db_url: str, tmp_path: Path) -> None:
    def book(body: str) -> Path:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["知识编号", "知识标题", "知识内容"])
        ws.append([101, "公积金提取", body])
        path = tmp_path / "kb.xlsx"
        wb.save(path)
        return path

    args = ["--id-column", "知识编号", "--title-column", "知识标题", "--body-column", "知识内容"]
    res = runner.invoke(mount(), ["kb", "import", str(book("购房可以提取住房公积金")), *args])
    assert res.exit_code == 0 and "新增 1 条" in res.output
    res = runner.invoke(mount(), ["kb", "import", str(book("购房、租房可以提取住房公积金")), *args])
    assert res.exit_code == 0 and "更新 1 条" in res.output
    res = runner.invoke(mount(), ["kb", "search", "租房提取公积金", "--json"])
    hit = json.loads(res.output)["results"][0]
    assert hit["article_id"] == "101" and hit["title"] == "公积金提取"


def test_errors_go_to_stderr_with_exit_2(db_url: str, tmp_path: Path) -> None:
    corpus = _corpus_csv(tmp_path / "replies.csv")
    env = {**os.environ, "HOTLINE_DATABASE_URL": db_url}
    proc = subprocess.run(
        [sys.executable, "-m", "hotline", "kb", "import", str(corpus), "--id-column", "编号", "--body-column", "reply"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "错误[missing-column]" in proc.stderr
    # The same mapping applies to every HotlineError; here the error itself is checked in-process.
    res = runner.invoke(mount(), ["kb", "search", "--queries", str(corpus)])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "output-required"
    res = runner.invoke(mount(), ["kb", "search", "--queries", str(corpus), "--output", str(tmp_path / "o.csv")])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "missing-column"


def _pairs_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query_id", "subject", "detail", "reply_id"])
        w.writerow(["Q1", "景蓉花苑物业乱收停车费", "业委会不管", "R1"])
        w.writerow(["Q2", "潇楚大道什么时候通车", "施工很久了", "R2"])
        w.writerow(["Q3", "老楼加装电梯怎么申请", "老人上下楼难", "R3"])
        w.writerow(["Q4", "没有对应知识的留言", "答复编号不存在", "R9"])
    return path


def test_learn_from_answered_messages_reaches_the_search(db_url: str, tmp_path: Path) -> None:
    from hotline.db import session_scope
    from hotline.knowledge import service

    corpus = _corpus_csv(tmp_path / "replies.csv")
    pairs = _pairs_csv(tmp_path / "pairs.csv")
    assert (
        runner.invoke(
            mount(), ["kb", "import", str(corpus), "--id-column", "reply_id", "--body-column", "reply"]
        ).exit_code
        == 0
    )
    path = service.answers_path()
    try:
        with session_scope() as s:
            before = service.get_index(s)
            assert before.answers is None
        # Articles from the knowledge base itself (matched by external id); the pair without one is skipped.
        res = runner.invoke(mount(), ["kb", "learn", "--pairs", str(pairs), "--article-column", "reply_id"])
        assert res.exit_code == 0, res.output
        assert "已从 3 条已答复的留言学习答复模型" in res.output and "1 条因找不到对应知识" in res.output
        assert path.exists()
        with session_scope() as s:
            index = service.get_index(s)  # the new model is picked up without a restart
            assert index.answers is not None and index.answers.digest == service.answer_model().digest  # type: ignore[union-attr]
            assert index.signature != before.signature
            hits = service.search_articles(s, ["景蓉花苑物业乱收停车费", "业委会不管"], top=1)
            assert hits[0]["article_id"] == "R1"

        res = runner.invoke(
            mount(), ["kb", "learn", "--pairs", str(pairs), "--article-column", "reply_id", "--if-missing"]
        )
        assert res.exit_code == 0 and "答复模型已存在" in res.output

        # Articles from a file instead (as set-up does with the shared replies).
        path.unlink()
        res = runner.invoke(
            mount(),
            [
                "kb",
                "learn",
                "--pairs",
                str(pairs),
                "--article-column",
                "reply_id",
                "--articles",
                str(corpus),
                "--article-id-column",
                "reply_id",
                "--article-body-column",
                "reply",
            ],
        )
        assert res.exit_code == 0 and path.exists(), res.output

        res = runner.invoke(mount(), ["kb", "learn", "--pairs", str(pairs), "--article-column", "编号"])
        assert isinstance(res.exception, InvalidInput) and res.exception.code == "missing-column"
        res = runner.invoke(
            mount(),
            [
                "kb",
                "learn",
                "--pairs",
                str(pairs),
                "--article-column",
                "reply_id",
                "--articles",
                str(corpus),
                "--article-body-column",
                "正文",
            ],
        )
        assert isinstance(res.exception, InvalidInput) and res.exception.code == "missing-column"
    finally:
        path.unlink(missing_ok=True)  # the data folder is shared by the whole session


def test_learn_from_orders_agents_answered_from_articles(db_url: str, tmp_path: Path) -> None:
    from datetime import datetime

    from hotline.db import session_scope
    from hotline.errors import Conflict
    from hotline.knowledge import service
    from hotline.timeutil import CHINA_TZ
    from hotline.workorders import service as orders

    corpus = _corpus_csv(tmp_path / "replies.csv")
    pairs = _pairs_csv(tmp_path / "pairs.csv")
    assert (
        runner.invoke(
            mount(), ["kb", "import", str(corpus), "--id-column", "reply_id", "--body-column", "reply"]
        ).exit_code
        == 0
    )
    at = datetime(2024, 3, 1, 10, tzinfo=CHINA_TZ)
    with session_scope() as s:
        for text, article in (("小区物业乱收停车费，业委会不作为", "R1"), ("想给老楼装电梯，找谁申请", "R3")):
            order = orders.create_order(s, type="咨询", content=text, phone="13812341234", region="510100", at=at)
            orders.act(s, order, "direct_resolve", role="agent", article=article, at=at)
    path = service.answers_path()
    try:
        res = runner.invoke(mount(), ["kb", "learn", "--from-db"])
        assert res.exit_code == 0, res.output
        assert "工单中依据知识直接办结的答复：2 条" in res.output and "已从 2 条已答复的留言学习答复模型" in res.output
        assert service.answer_model().train_x.shape[0] == 2  # type: ignore[union-attr]

        # The orders and a file of answered messages together; then the orders alone may not replace that.
        res = runner.invoke(
            mount(), ["kb", "learn", "--from-db", "--pairs", str(pairs), "--article-column", "reply_id"]
        )
        assert res.exit_code == 0 and "已从 5 条已答复的留言学习答复模型" in res.output, res.output
        digest = service.answer_model().digest  # type: ignore[union-attr]
        res = runner.invoke(mount(), ["kb", "learn", "--from-db"])
        assert isinstance(res.exception, Conflict) and res.exception.code == "answers-fewer-pairs"
        assert service.answer_model().digest == digest  # type: ignore[union-attr]
        res = runner.invoke(mount(), ["kb", "learn", "--from-db", "--force"])
        assert res.exit_code == 0 and service.answer_model().train_x.shape[0] == 2, res.output  # type: ignore[union-attr]

        res = runner.invoke(mount(), ["kb", "learn"])
        assert isinstance(res.exception, InvalidInput) and res.exception.code == "pairs-required"
        res = runner.invoke(mount(), ["kb", "learn", "--pairs", str(pairs)])
        assert isinstance(res.exception, InvalidInput) and res.exception.code == "missing-column"
    finally:
        path.unlink(missing_ok=True)


def test_import_a_departments_old_excel_file(db_url: str) -> None:
    # An .xls with an instructions sheet first and a title above the header (tests/knowledge/data/README.md).
    path = Path(__file__).parent / "data" / "department.xls"
    res = runner.invoke(
        mount(),
        ["kb", "import", str(path), "--id-column", "编号", "--title-column", "问题", "--body-column", "答复口径"],
    )
    assert res.exit_code == 0, res.output
    assert "新增 3 条" in res.output
    res = runner.invoke(mount(), ["kb", "search", "医保卡丢了去哪里补办", "--top", "1", "--json"])
    hit = json.loads(res.output)["results"][0]
    assert (hit["article_id"], hit["title"]) == ("1001", "医保卡丢失怎么补办")
