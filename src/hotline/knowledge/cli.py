"""Commands of hotline.knowledge: `hotline kb import|search|export|expire`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.knowledge import service, transfer

app = HotlineTyper(no_args_is_help=True, help="知识库：导入、检索、导出")


@app.command("import", help="导入知识；已导入过的编号作为该知识的新版本更新")
def import_(
    file: Path = typer.Argument(..., help="CSV 或 Excel 文件（xlsx、xls）"),
    id_column: str = typer.Option(..., "--id-column", help="编号列（作为外部编号保存）"),
    body_column: str = typer.Option(..., "--body-column", help="正文列"),
    title_column: str | None = typer.Option(None, "--title-column", help="标题列（可选）"),
    status: str = typer.Option("published", help="新知识的状态：draft/review/published"),
    actor: str = typer.Option("import", help="操作人"),
) -> None:
    """Import articles; an id seen before updates that article as a new version."""
    with session_scope() as session:
        summary = service.import_file(
            session,
            file,
            id_column=id_column,
            body_column=body_column,
            title_column=title_column,
            actor=actor,
            status=status,
        )
        service.get_index(session)  # build the search index now rather than at the first search
    typer.echo(summary.text())


@app.command("search", help="检索知识库（单条文本，或用查询文件批量检索）")
def search(
    text: str | None = typer.Argument(None, help="搜索内容"),
    top: int = typer.Option(10, "--top", help="返回条数"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    queries: Path | None = typer.Option(None, "--queries", help="批量检索：含 query_id 列的 CSV/XLSX"),
    text_columns: str = typer.Option(
        "subject,detail", "--text-columns", help="批量检索的文本列，逗号分隔，第一列权重不同"
    ),
    output: Path | None = typer.Option(None, "--output", help="批量检索结果 CSV：query_id,rank,article_id,score"),
) -> None:
    """Search the knowledge base (one text, or a file of queries in batch)."""
    if queries is not None:
        if output is None:
            raise InvalidInput("批量检索需要 --output 文件", code="output-required")
        columns = [c.strip() for c in text_columns.split(",") if c.strip()]
        rows = transfer.read_table(queries, needed=["query_id", *columns])
        with session_scope() as session:
            results = service.search_batch(session, rows, text_columns=columns, top=top)
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["query_id", "rank", "article_id", "score"])
            for query_id, hits in results:
                for hit in hits:
                    writer.writerow([query_id, hit["rank"], hit["article_id"], f"{hit['score']:.6f}"])
        typer.echo(f"已检索 {len(results)} 条查询，结果写入 {output}")
        return
    if not text:
        raise InvalidInput("请输入要搜索的内容，或用 --queries 指定批量查询文件", code="empty-query")
    with session_scope() as session:
        hits = service.search_articles(session, text, top=top)
    if as_json:
        typer.echo(json.dumps({"query": text, "results": hits}, ensure_ascii=False, indent=2))
        return
    if not hits:
        typer.echo("没有找到相关知识")
    for hit in hits:
        title = hit["title"] or "（无标题）"
        typer.echo(f"{hit['rank']}. [{hit['article_id']}] {title}  得分 {hit['score']:.3f}")
        typer.echo(f"   {hit['snippet'].replace('<mark>', '【').replace('</mark>', '】')}")


@app.command("learn", help="从已答复的留言学习哪条知识答复哪类诉求（用于每次检索的重排）")
def learn(
    pairs: Path | None = typer.Option(None, "--pairs", help="已答复留言文件（CSV/XLSX）：留言文本列 + 答复知识编号列"),
    text_columns: str = typer.Option("subject,detail", "--text-columns", help="留言文本列，逗号分隔"),
    article_column: str | None = typer.Option(
        None, "--article-column", help="答复该留言的知识外部编号列（用 --pairs 时必填）"
    ),
    from_db: bool = typer.Option(False, "--from-db", help="加入话务员依据知识直接办结的工单（市民不满意或重办的除外）"),
    articles: Path | None = typer.Option(None, "--articles", help="知识文件（CSV/XLSX）；不指定则用知识库中已有的知识"),
    article_id_column: str = typer.Option("reply_id", "--article-id-column", help="知识文件的编号列"),
    article_body_column: str = typer.Option("reply", "--article-body-column", help="知识文件的正文列"),
    article_title_column: str | None = typer.Option(None, "--article-title-column", help="知识文件的标题列（可选）"),
    if_missing: bool = typer.Option(False, "--if-missing", help="已有答复模型时不重新学习"),
    force: bool = typer.Option(False, "--force", help="即使当前模型学自更多留言也替换"),
) -> None:
    """Learn which articles answer which messages (a rerank feature of every search)."""
    if if_missing and service.answer_model() is not None:  # one of another format counts as missing
        typer.echo(f"答复模型已存在：{service.answers_path()}")
        return
    if pairs is None and not from_db:
        raise InvalidInput("请用 --pairs 给出已答复留言文件，或用 --from-db 从工单学习", code="pairs-required")
    learned: list[tuple[str, str]] = []
    if pairs is not None:
        if not article_column:
            raise InvalidInput("用 --pairs 时须用 --article-column 指定答复知识编号列", code="missing-column")
        columns = [c.strip() for c in text_columns.split(",") if c.strip()]
        rows = transfer.read_table(pairs, needed=[*columns, article_column])
        learned += service.pairs_from_rows(rows, text_columns=columns, article_column=article_column)
    texts: dict[str, str] = {}
    if articles is not None:
        needed = [article_id_column, article_body_column, article_title_column or ""]
        texts = service.article_texts_from(
            transfer.read_table(articles, needed=needed),
            id_column=article_id_column,
            body_column=article_body_column,
            title_column=article_title_column,
        )
    if from_db or articles is None:
        with session_scope() as session:
            if from_db:
                from hotline.workorders.service import list_answered_orders  # only this option reads orders

                orders = list_answered_orders(session)
                typer.echo(f"工单中依据知识直接办结的答复：{len(orders)} 条")
                learned += orders
            if articles is None:
                texts = service.article_texts(session)
    summary = service.learn_answers(learned, articles=texts, replace_larger=force or not from_db)
    typer.echo(f"{summary.text()}，保存于 {service.answers_path()}")


@app.command("export", help="按文档规定的列导出知识")
def export(
    file: Path = typer.Argument(..., help="导出文件（.csv 或 .xlsx）"),
    status: str | None = typer.Option(None, help="只导出该状态的知识"),
) -> None:
    """Export articles with the documented columns."""
    with session_scope() as session:
        count = service.export_articles(session, file, status=status)
    typer.echo(f"已导出 {count} 条知识到 {file}")


@app.command("status", help="变更知识的状态（如撤回已过时的知识）")
def status(
    key: str = typer.Argument(..., help="知识编号或外部编号"),
    target: str = typer.Argument(..., help="新状态：draft/review/published/withdrawn/expired"),
    actor: str = typer.Option(..., "--actor", help="操作人"),
    note: str = typer.Option("", "--note", help="说明"),
) -> None:
    """Move an article through its lifecycle (e.g. withdraw an outdated one)."""
    from hotline.knowledge.domain import STATUS_LABELS, Status

    with session_scope() as session:
        article = service.set_status(session, key, target, actor=actor, note=note)
        label = STATUS_LABELS[Status(article.status)]
        typer.echo(f"知识 {article.external_id} 已改为“{label}”（第 {article.version} 版）")


@app.command("expire", help="把已过有效期的已发布知识标记为已过期")
def expire() -> None:
    """Mark published articles past their expiry date as expired."""
    with session_scope() as session:
        rows = service.expire_due(session)
    typer.echo(f"已将 {len(rows)} 条到期知识标记为已过期")
