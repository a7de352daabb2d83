"""Commands of hotline.dispatch: `train`, `predict`, `suggest`."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.timeutil import parse_instant

app = HotlineTyper(no_args_is_help=True, help="智能派单：一级分类建议、承办单位建议、重复诉求（并单）")


def _service() -> ModuleType:
    # Imported when a dispatch command runs: scikit-learn takes seconds to load, and every other `hotline`
    # command would pay for it.
    from hotline.dispatch import service

    return service


def _echo(line: str) -> None:
    typer.echo(line, err=True)


@app.command("train", help="训练新版本的一级分类模型并设为当前模型")
def train(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="训练数据目录（默认 HOTLINE_TRAINING_DATA 或 <代码目录>/../shared/data）"
    ),
    seed: int = typer.Option(0, help="随机种子（相同种子与数据得到相同模型）"),
    folds: int = typer.Option(5, help="分组交叉验证折数；0 表示不做交叉验证（更快）"),
    from_db: bool = typer.Option(False, "--from-db", help="加入数据库中派单员确认的分类，评估后再替换当前模型"),
    force: bool = typer.Option(False, "--force", help="即使新模型评估更差也替换当前模型"),
    if_missing: bool = typer.Option(False, "--if-missing", help="已有模型时不训练（供安装脚本使用）"),
) -> None:
    """Train a new versioned model of the first-level category and make it current."""
    existing = _service().usable_version() if if_missing else None
    if existing is not None:
        typer.echo(f"已有派单模型 {existing}，跳过训练")
        return
    if from_db:
        with session_scope() as session:
            report = _service().train_model(
                data_dir=data_dir, seed=seed, folds=folds, session=session, force=force, echo=typer.echo
            )
    else:
        report = _service().train_model(data_dir=data_dir, seed=seed, folds=folds, echo=typer.echo)
    if not report.replaced:
        raise typer.Exit(1)


@app.command("predict", help="按行序预测 CSV 文件中每条诉求的分类（尚无模型时先训练）")
def predict(
    input: Path = typer.Option(..., "--input", help="输入 CSV（UTF-8）"),
    text_column: str = typer.Option("text", "--text-column", help="诉求文本所在列"),
    output: Path = typer.Option(..., "--output", help="输出 CSV：原有各列加 label、confidence、manual"),
    threshold: float | None = typer.Option(None, help="低于此置信度标记为人工派单（默认 0.6）"),
) -> None:
    """Predict the category of every row of a CSV file, in order (trains a model first if none exists)."""
    n = _service().predict_file(input, output, text_column=text_column, threshold=threshold, echo=_echo)
    typer.echo(f"已写入 {output}（{n} 行）")


@app.command(
    "suggest",
    help="给出一条诉求的派单建议（JSON）\n\n内容：一级分类及前三个候选分类、承办单位、重复诉求。",
)
def suggest(
    text: str = typer.Argument(..., help="诉求内容"),
    region: str | None = typer.Option(None, help="地区代码或名称"),
    line: str | None = typer.Option(None, help="市民拨打的号码"),
    phone: str | None = typer.Option(None, help="来电号码（用于查找重复诉求）"),
    place: str | None = typer.Option(None, help="事发地点"),
    at: str | None = typer.Option(None, help="受理时间 ISO 8601（默认现在）"),
) -> None:
    """Print the dispatch advice for one demand (JSON): category, top 3, unit, repeated demands."""
    when = parse_instant(at) if at else None
    with session_scope() as session:
        advice = _service().advise(session, text=text, region_code=region, line=line, phone=phone, place=place, at=when)
    typer.echo(json.dumps(advice, ensure_ascii=False, indent=2))
