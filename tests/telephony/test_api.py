"""HTTP API of telephony: the proxy's lookup, call events, transfers, voice notices (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        c.put("/telephony/endpoints/queue:*", json={"uri": "sip:queue-{region}@10.0.0.1"})
        c.put("/telephony/endpoints/announcement:*", json={"uri": "sip:announce@10.0.0.4"})
        c.put("/telephony/trunks/cd-telecom", json={"region": "成都市"})
        yield c


def test_route_answers_one_line_of_json_for_the_proxy(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    r = client.get(
        "/telephony/route",
        params={
            "dialed": "12331",
            "caller": "13800001111",
            "trunk": "cd-telecom",
            "callid": "abc@pbx",
            "at": "2021-06-01T10:00",
        },
    )
    assert r.status_code == 200
    assert "\n" not in r.text
    body = json.loads(r.text)
    assert body["action"] == "relay" and body["uri"] == "sip:queue-510100@10.0.0.1"
    assert (body["prompt"], body["skill"], body["dialed"]) == ("transition:12331", "12331", "12331")
    # the decision was kept with the call id (after the answer)
    call = client.get("/telephony/calls/abc@pbx").json()
    assert call["decision"]["target"] == "queue:510100"


def test_time_override_header_is_honoured_only_when_allowed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"dialed": "12331", "trunk": "cd-telecom", "callid": "h1"}
    monkeypatch.delenv("HOTLINE_ALLOW_TIME_OVERRIDE", raising=False)
    prod = client.get("/telephony/route", params=params, headers={"X-Hotline-At": "2021-06-01T10:00"}).json()
    # today (after the plan year) 12331 is cancelled whatever the header says
    assert prod["decision"] == "cancelled" and prod["prompt"] == "cancellation:12331"
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    test = client.get("/telephony/route", params=params, headers={"X-Hotline-At": "2021-06-01T10:00"}).json()
    assert test["decision"] == "queue" and test["prompt"] == "transition:12331"


def test_route_rejects_with_a_sip_code(client: TestClient) -> None:
    assert client.get("/telephony/route", params={"dialed": "110"}).json()["code"] == 380
    assert client.get("/telephony/route", params={"dialed": "12399"}).json()["code"] == 404
    bad = client.get("/telephony/route", params={"dialed": "abc"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-number"


def test_call_events_are_idempotent(client: TestClient) -> None:
    first = client.post("/telephony/events", json={"call_id": "e1", "event": "offered", "at": "2021-06-01T10:00"})
    again = client.post("/telephony/events", json={"call_id": "e1", "event": "offered", "at": "2021-06-01T10:05"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["at"] == first.json()["at"]
    client.post("/telephony/events", json={"call_id": "e1", "event": "queued", "at": "2021-06-01T10:00:02"})
    client.post("/telephony/events", json={"call_id": "e1", "event": "answered", "at": "2021-06-01T10:00:12"})
    k = client.get("/telephony/kpis", params={"since": "2021-06-01", "until": "2021-06-02"}).json()
    assert (k["requested"], k["answered"], k["answered_within"], k["within_rate"]) == (1, 1, 1, 1.0)
    bad = client.post("/telephony/events", json={"call_id": "e1", "event": "ringing"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-call-event"


def test_transfer_api(client: TestClient) -> None:
    client.post("/telephony/events", json={"call_id": "t1", "event": "offered"})
    r = client.post("/telephony/calls/t1/transfer", json={"kind": "police", "agent": "A001"})
    assert r.status_code == 200 and r.json()["transferred"]["data"]["to"] == "110"
    missing = client.post("/telephony/calls/none/transfer", json={"kind": "police"})
    assert missing.status_code == 404 and missing.json()["code"] == "call-not-found"


def test_endpoint_and_trunk_configuration_is_checked(client: TestClient) -> None:
    bad = client.put("/telephony/endpoints/queue:*", json={"uri": "http://nope"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-endpoint"
    assert client.put("/telephony/trunks/x", json={"region": "火星"}).json()["code"] == "region-not-found"
    assert [t["trunk"] for t in client.get("/telephony/trunks").json()] == ["cd-telecom"]


def _soxi(path: Path) -> dict[str, str]:
    out = {}
    for flag in ("-r", "-c", "-b", "-e"):
        out[flag] = subprocess.run(["soxi", flag, str(path)], capture_output=True, text=True, check=True).stdout.strip()
    return out


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are installed by scripts/setup.sh --test",
)
def test_prompt_text_change_and_recording_upload(client: TestClient, tmp_path: Path) -> None:
    prompt = client.get("/telephony/prompts/after-hours:12366").json()
    assert prompt["source"] == "tts" and "幺二三六六" in prompt["text"]

    changed = client.put(
        "/telephony/prompts/after-hours:12366/text",
        json={"text": "您好，税务热线幺二三六六现在下班了，为您转接幺二三四五。", "actor": "admin"},
    ).json()
    assert changed["custom_text"] and changed["built"] and changed["audio_key"] != prompt["audio_key"]
    wav = tmp_path / "p.wav"
    wav.write_bytes(client.get("/telephony/prompts/after-hours:12366/audio").content)
    assert _soxi(wav) == {"-r": "8000", "-c": "1", "-b": "16", "-e": "Signed Integer PCM"}
    ulaw = tmp_path / "p-ulaw.wav"
    ulaw.write_bytes(client.get("/telephony/prompts/after-hours:12366/audio", params={"format": "ulaw"}).content)
    assert _soxi(ulaw) == {"-r": "8000", "-c": "1", "-b": "8", "-e": "u-law"}

    # a recording at 44.1 kHz stereo is converted to the telephony formats
    rec = tmp_path / "rec.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(rec), "synth", "1.5", "sine", "440"], check=True)
    up = client.put("/telephony/prompts/after-hours:12366/recording", files={"file": ("rec.wav", rec.read_bytes())})
    assert up.status_code == 200 and up.json()["source"] == "recording"
    got = tmp_path / "got.wav"
    got.write_bytes(client.get("/telephony/prompts/after-hours:12366/audio").content)
    assert _soxi(got)["-r"] == "8000" and _soxi(got)["-c"] == "1"

    junk = client.put("/telephony/prompts/after-hours:12366/recording", files={"file": ("x.wav", b"not audio")})
    assert junk.status_code == 422 and junk.json()["code"] == "invalid-audio"
    reset = client.delete("/telephony/prompts/after-hours:12366").json()
    assert reset["source"] == "tts" and reset["text"] == prompt["text"]
    assert client.get("/telephony/prompts/welcome:1").json()["code"] == "invalid-prompt"
    assert client.get("/telephony/prompts/transition:12345").status_code == 404


def test_route_without_a_dialed_number_is_a_clear_error(client: TestClient) -> None:
    r = client.get("/telephony/route", params={"trunk": "cd-telecom"})
    assert r.status_code == 422 and r.json()["code"] == "invalid-number"
    # the documented parameters are in the OpenAPI description
    params = client.get("/openapi.json").json()["paths"]["/telephony/route"]["get"]["parameters"]
    assert {p["name"] for p in params} == {"dialed", "caller", "trunk", "callid", "at"}


def test_route_answer_says_how_long_the_proxy_may_keep_it(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.telephony.domain import PROXY_CACHE_CAP

    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    params = {"dialed": "12331", "trunk": "cd-telecom", "callid": "ttl1"}
    # 2.5 s before 12331's cancellation date: the transition answer is right for 2 more whole seconds
    near = client.get("/telephony/route", params={**params, "at": "2021-09-30T23:59:57.5"}).json()
    assert (near["prompt"], near["ttl"]) == ("transition:12331", 2)
    far = client.get("/telephony/route", params={**params, "at": "2021-08-01T10:00"}).json()
    assert far["ttl"] == PROXY_CACHE_CAP
    assert client.get("/telephony/route", params={"dialed": "12399"}).json()["ttl"] == PROXY_CACHE_CAP


def test_decisions_served_from_the_proxy_cache_are_stored_idempotently(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    answer = client.get(
        "/telephony/route",
        params={"dialed": "12331", "trunk": "cd-telecom", "callid": "asked", "at": "2021-06-01T10:00"},
    ).json()
    batch = [
        {
            "call_id": "kept-1@pbx",
            "dialed": "12331",
            "caller": "13800001111",
            "trunk": "cd-telecom",
            "at": "1622512800.25",
            "for": "2021-06-01T10:00",
            "cached": True,
            "decision": answer,
        },
        {
            "call_id": "kept-2@pbx",
            "dialed": "12331",
            "caller": "",
            "trunk": "cd-telecom",
            "at": 1622512801,
            "for": "",
            "cached": True,
            "decision": answer,
        },
    ]
    r = client.post("/telephony/decisions", json=batch)
    assert r.status_code == 200 and r.json() == {"stored": 2}
    assert client.post("/telephony/decisions", json=batch).json() == {"stored": 2}  # sent again: no change
    kept = client.get("/telephony/calls/kept-1@pbx").json()["decision"]
    asked = client.get("/telephony/calls/asked").json()["decision"]
    assert kept["cached"] is True and asked["cached"] is False
    assert (kept["prompt"], kept["uri"], kept["decided_for"]) == (asked["prompt"], asked["uri"], asked["decided_for"])
    assert kept["caller"] == "138****1111"
    second = client.get("/telephony/calls/kept-2@pbx").json()["decision"]
    assert second["decided_for"] == "2021-06-01T10:00:01+08:00"  # no named instant: when it was served
    calls = client.get("/telephony/calls", params={"limit": 10}).json()
    assert {"asked", "kept-1@pbx", "kept-2@pbx"} <= {c["call_id"] for c in calls}
    bad = client.post(
        "/telephony/decisions", json=[{**batch[0], "call_id": "x"}, {**batch[1], "decision": {"action": "dance"}}]
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-decision"
    assert client.get("/telephony/calls/x").status_code == 404  # the whole batch was refused


def test_cached_decisions_in_the_proxys_line_format_are_stored_idempotently(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the shipped Kamailio posts: one call per line, call_id TAB served TAB caller TAB trunk TAB for TAB
    answer; fields holding a tab, a line break or % come percent-encoded."""
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    text = client.get(
        "/telephony/route",
        params={"dialed": "12331", "trunk": "cd-telecom", "callid": "asked-l", "at": "2021-06-01T10:00"},
    ).text
    body = (
        f"line-1@pbx\t1622512800.250000\t13800001111\tcd-telecom\t2021-06-01T10%3A00\t{text}\n"
        f"line-2%25%09x@pbx\t1622512801.000000\t\tcd-telecom\t\t{text}\n"
    )
    headers = {"content-type": "text/plain; charset=utf-8"}
    r = client.post("/telephony/decisions", content=body.encode(), headers=headers)
    assert r.status_code == 200 and r.json() == {"stored": 2, "refused": 0}
    assert client.post("/telephony/decisions", content=body.encode(), headers=headers).json()["stored"] == 2
    kept = client.get("/telephony/calls/line-1@pbx").json()["decision"]
    asked = client.get("/telephony/calls/asked-l").json()["decision"]
    assert (kept["cached"], asked["cached"]) == (True, False)
    for field in ("dialed", "region_code", "decision", "target", "uri", "prompt", "skill", "reason", "decided_for"):
        assert kept[field] == asked[field], field
    assert (kept["caller"], kept["trunk"]) == ("138****1111", "cd-telecom")
    second = client.get("/telephony/calls/" + quote("line-2%\tx@pbx", safe="")).json()["decision"]
    assert second["cached"] is True
    assert second["decided_for"] == "2021-06-01T10:00:01+08:00"  # no named instant: when it was served
    # a line that is not a decision is refused alone; the rest of the batch is kept
    bad = (
        f'line-3@pbx\t1622512802\t\tcd-telecom\t\t{{"action":"dance"}}\n'
        f"line-4@pbx\tsoon\t\tcd-telecom\t\t{text}\n"
        f"line-5@pbx\t1622512803\t\tcd-telecom\n"
        f"line-6@pbx\t1622512804\t\tcd-telecom\t\t{text}\n"
    )
    r = client.post("/telephony/decisions", content=bad.encode(), headers=headers)
    assert r.status_code == 200 and r.json() == {"stored": 1, "refused": 3}
    for refused in ("line-3@pbx", "line-4@pbx", "line-5@pbx"):
        assert client.get(f"/telephony/calls/{refused}").status_code == 404
    assert client.get("/telephony/calls/line-6@pbx").json()["decision"]["cached"] is True


