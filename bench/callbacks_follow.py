"""Benchmark: what 漏话回拨 adds to storing the decisions a proxy reports (`record_reported_lines`, the compact lines
the shipped Kamailio posts), in process, SQLite.

Every stored batch of decisions asks for the calls' events (`telephony.callbacks.follow_calls`: a call's events may
have come first, and only its decision names the caller). A fresh database holds 100,000 answered calls' events;
then ROUNDS batches of 1000 reported decisions of new calls are stored with `follow_calls`, without it (replaced by a
no-op), and with it again; and `follow_calls` alone on a batch's ids.

    .venv/bin/python bench/callbacks_follow.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

T0 = datetime(2021, 6, 1, 2, tzinfo=UTC)
BATCH, ROUNDS, STORED = 1000, 20, 100_000


def main() -> None:
    folder = tempfile.mkdtemp()
    os.environ["HOTLINE_DATA_DIR"] = folder
    os.environ["HOTLINE_DATABASE_URL"] = url = f"sqlite:///{folder}/bench.db"
    from hotline import db
    from hotline.db import session_scope
    from hotline.telephony import callbacks, service
    from hotline.telephony.store import CallEvent

    db.upgrade(url)
    with session_scope() as s:
        for pattern, uri in service.DEMO_ENDPOINTS.items():
            service.set_endpoint(s, pattern, uri)
        answer = json.dumps(service.route_call(s, "12345", "", "", "x", None, T0).answer.to_dict(), ensure_ascii=False)
        s.connection().execute(
            CallEvent.__table__.insert(),
            [{"call_id": f"old{i}", "event": "answered", "at": T0, "agent": "", "data": {}, "received_at": T0}
             for i in range(STORED)],
        )  # fmt: skip

    def lines(batch: int) -> str:
        return "".join(f"c{batch}-{i}\t{T0.timestamp()}\t138{i:08d}\tcd-telecom\t\t{answer}\n" for i in range(BATCH))

    def run(label: str, first: int) -> None:
        started = time.perf_counter()
        for batch in range(first, first + ROUNDS):
            with session_scope() as s:
                service.record_reported_lines(s, lines(batch))
        print(f"{label:<24}{(time.perf_counter() - started) / ROUNDS / BATCH * 1e6:6.1f} µs per reported call")

    run("with follow_calls", 0)
    real = callbacks.follow_calls
    callbacks.follow_calls = lambda session, call_ids: None  # type: ignore[assignment]
    run("without follow_calls", ROUNDS)
    callbacks.follow_calls = real
    run("with follow_calls", 2 * ROUNDS)
    ids = [f"c0-{i}" for i in range(BATCH)]
    with session_scope() as s:
        started = time.perf_counter()
        for _ in range(ROUNDS):
            callbacks.follow_calls(s, ids)
        print(f"{'follow_calls alone':<24}{(time.perf_counter() - started) / ROUNDS / BATCH * 1e6:6.1f} µs per call")


if __name__ == "__main__":
    main()
