"""The agent's knowledge-base search page."""

from __future__ import annotations

import pytest


@pytest.mark.browser
def test_agent_finds_article_and_sees_the_match_marked(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kb")
    page.fill("input[name=q]", "想问一下提取住房公积金要带什么材料")
    page.click("button[type=submit]")
    first = page.locator("#hits article").first
    assert "住房公积金" in first.locator("h3").inner_text()
    assert first.locator("mark").count() >= 1


@pytest.mark.browser
def test_search_text_is_not_interpreted_as_html(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kb?q=<script>window.hacked=1</script>公积金")
    assert page.evaluate("window.hacked") is None
    assert page.locator("input[name=q]").input_value().startswith("<script>")


def test_snippet_markup_lets_only_mark_tags_through() -> None:
    from hotline.web.pages import _marked

    assert str(_marked("<b>x</b><mark>住房</mark>")) == "&lt;b&gt;x&lt;/b&gt;<mark>住房</mark>"