def test_the_routing_revision_changes_with_the_plan_and_the_configuration(client: TestClient) -> None:
    first = client.get("/telephony/revision").json()["revision"]
    assert client.get("/telephony/revision").json()["revision"] == first
    client.put("/telephony/endpoints/queue:510100", json={"uri": "sip:cd-acd@10.0.0.9"})
    second = client.get("/telephony/revision").json()["revision"]
    assert second != first
    r = client.put("/api/subcenters/12366/hours", json={"opens": "08:30", "closes": "18:00"})
    assert r.status_code == 200, r.text
    assert client.get("/telephony/revision").json()["revision"] != second


def test_the_call_list_narrows_to_a_number_a_region_and_an_outcome(client: TestClient) -> None:
    client.put("/telephony/trunks/my-telecom", json={"region": "绵阳市"})
    calls = (("f1", "12345", "cd-telecom"), ("f2", "12345", "my-telecom"), ("f3", "12399", ""), ("f4", "12345", ""))
    for call_id, dialed, trunk in calls:
        assert client.get("/telephony/route", params={"dialed": dialed, "trunk": trunk, "callid": call_id}).is_success
    for event in ("offered", "queued", "answered"):
        client.post("/telephony/events", json={"call_id": "f1", "event": event})
    client.post("/telephony/events", json={"call_id": "f4", "event": "ended"})  # the end alone: nothing known of it

    def listed(**params: str | int) -> list[str]:
        res = client.get("/telephony/calls", params=params)
        assert res.status_code == 200, res.text
        return sorted(c["call_id"] for c in res.json())

    assert listed() == ["f1", "f2", "f3", "f4"]
    assert listed(dialed="12345") == ["f1", "f2", "f4"]
    assert listed(region="绵阳市") == listed(region="510700") == ["f2"]
    assert listed(outcome="answered") == ["f1"]
    assert listed(outcome="unreported") == ["f2", "f4"]  # sent to the queue, nothing (or only its end) reported
    assert listed(outcome="unanswered") == ["f3"]  # rejected
    assert len(client.get("/telephony/calls", params={"limit": 2, "offset": 2}).json()) == 2
    bad = client.get("/telephony/calls", params={"outcome": "ringing"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-outcome"
