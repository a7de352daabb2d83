"""Shared FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends
from sqlalchemy.orm import Session

from hotline.db import session_scope


def get_session() -> Iterator[Session]:
    """One unit of work per request: commit when the handler returns, roll back on error."""
    with session_scope() as session:
        yield session


# Commit before the response is sent (FastAPI's default runs the code after `yield` only after the response
# has gone out, so a client could see 201 for a commit that then failed).
SESSION = Depends(get_session, scope="function")
