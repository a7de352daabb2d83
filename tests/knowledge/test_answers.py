"""The answer model: what answered messages teach the search (pure: no database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hotline.knowledge import answers

# Messages and the articles that answered them share no words: only the pairs connect them.
SCHOOL_MSGS = ["孩子 上学 学位 报名", "小孩 读书 学位 紧张", "孩子 报名 读书 难", "小孩 上学 远"]
SCHOOL_ART = "教育局 招生 入学 片区 划分 政策"
DOG_MSGS = ["养狗 遛狗 不 拴绳", "狗 咬人 邻居 养狗", "遛狗 狗 乱叫 扰民", "养狗 狗 粪便 小区"]
DOG_ART = "犬只 管理 规定 公安 登记 执法"
OTHER_ART = "道路 施工 交通 绕行 通车 工期"


def _model(dims: int = 4) -> answers.AnswerModel:
    messages = [m.split() for m in SCHOOL_MSGS + DOG_MSGS]
    answered = [SCHOOL_ART.split()] * len(SCHOOL_MSGS) + [DOG_ART.split()] * len(DOG_MSGS)
    return answers.learn(
        messages,
        answered,
        [a.split() for a in (SCHOOL_ART, DOG_ART, OTHER_ART)],
        answers.LearnParams(dims=dims, alpha=0.1, min_df=1),
    )


def test_a_new_message_points_to_the_article_that_answered_messages_like_it() -> None:
    model = _model()
    arts = model.article_vectors([SCHOOL_ART.split(), DOG_ART.split(), OTHER_ART.split()])
    school = arts @ model.message_vector(["孩子", "学位", "报名"])
    dog = arts @ model.message_vector(["邻居", "遛狗", "不", "拴绳"])
    assert np.argmax(school) == 0 and np.argmax(dog) == 1
    assert school[0] > school[2] and dog[1] > dog[2]


def test_vectors_are_unit_length_and_unknown_words_give_no_preference() -> None:
    model = _model()
    arts = model.article_vectors([SCHOOL_ART.split(), DOG_ART.split()])
    assert np.allclose(np.linalg.norm(arts, axis=1), 1.0, atol=1e-5)
    v = model.message_vector(["完全", "陌生", "的", "词"])  # no known word: the mean answer, no single topic
    assert np.isclose(np.linalg.norm(v), 1.0, atol=1e-5)
    scores = arts @ v
    assert abs(scores[0] - scores[1]) < 0.5


def test_one_pass_over_a_message_gives_both_of_its_vectors() -> None:
    model = _model()
    for words in (["孩子", "学位", "报名"], ["完全", "陌生", "的", "词"]):
        projected, own = model.message_vectors(words)
        assert np.allclose(projected, model.message_vector(words))
        assert np.allclose(own, model.article_vectors([words])[0])  # what the reverse vectors are compared with


def test_saved_model_loads_identically_without_pickle(tmp_path: Path) -> None:
    model = _model()
    path = tmp_path / "answers.npz"
    answers.save(model, path)
    loaded = answers.load(path)
    assert loaded.digest == model.digest and loaded.vocab == model.vocab
    words = ["孩子", "学位", "报名"]
    assert np.allclose(loaded.message_vector(words), model.message_vector(words))
    assert not list(tmp_path.glob("*.tmp*"))  # written through a temporary file, then renamed


def test_learning_is_reproducible_and_changes_show_in_the_digest() -> None:
    assert _model().digest == _model().digest
    assert _model().digest != _model(dims=3).digest


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.npz"
    answers.save(_model(), path)
    with np.load(path) as z:
        parts = dict(z)
    parts["format"] = np.array(answers.FORMAT + 1)
    np.savez(path, **parts)
    with pytest.raises(ValueError, match="format"):
        answers.load(path)


def test_learning_needs_one_answer_per_message() -> None:
    with pytest.raises(ValueError):
        answers.learn([["孩子"]], [], [])


def _reverse_model(ids: list[str] | None = None) -> answers.AnswerModel:
    messages = [m.split() for m in SCHOOL_MSGS + DOG_MSGS]
    answered = [f"{SCHOOL_ART} 第{k}号".split() for k in range(4)] + [f"{DOG_ART} 第{k}号".split() for k in range(4)]
    return answers.learn(
        messages, answered, [OTHER_ART.split()], answers.LearnParams(dims=4, alpha=0.1, min_df=1), answer_ids=ids or []
    )


def test_reverse_vectors_say_what_kind_of_message_an_article_answers() -> None:
    model = _reverse_model()
    # New articles of the two bureaus, never seen as answers, and an unrelated one.
    vectors = model.reverse_vectors(
        [f"{SCHOOL_ART} 通知".split(), f"{DOG_ART} 通知".split(), OTHER_ART.split()], [None, None, None]
    )
    school = model.article_vectors([["孩子", "上学", "学位"]])[0]
    dog = model.article_vectors([["养狗", "遛狗", "扰民"]])[0]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ school > vectors[1] @ school and vectors[1] @ dog > vectors[0] @ dog


def test_an_article_that_answered_a_training_message_gets_its_leave_one_out_vector() -> None:
    ids = [f"S{k}" for k in range(4)] + [f"D{k}" for k in range(4)]
    model = _reverse_model(ids)
    assert model.answer_ids == sorted(ids)
    doc = f"{SCHOOL_ART} 第0号".split()
    (by_id,) = model.reverse_vectors([doc], ["S0"])
    (by_text,) = model.reverse_vectors([doc], [None])  # the same text as a new article: the full model's
    assert not np.allclose(by_id, by_text)
    # Left out, its own message no longer pulls it: it lies nearer the other school messages than in sample.
    own = model.article_vectors([SCHOOL_MSGS[0].split()])[0]
    assert by_id @ own < by_text @ own
    assert by_id @ model.article_vectors([SCHOOL_MSGS[1].split()])[0] > 0


def test_reverse_part_is_saved_and_loaded(tmp_path: Path) -> None:
    model = _reverse_model([f"S{k}" for k in range(4)] + [f"D{k}" for k in range(4)])
    answers.save(model, tmp_path / "answers.npz")
    loaded = answers.load(tmp_path / "answers.npz")
    assert loaded.digest == model.digest and loaded.answer_ids == model.answer_ids
    docs, ids = [DOG_ART.split(), f"{DOG_ART} 第1号".split()], [None, "D1"]
    assert np.allclose(loaded.reverse_vectors(docs, ids), model.reverse_vectors(docs, ids))


def test_an_article_that_answered_several_messages_is_one_row_left_out_whole() -> None:
    messages = [m.split() for m in SCHOOL_MSGS + DOG_MSGS]
    answered = [SCHOOL_ART.split()] * len(SCHOOL_MSGS) + [DOG_ART.split()] * len(DOG_MSGS)
    ids = ["S"] * len(SCHOOL_MSGS) + ["D"] * len(DOG_MSGS)
    model = answers.learn(messages, answered, [OTHER_ART.split()], answers.LearnParams(dims=4, min_df=1), ids)
    assert model.answer_ids == ["D", "S"] and model.answer_x.shape[0] == 2
    # Left out whole, the school article keeps nothing of its own four messages: with one other article
    # in the model, its vector is that article's kind of message.
    (school_loo,) = model.reverse_vectors([SCHOOL_ART.split()], ["S"])
    school = model.article_vectors([["孩子", "上学", "学位"]])[0]
    dog = model.article_vectors([["养狗", "遛狗", "扰民"]])[0]
    assert school_loo @ dog > school_loo @ school


def test_an_article_whose_text_changed_is_not_taken_for_the_trained_answer() -> None:
    model = _reverse_model([f"S{k}" for k in range(4)] + [f"D{k}" for k in range(4)])
    trained = f"{SCHOOL_ART} 第0号".split()
    edited = OTHER_ART.split()  # the id S0 now names an unrelated article
    (loo,) = model.reverse_vectors([trained], ["S0"])
    (by_id,) = model.reverse_vectors([edited], ["S0"])
    (as_new,) = model.reverse_vectors([edited], [None])
    assert not np.allclose(by_id, loo) and np.allclose(by_id, as_new)
