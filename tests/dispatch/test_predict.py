"""`hotline dispatch predict`: every input row, in order, with label and confidence; clear errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.dispatch import service
from hotline.dispatch.domain import CATEGORIES


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", "dispatch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Runs `hotline ARGS` in this process (as the console script does): exit code, stdout, stderr."""
    from hotline.cli import main

    monkeypatch.setattr(sys, "argv", ["hotline", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    code = exit_.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out.out, out.err


def _write(path: Path, rows: list[dict[str, str]], fields: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_predict_writes_label_and_confidence_for_every_row_in_order(
    trained: str, raw_messages: list[dict[str, str]], tmp_path: Path
) -> None:
    rows = [{"id": str(i), "content": r["text"], "label": "真实分类"} for i, r in enumerate(raw_messages)]
    rows.insert(3, {"id": "empty", "content": "", "label": ""})
    src, out = tmp_path / "in.csv", tmp_path / "out" / "pred.csv"
    _write(src, rows, ["id", "content", "label"])
    run = _run("predict", "--input", str(src), "--text-column", "content", "--output", str(out))
    assert run.returncode == 0, run.stderr
    with out.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        got = list(reader)
        assert reader.fieldnames is not None and {"label", "confidence"} <= set(reader.fieldnames)
    assert [g["id"] for g in got] == [r["id"] for r in rows]
    assert [g["content"] for g in got] == [r["content"] for r in rows]
    for g in got:
        assert g["label"] in CATEGORIES  # the input's own "label" column is replaced by the prediction
        assert 0.0 <= float(g["confidence"]) <= 1.0
        assert g["manual"] == ("是" if float(g["confidence"]) < 0.6 else "否")
    # The tiny test model still recognises most of these messages' categories.
    correct = sum(g["label"] == r["label"] for g, r in zip(got[:3] + got[4:], raw_messages, strict=True))
    assert correct >= len(raw_messages) // 2


def test_predict_missing_column_exits_2_and_writes_nothing(
    trained: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(src, [{"content": "路灯坏了"}], ["content"])
    code, _, err = _cli(["dispatch", "predict", "--input", str(src), "--output", str(out)], monkeypatch, capsys)
    assert code == 2
    assert "错误[column-missing]" in err and "text" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_predict_reads_a_csv_saved_by_excel_on_chinese_windows(
    trained: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes("编号,text\n1,小区门口垃圾堆积无人清理，臭气熏天\n2,孩子上学的学校食堂饭菜太差\n".encode("gbk"))
    code, _, err = _cli(["dispatch", "predict", "--input", str(src), "--output", str(out)], monkeypatch, capsys)
    assert code == 0, err
    with out.open(encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [(g["编号"], g["text"][:4]) for g in got] == [("1", "小区门口"), ("2", "孩子上学")]
    assert all(g["label"] in CATEGORIES for g in got)


def test_predict_missing_file_exits_2(
    trained: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["dispatch", "predict", "--input", str(tmp_path / "absent.csv"), "--output", str(tmp_path / "o.csv")]
    code, _, err = _cli(args, monkeypatch, capsys)
    assert code == 2
    assert "错误[input-not-found]" in err


def test_predict_trains_on_first_use(tiny_data: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(src, [{"text": "A市某小区门口垃圾堆积无人清理"}, {"text": "社保卡怎么补办"}], ["text"])
    env = {"HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_TRAINING_DATA": str(tiny_data)}
    run = _run("predict", "--input", str(src), "--output", str(out), env=env)
    assert run.returncode == 0, run.stderr
    assert "正在用共享数据训练" in run.stderr
    assert (data_dir / "models" / "dispatch" / "CURRENT").is_file()
    with out.open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 2


def test_train_if_missing_skips_when_a_model_exists(
    trained: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["dispatch", "train", "--if-missing", "--data-dir", str(tmp_path / "nowhere")]
    code, out, _ = _cli(args, monkeypatch, capsys)
    assert code == 0
    assert trained in out and service.current_version() == trained
    code, _, err = _cli(args[:2] + args[3:], monkeypatch, capsys)  # without --if-missing: the data is missing
    assert code == 2 and "错误[training-data-missing]" in err
    assert service.current_version() == trained


def test_classify_threshold(trained: str, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["小区门口垃圾堆积无人清理，臭气熏天"]
    [everything_manual] = service.classify(texts, threshold=1.0)
    [nothing_manual] = service.classify(texts, threshold=0.0)
    assert everything_manual.manual and not nothing_manual.manual
    assert everything_manual.category == nothing_manual.category
    monkeypatch.setenv(service.THRESHOLD_ENV, "1")
    assert service.classify(texts)[0].manual
    monkeypatch.setenv(service.THRESHOLD_ENV, "abc")
    with pytest.raises(service.InvalidInput):
        service.classify(texts)
