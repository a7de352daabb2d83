"""Telephony test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hotline.telephony import service


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> Iterator[None]:
    """Tables are emptied between tests; the lookup's short-lived cache of trunks and endpoints must be too."""
    service._config_changed()
    yield
    service._config_changed()
