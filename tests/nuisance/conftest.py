"""骚扰号码名单 test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hotline.nuisance import service
from hotline.telephony import service as telephony


@pytest.fixture(autouse=True)
def _fresh_copies() -> Iterator[None]:
    """Tables are emptied between tests: the lookup's copies of the list and of the configuration must be too."""
    service.forget()
    telephony._config_changed()
    yield
    service.forget()
    telephony._config_changed()
