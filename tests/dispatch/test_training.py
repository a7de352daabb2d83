"""Training: reproducible versions with metadata, clear errors, learning from dispatchers' feedback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hotline.db import session_scope
from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models
from hotline.dispatch import predictor as predictors
from hotline.dispatch import service
from hotline.dispatch import text as textprep
from hotline.dispatch.domain import CATEGORIES
from hotline.errors import InvalidInput


def _probabilities(version: str, texts: list[str]) -> np.ndarray:
    clf = predictors.load(service.models_root() / version)
    return clf.probabilities([textprep.prepare(t) for t in texts])


def test_same_seed_same_predictions(
    tiny_data: Path, raw_messages: list[dict[str, str]], data_dir_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [r["text"] for r in raw_messages]
    first = service.train_model(data_dir=tiny_data, folds=0, seed=7)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(data_dir_env.parent / "other"))
    second = service.train_model(data_dir=tiny_data, folds=0, seed=7)
    assert first.version != second.version
    a = predictors.load(data_dir_env / "models" / "dispatch" / str(first.version))
    b = predictors.load(service.models_root() / str(second.version))
    pa = a.probabilities([textprep.prepare(t) for t in texts])
    pb = b.probabilities([textprep.prepare(t) for t in texts])
    np.testing.assert_array_equal(pa, pb)
    assert a.metadata["data_hash"] == b.metadata["data_hash"]
    assert set(a.labels) == set(CATEGORIES)


def test_version_metadata_and_current_pointer(tiny_data: Path, data_dir_env: Path) -> None:
    report = service.train_model(data_dir=tiny_data, folds=2)
    assert service.current_version() == report.version
    meta = json.loads((service.models_root() / str(report.version) / "metadata.json").read_text("utf-8"))
    assert len(meta["data_hash"]) == 64
    assert meta["params"]["seed"] == 0
    assert meta["rows"] == len(corpora.load_shared(tiny_data))
    for key in ("all", corpora.SEG, corpora.RAW):
        assert 0.0 <= meta["cv"][key]["macro_f1"] <= 1.0
    assert any("交叉验证" in line for line in report.lines)


def test_a_model_that_cannot_be_loaded_counts_as_missing(tiny_data: Path, data_dir_env: Path) -> None:
    from hotline.errors import Conflict

    version = service.train_model(data_dir=tiny_data, folds=0).version
    assert service.usable_version() == version
    # As after an upgrade: the file was written in another format.
    with (service.models_root() / str(version) / predictors.MODEL_FILE).open("wb") as f:
        np.savez(f, spec=np.frombuffer(b'{"format": 99}', dtype=np.uint8))
    service._cache.clear()
    assert service.current_version() == version  # the pointer still names it...
    assert service.usable_version() is None  # ...but it is not used
    with pytest.raises(Conflict) as err:
        service.classifier(auto_train=False)
    assert err.value.code == "dispatch-model-missing"
    retrained = service.train_model(data_dir=tiny_data, folds=0).version  # what --if-missing now does
    assert retrained != version and service.usable_version() == retrained


def test_missing_training_data_is_a_clear_error(tmp_path: Path, data_dir_env: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        service.train_model(data_dir=tmp_path / "nowhere", folds=0)
    assert err.value.code == "training-data-missing"
    assert service.current_version() is None


def test_default_data_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_TRAINING_DATA", str(tmp_path))
    assert corpora.default_data_dir() == tmp_path
    monkeypatch.delenv("HOTLINE_TRAINING_DATA")
    checkout = Path(corpora.__file__).resolve().parents[3]
    assert corpora.default_data_dir() == checkout.parent / "shared" / "data"


def test_train_from_db_evaluates_then_replaces_or_refuses(
    db_url: str, tiny_data: Path, raw_messages: list[dict[str, str]], data_dir_env: Path
) -> None:
    base = service.train_model(data_dir=tiny_data, folds=2)
    with session_scope() as session, pytest.raises(InvalidInput) as err:
        service.train_model(data_dir=tiny_data, folds=2, session=session)
    assert err.value.code == "dispatch-feedback-empty"

    # Dispatchers confirmed the true category of messages the model had not seen.
    with session_scope() as session:
        for r in raw_messages:
            service.record_feedback(session, text=r["text"], category=r["label"], actor="派单员甲")
    with session_scope() as session:
        report = service.train_model(data_dir=tiny_data, folds=2, session=session)
    printed = "\n".join(report.lines)
    assert "派单员反馈" in printed and "当前模型" in printed
    if report.replaced:
        assert service.current_version() == report.version != base.version
        assert report.metadata["cv"][corpora.FEEDBACK]["n"] == len(raw_messages)
    else:
        assert service.current_version() == base.version and "未替换" in printed

    # Feedback that contradicts the data (every message called 交通运输) makes a worse model: refused...
    with session_scope() as session:
        for r in raw_messages:
            if r["label"] != "交通运输":
                service.record_feedback(session, text=r["text"] + "。", category="交通运输", actor="派单员乙")
    current = service.current_version()
    with session_scope() as session:
        refused = service.train_model(data_dir=tiny_data, folds=2, session=session)
    assert not refused.replaced and service.current_version() == current
    assert "未替换" in "\n".join(refused.lines)
    # ... unless forced.
    with session_scope() as session:
        forced = service.train_model(data_dir=tiny_data, folds=2, session=session, force=True)
    assert forced.replaced and service.current_version() == forced.version


def test_record_feedback_validates(db_url: str) -> None:
    with session_scope() as session:
        with pytest.raises(InvalidInput) as err:
            service.record_feedback(session, text="路灯坏了", category="不存在", actor="甲")
        assert err.value.code == "category-unknown"
        with pytest.raises(InvalidInput):
            service.record_feedback(session, text="  ", category="城乡建设", actor="甲")
        fid = service.record_feedback(session, text="路灯坏了", category="城乡建设/城市建设和市政管理", actor="甲")
        assert service.feedback_rows(session) == [(f"fb:{fid}", "路灯坏了", "城乡建设")]


def test_feedback_includes_categories_dispatchers_sent_orders_under(db_url: str) -> None:
    from hotline.workorders import service as wo

    if not hasattr(wo, "list_categorised_orders"):
        pytest.skip("hotline.workorders.service.list_categorised_orders is not available")
    at = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    with session_scope() as session:
        wo.load_units(session)
        wo.add_unit(session, "510100-sthj", "成都市生态环境局", "department", region_code="510100")
        order = wo.create_order(
            session, type="投诉", content="工厂夜间排放刺鼻废气", phone="13800001234", region="510100", at=at
        )
        wo.act(session, order, "dispatch", role="dispatcher", target_unit="510100-sthj", category="环境保护", at=at)
        explicit = wo.create_order(
            session, type="投诉", content="河道里有死鱼", phone="13800005678", region="510100", at=at
        )
        wo.act(session, explicit, "dispatch", role="dispatcher", target_unit="510100-sthj", category="城乡建设", at=at)
        fid = service.record_feedback(
            session, text="河道里有死鱼", category="环境保护", actor="派单员甲", order_id=explicit.number
        )
        number = order.number
    with session_scope() as session:
        rows = service.feedback_rows(session)
    assert sorted(rows) == sorted(
        [(f"fb:{fid}", "河道里有死鱼", "环境保护"), (f"order:{number}", "工厂夜间排放刺鼻废气", "环境保护")]
    )


def test_calibration_report() -> None:
    correct = np.array([True, False, True, True])
    confidence = np.array([0.9, 0.55, 0.7, 0.95])
    report = models.calibration_report(correct, confidence)
    # bins: 0.55 (wrong) -> |0-0.55|/4, 0.7 -> |1-0.7|/4, {0.9, 0.95} -> 2 * |1-0.925|/4
    assert report["ece"] == pytest.approx(0.25)
    assert report["manual"]["0.6"] == {"manual_share": 0.25, "auto_accuracy": 1.0, "manual_accuracy": 0.0}
    assert report["manual"]["0.5"]["manual_accuracy"] is None


def test_twin_groups_join_a_raw_message_to_its_segmented_copy_only() -> None:
    seg = [
        "小区 门口 垃圾 堆放 多日 无人 清理 臭气 熏天",
        "小区 门口 垃圾 堆放 多日 无人 清理 臭气 熏天",  # the same citizen posted twice
        "学校 食堂 饭菜 价格 上涨 学生 负担 加重",
    ]
    raw = ["小区门口垃圾堆放多日无人清理，臭气熏天", "公交 车站 取消 居民 出行 不便"]
    corpus = corpora.Corpus(
        seg + raw,
        ["城乡建设", "城乡建设", "教育文体", "城乡建设", "交通运输"],
        [corpora.SEG] * 3 + [corpora.RAW] * 2,
        "",
    )
    groups = corpora.twin_groups(corpus)
    assert groups[3] == groups[0]  # the raw message goes with the first copy of its twin
    assert len({groups[0], groups[1], groups[2], groups[4]}) == 4  # reposts and unrelated rows stay apart


def test_svm_and_nbsvm_ensemble_learns_the_telling_words() -> None:
    texts = ["垃圾 清理", "垃圾 臭气", "学校 学生", "学校 老师", "公交 车站", "公交 线路"] * 3
    labels = ["城乡建设", "城乡建设", "教育文体", "教育文体", "交通运输", "交通运输"] * 3
    clf = models.fit(corpora.Corpus(texts, labels, [corpora.SEG] * len(texts), ""), models.Params(char_min_df=1))
    probs = clf.probabilities(["垃圾", "学生 老师", "公交"])
    assert [clf.labels[i] for i in probs.argmax(axis=1)] == ["城乡建设", "教育文体", "交通运输"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
