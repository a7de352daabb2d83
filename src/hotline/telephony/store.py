"""Tables of the telephony capability (migrations 0005_telephony, 0021_callbacks, 0032 agent states)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, append_only


class Trunk(Base):
    """Which region's calls arrive on a trunk (tgrp parameter of the Request-URI, or source address)."""

    __tablename__ = "telephony_trunk"

    trunk: Mapped[str] = mapped_column(String(128), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Endpoint(Base):
    """The SIP address of a logical target (`queue:*`, `legacy:12331:510100`, `announcement:*`, …)."""

    __tablename__ = "telephony_endpoint"

    pattern: Mapped[str] = mapped_column(String(64), primary_key=True)
    uri_template: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallDecision(Base):
    """The routing decision made for a call, as the proxy was told (one per SIP Call-ID)."""

    __tablename__ = "telephony_call"

    call_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    dialed: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str] = mapped_column(String(64), default="")
    trunk: Mapped[str] = mapped_column(String(128), default="")
    region_code: Mapped[str] = mapped_column(String(6))
    decision: Mapped[str] = mapped_column(String(16))
    proxy_action: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    uri: Mapped[str | None] = mapped_column(String(255), nullable=True)
    prompt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    skill: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sip_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_for: Mapped[datetime] = mapped_column(UTCDateTime())  # the instant the decision is for
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # when it was made
    # served by the proxy from its cache (the decision it had kept), reported afterwards
    cached: Mapped[bool] = mapped_column(Boolean, default=False)


class CallEvent(Base):
    """One event of a call as the telephony side reported it; (call_id, event) is unique (idempotent)."""

    __tablename__ = "telephony_call_event"
    __table_args__ = (UniqueConstraint("call_id", "event", name="uq_telephony_call_event_call"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(255), index=True)
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    agent: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Prompt(Base):
    """An administrator's change to a notice: new text, or a recorded file used instead of synthesis."""

    __tablename__ = "telephony_prompt"

    prompt_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    recording_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class Callback(Base):
    """A callback task (漏话回拨): one caller's missed calls until someone calls back or the caller gets through.

    One open task per number (a partial unique index): further missed calls from it join the open task (their
    count, the latest one's time, number dialed and region) rather than making tasks of their own. The deadline is
    fixed when the task is made, from the first missed call. `attempts`, `no_answers` and `first_attempt_at` sum up
    its attempts for the list and the KPIs."""

    __tablename__ = "telephony_callback"
    __table_args__ = (
        Index("ix_telephony_callback_state_first", "state", "first_missed_at"),  # open tasks, oldest first
        Index("ix_telephony_callback_caller_closed", "caller", "closed_at"),
        Index(
            "uq_telephony_callback_open_caller",
            "caller",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    caller: Mapped[str] = mapped_column(String(64))  # `domain.callback_number`
    state: Mapped[str] = mapped_column(String(16))  # `domain.CallbackState`
    dialed: Mapped[str] = mapped_column(String(32))  # of the latest missed call
    region_code: Mapped[str] = mapped_column(String(6))  # of the latest missed call
    last_call_id: Mapped[str] = mapped_column(String(255))
    first_missed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the KPIs' period
    last_missed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    missed_count: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    no_answers: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str] = mapped_column(String(64), default="")  # empty: closed by a later answered call
    closed_call_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # that call
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackCall(Base):
    """A missed call and the callback task it is in (each missed call counted once)."""

    __tablename__ = "telephony_callback_call"

    call_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("telephony_callback.id", ondelete="CASCADE"), index=True)
    missed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackAttempt(Base):
    """One callback attempt: who, when, what came of it (`domain.CallbackOutcome`), a note, the 工单 raised."""

    __tablename__ = "telephony_callback_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("telephony_callback.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    order_number: Mapped[str | None] = mapped_column(String(32), nullable=True)


class AgentStateChange(Base):
    """One change of an agent's state as the ACD / agent desk reported it (座席状态), append-only; (agent, at, state)
    is unique (idempotent), and serves "the latest state per agent"; `at` serves "today's changes"."""

    __tablename__ = "telephony_agent_state"
    __table_args__ = (
        UniqueConstraint("agent", "at", "state", name="uq_telephony_agent_state_agent_at_state"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # `agents.AgentState`
    reason: Mapped[str] = mapped_column(String(32), default="")  # 示忙原因 (not_ready only)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


append_only(AgentStateChange, "the agents' state log")
