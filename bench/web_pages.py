"""Benchmark: the pages people work in, in process, on N work orders (SQLite and PostgreSQL).

A fresh database gets the demo data (units, the dispatch catalogue, the plan) and N orders (default 10,000)
taken over the last 30 days (three in four in 成都市, one in four in 绵阳市; texts of the shared labelled set,
so the dispatch helper sees real demands; from the second round on each text is marked
(第2次)… so that no two orders' texts are the same). By the order's position: 2 in 10 left 已受理 (待派单), 1 in 10
派单 to one of the demo units of 成都, 2 in 10 签收 (办理中), 1 in 50 退单, 1 in 50 待市民补充, 1 in 10 办结 (待审核)
and the rest (about 3 in 10) 归档 after the full lifecycle. Every step is taken within the hour of 受理, so the
open orders older than their type's limit (3–15 working days) are 超期 and those due within a working day 临期.
One order in 20 is from one of 25 repeated callers (about 20 orders each); the others each have a number of
their own.

Then, through `fastapi.testclient.TestClient(create_app())` with sign-in off (HOTLINE_AUTH=off, the settings
pointing at the scratch database), each request is sent --requests times after a few unmeasured ones, one
after another, and its wall time taken; printed per request: median and p95 wall time, requests/s, and the CPU
time per request of this process (the app and the test client) and, on PostgreSQL, of its backends:

0. `GET /api/health`: what the test client and the app's middleware cost on their own;
1. `GET /` (总览 with 我的待办) as a dispatcher and as a handling unit, and `workorders.service.todo` alone (a
   session each call);
2. `GET /orders/<the newest 待派单 order of 成都市>?role=dispatcher` with a dispatch model (a small one trained
   on a sample of the shared data, as the 受理 page tests do: the suggestion and the 并单 candidates among the
   open orders of the last 30 days) and without one (no suggestion); and a handling unit's view of an order
   it is handling (no suggestion offered). The page with the model is sent --model-requests times (default 50):
   it is the slow one;
3. `GET /api/orders?phone=<a repeated caller>&order=newest&limit=10&role=agent` (来电人历史工单; the page is
   full, so X-Total-Count is counted too);
4. `POST /orders/new` as an agent (受理 form, not following the 303 to the new order's page); the orders
   created are counted.

    .venv/bin/python bench/web_pages.py --db both
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")  # the test client's own

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from tests import dispatch_sample  # noqa: E402

import bench_support as support  # noqa: E402
from hotline import demo  # noqa: E402
from hotline.app import create_app  # noqa: E402
from hotline.db import session_factory  # noqa: E402
from hotline.dispatch import corpus as corpora  # noqa: E402
from hotline.workorders import domain as d  # noqa: E402
from hotline.workorders import service  # noqa: E402
from hotline.workorders.store import Order  # noqa: E402

UNITS = ["510100-zjj", "510107-cgj", "510100-rsj", "510100-jyj"]  # demo units of 成都市
DEPARTMENT = UNITS[0]
TYPES = ["求助", "投诉", "咨询", "意见建议", "求助", "投诉", "求助"]
CALLERS = 25  # repeated callers, one order in 20 is theirs
SPAN = timedelta(days=30)


def _caller(k: int) -> str:
    return f"1390000{k:04d}"


def _texts() -> list[str]:
    path = corpora.default_data_dir() / corpora.LABELLED
    with path.open(encoding="utf-8") as f:
        return [row["text"].strip()[: service.MAX_CONTENT] for row in csv.DictReader(f) if row["text"].strip()]


def _content(texts: list[str], i: int) -> str:
    """Order I's text: the shared set's in turn, each retelling marked so that no two orders have the same text
    (real orders do not; identical texts would flatter the repeat matcher's cache of features)."""
    text, round_ = texts[i % len(texts)], i // len(texts)
    return (f"（第{round_ + 1}次）" + text if round_ else text)[: service.MAX_CONTENT]


def _steps(i: int, at: datetime) -> list[tuple[str, dict[str, object]]]:
    """The lifecycle steps order I takes after 受理 (all within the hour)."""
    unit = UNITS[i % len(UNITS)]
    dept = {"role": "department", "unit": unit}
    minute = timedelta(minutes=1)
    dispatch = ("dispatch", {"role": "dispatcher", "target_unit": unit, "at": at + 5 * minute})
    accept = ("accept", {**dept, "at": at + 10 * minute})
    if i % 50 == 7:
        return [dispatch, ("return", {**dept, "reason": "不属于本单位职责", "at": at + 10 * minute})]
    if i % 50 == 17:
        return [dispatch, accept, ("await_citizen", {**dept, "reason": "请提供具体地址", "at": at + 20 * minute})]
    slot = i % 10
    if slot in (0, 1):
        return []
    if slot == 2:
        return [dispatch]
    if slot in (3, 4):
        return [dispatch, accept]
    resolve = ("resolve", {**dept, "reply": "已处理完毕", "at": at + 20 * minute})
    if slot == 5:
        return [dispatch, accept, resolve]
    return [
        dispatch, accept, resolve,
        ("review_pass", {"role": "supervisor", "at": at + 30 * minute}),
        ("callback", {"role": "agent", "satisfaction": "satisfied", "citizen_resolved": True, "at": at + 40 * minute}),
        ("archive", {"role": "supervisor", "at": at + 50 * minute}),
    ]  # fmt: skip


def _load(url: str, n: int, texts: list[str], batch: int = 500) -> None:
    for _ in demo.load():  # session_scope() on HOTLINE_DATABASE_URL
        pass
    factory = session_factory(url)
    end = datetime.now(UTC) - timedelta(hours=2)  # every step in the past
    start = end - SPAN
    for first in range(0, n, batch):
        with factory.begin() as session:
            for i in range(first, min(n, first + batch)):
                at = start + SPAN * i / n
                phone = _caller((i // 20) % CALLERS) if i % 20 == 3 else f"138{i:08d}"
                order = service.create_order(
                    session, type=TYPES[i % len(TYPES)], content=_content(texts, i), phone=phone,
                    region="510700" if i % 4 == 3 else "510100", caller_name="张三", place=f"某小区{i % 300}号楼",
                    at=at, actor="话务员",
                )  # fmt: skip
                for action, kwargs in _steps(i, at):
                    service.act(session, order, action, flush=False, **kwargs)
            service.flush_orders(session)


@dataclass
class Chosen:
    to_dispatch: str  # the newest 待派单 order of 成都市: the most open orders in its 30-day window
    window_open: int  # open lead orders of 成都市 taken in the 30 days before it (the 并单 candidates)
    handling: str  # an order DEPARTMENT is handling
    caller: str


def _choose(url: str) -> Chosen:
    with session_factory(url)() as session:
        newest = session.execute(
            select(Order.number, Order.created_at)
            .where(Order.state == d.State.REGISTERED.value, Order.region_code == "510100")
            .order_by(Order.created_at.desc())
            .limit(1)
        ).one()
        window = service.list_open_orders(session, since=newest.created_at - timedelta(days=30), region_code="510100")
        unit_id = service.get_unit(session, DEPARTMENT).id
        handling = session.scalar(
            select(Order.number)
            .where(Order.state == d.State.HANDLING.value, Order.lead_unit_id == unit_id)
            .order_by(Order.created_at.desc())
            .limit(1)
        )
        return Chosen(str(newest.number), sum(1 for o in window if o.created_at < newest.created_at),
                      str(handling), _caller(0))  # fmt: skip


def _train(workdir: Path) -> Path:
    """A HOTLINE_DATA_DIR holding a small dispatch model (as tests/web/test_intake.py's `dispatch_models`)."""
    shared = corpora.default_data_dir()
    sample = workdir / "training"
    sample.mkdir()
    for name, column, per_class, seed in ((corpora.SEGMENTED, "text_seg", 60, 1), (corpora.LABELLED, "text", 20, 2)):
        dispatch_sample.write(sample / name, column, dispatch_sample.sample(shared / name, column, per_class, seed))
    home = workdir / "with-model"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hotline", "dispatch", "train", "--data-dir", str(sample), "--folds", "0"],
        env={**os.environ, "HOTLINE_DATA_DIR": str(home)},
        check=True,
        capture_output=True,
    )
    print(f"dispatch model trained on the sample in {time.perf_counter() - started:.1f} s (once, for both databases)")
    return home


def prepare(prefix: str) -> tuple[list[str], Path, Path, Path]:
    """What a run of the pages needs: the texts, a new working folder (named PREFIX…), a HOTLINE_DATA_DIR with a
    small dispatch model and one without; sign-in and the queue workers off."""
    texts = _texts()
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    with_model = _train(workdir)
    without_model = workdir / "without-model"
    without_model.mkdir()
    os.environ.update({"HOTLINE_AUTH": "off", "HOTLINE_QUEUE_WORKERS": "off"})
    return texts, workdir, with_model, without_model


def _ok(response: httpx.Response, status: int = 200, has: str = "", lacks: str = "") -> httpx.Response:
    if response.status_code != status or has not in response.text or (lacks and lacks in response.text):
        raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:500]}")
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per line")
    parser.add_argument("--model-requests", type=int, default=50, help="measured order pages with a dispatch model")
    args = parser.parse_args()
    texts, workdir, with_model, without_model = prepare("hotline-bench-web-")

    def run(kind: str) -> None:
        folder = workdir / kind
        folder.mkdir()
        with support.database(kind, folder) as url:
            os.environ.update({"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(without_model)})
            started = time.perf_counter()
            _load(url, args.n, texts)
            support.analyze(url)
            with session_factory(url)() as session:
                total = session.scalar(select(func.count()).select_from(Order)) or 0
                states = {s: c for s, c in session.execute(select(Order.state, func.count()).group_by(Order.state))}
                todo = {
                    role: service.todo(session, role, unit=DEPARTMENT if role == "department" else None)
                    for role in ("dispatcher", "department")
                }
            print(f"\n{kind}: {args.n} orders created in {time.perf_counter() - started:.1f} s "
                  f"({total} in the database with the demo's); states: "
                  + ", ".join(f"{s} {states[s]}" for s in sorted(states, key=lambda s: -states[s])))  # fmt: skip
            for role, lines in todo.items():
                print(f"  我的待办 {role}: " + "; ".join(
                    f"{x.label} {x.count}" + (f" (临期 {x.near_due}, 超期 {x.overdue})" if x.overdue is not None else "")
                    for x in lines))  # fmt: skip
            chosen = _choose(url)
            print(f"  order page: {chosen.to_dispatch} (待派单, {chosen.window_open} open orders of 成都市 in its "
                  f"30-day window); handling unit's: {chosen.handling}; caller {chosen.caller}")  # fmt: skip
            client = TestClient(create_app(), follow_redirects=False)
            factory = session_factory(url)

            def overview(role: str, unit: str = "") -> Callable[[int], object]:
                params = {"role": role, **({"unit": unit} if unit else {})}
                return lambda _i: _ok(client.get("/", params=params), has="我的待办")

            def todo_alone(role: str, unit: str | None = None) -> Callable[[int], object]:
                def call(_i: int) -> object:
                    with factory() as session:
                        return service.todo(session, role, unit=unit)

                return call

            support.measure("GET /api/health (the test client's own cost)",
                     lambda _i: _ok(client.get("/api/health")), args.requests)  # fmt: skip
            support.measure("GET / as dispatcher", overview("dispatcher"), args.requests)
            support.measure(f"GET / as department {DEPARTMENT}", overview("department", DEPARTMENT), args.requests)
            support.measure("service.todo dispatcher", todo_alone("dispatcher"), args.requests)
            support.measure(
                f"service.todo department {DEPARTMENT}", todo_alone("department", DEPARTMENT), args.requests
            )

            page = f"/orders/{chosen.to_dispatch}"
            dispatcher = {"role": "dispatcher"}
            os.environ["HOTLINE_DATA_DIR"] = str(with_model)
            shown = _ok(client.get(page, params=dispatcher), has='id="dispatch-hint"')
            repeats = shown.text.count("<li data-number=")
            support.measure("GET /orders/N dispatcher, with model", lambda _i: _ok(client.get(page, params=dispatcher),
                     has='id="dispatch-hint"'), args.model_requests)  # fmt: skip
            os.environ["HOTLINE_DATA_DIR"] = str(without_model)
            support.measure("GET /orders/N dispatcher, no model", lambda _i: _ok(client.get(page, params=dispatcher),
                     has='data-action="dispatch"', lacks="dispatch-hint"), args.requests)  # fmt: skip
            print(f"  (with the model the page proposed {repeats} orders for 并单)")
            mine = {"role": "department", "unit": DEPARTMENT}
            support.measure("GET /orders/N department, handling", lambda _i: _ok(client.get(f"/orders/{chosen.handling}",
                     params=mine), has='data-action="resolve"'), args.requests)  # fmt: skip

            history = {"phone": chosen.caller, "order": "newest", "limit": "10", "role": "agent"}
            found = _ok(client.get("/api/orders", params=history))
            print(f"  caller history: {len(found.json())} listed, X-Total-Count {found.headers['X-Total-Count']}")
            support.measure("GET /api/orders?phone=…&order=newest&limit=10",
                     lambda _i: _ok(client.get("/api/orders", params=history)), args.requests)  # fmt: skip

            with factory() as session:
                before = session.scalar(select(func.count()).select_from(Order)) or 0

            def take_in(i: int) -> object:
                form = {
                    "type": "求助", "content": texts[(i * 7919) % len(texts)], "phone": f"137{i + 1000:08d}",
                    "region": "510100", "caller_name": "李四", "role": "agent", "finish": "register",
                }  # fmt: skip
                return _ok(client.post("/orders/new", data=form), status=303)

            support.measure("POST /orders/new as agent", take_in, args.requests)
            with factory() as session:
                after = session.scalar(select(func.count()).select_from(Order)) or 0
            print(f"  orders created by the form: {after - before} (sent {args.requests + 5}, 5 unmeasured)")
            client.close()

    note = f"-n {args.n}, {args.requests} requests per line ({args.model_requests} with a dispatch model)"
    support.each_database(args.db, run, note=note)


if __name__ == "__main__":
    main()
