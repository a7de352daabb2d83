"""Keeps routing decisions with their calls without making the proxy wait for the database.

The lookup hands each decision to one writer thread, which stores them in batches (one transaction per
batch). Readers of call records call `flush()` first, so they see every decision answered so far; the
process flushes at exit. A decision is also written to the `hotline.telephony` log when it is made.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections import defaultdict

from hotline.db import session_scope
from hotline.telephony import service

log = logging.getLogger("hotline.telephony")

BATCH = 500
LINGER = 0.05  # seconds


class DecisionRecorder:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, service.RoutedCall]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, routed: service.RoutedCall) -> None:
        self._ensure_thread()
        self._queue.put((service.lookup_settings().database_url, routed))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every decision submitted so far is stored."""
        if self._thread is None:
            return
        done = threading.Event()

        def _wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=_wait, daemon=True).start()
        done.wait(timeout)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="hotline-call-recorder", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            time.sleep(LINGER)  # let a batch gather: one transaction for many calls
            while len(items) < BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            by_url: dict[str, list[service.RoutedCall]] = defaultdict(list)
            for url, routed in items:
                by_url[url].append(routed)
            for url, batch in by_url.items():
                try:
                    with session_scope(url) as session:
                        service.record_decisions(session, batch)
                except Exception:  # keep the thread alive; the decisions are in the log
                    log.exception("could not store %d routing decisions", len(batch))
            for _ in items:
                self._queue.task_done()


recorder = DecisionRecorder()
atexit.register(recorder.flush)
