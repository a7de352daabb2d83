"""Who may do what on the message queue: the NATS server's `authorization` block for the platform, each feed
source and each unit's system. Pure: no database, no connection (`hotline feeds nats-config` gathers the
sources and units and writes the files).

NATS grants subjects to publish to and to subscribe to, and JetStream is driven through subjects too
(`$JS.API.…` requests, `$JS.ACK.…` acknowledgements), so each user gets the list of subjects its work needs:

- the platform (`hotline`): look at and create its two streams; read the feeds stream only through its durable
  pull consumer (look at it, create it, fetch, acknowledge); publish units' events under the push subject;
- a source (`feed-<code>`): publish to its own subject `<feeds subject>.<code>`, and look at the feeds stream
  (`hotline feeds send` does before publishing); another source's subject is refused by the server;
- a unit's system (`unit-<code>`): its own durable pull consumer on the units' stream, named as the user, whose
  filter is pinned to its own subject by the create subject that nats-server 2.9 and later check against the
  request (`$JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter>`), then fetch and acknowledge.

Replies (publish acknowledgements, API answers, fetched messages) come to a subject under the requester's inbox
prefix. Each user has one of its own, `_INBOX_<user>`, which no other user may subscribe to: under the usual
shared `_INBOX.>` anyone could read the batches delivered to the platform and the orders delivered to units.
A client sets it when connecting (nats-py `inbox_prefix=`; the platform: HOTLINE_NATS_INBOX).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.errors import InvalidInput
from hotline.push.domain import subject_token

PLATFORM_USER = "hotline"
# Generated passwords are URL-safe, so that they go into HOTLINE_NATS_URL as they are; one taken from a file must
# be too, and long enough not to be guessed.
_PASSWORD = re.compile(r"[A-Za-z0-9._~-]{16,128}")


def inbox(user: str) -> str:
    """The inbox prefix USER alone may receive replies under."""
    return f"_INBOX_{user}"


@dataclass(frozen=True)
class QueueUser:
    name: str
    about: str  # who it is, for a comment in the file
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def platform_user(
    *, feeds_stream: str, feeds_subject: str, push_stream: str, push_subject: str, durable: str
) -> QueueUser:
    api = "$JS.API"
    return QueueUser(
        PLATFORM_USER,
        "the platform: stores the sources' batches, publishes units' work-order events",
        (
            *(f"{api}.STREAM.{verb}.{stream}" for stream in (feeds_stream, push_stream) for verb in ("INFO", "CREATE")),
            f"{api}.CONSUMER.INFO.{feeds_stream}.{durable}",
            f"{api}.CONSUMER.CREATE.{feeds_stream}.{durable}.{feeds_subject}.*",
            f"{api}.CONSUMER.DURABLE.CREATE.{feeds_stream}.{durable}",  # what clients ask of a server before 2.9
            f"{api}.CONSUMER.MSG.NEXT.{feeds_stream}.{durable}",
            f"$JS.ACK.{feeds_stream}.{durable}.>",
            f"{push_subject}.>",
        ),
        (f"{inbox(PLATFORM_USER)}.>",),
    )


def feed_user(code: str, name: str, *, feeds_stream: str, feeds_subject: str) -> QueueUser:
    user = f"feed-{code}"
    return QueueUser(
        user,
        f"feed source {code} ({name})",
        (f"{feeds_subject}.{code}", f"$JS.API.STREAM.INFO.{feeds_stream}"),
        (f"{inbox(user)}.>",),
    )


def unit_user(code: str, name: str, *, push_stream: str, push_subject: str) -> QueueUser:
    token = subject_token(code)
    user = f"unit-{token}"  # also the name of its consumer
    api = "$JS.API.CONSUMER"
    return QueueUser(
        user,
        f"unit {code} ({name})",
        (
            f"{api}.CREATE.{push_stream}.{user}.{push_subject}.{token}",
            f"{api}.INFO.{push_stream}.{user}",
            f"{api}.MSG.NEXT.{push_stream}.{user}",
            f"$JS.ACK.{push_stream}.{user}.>",
        ),
        (f"{inbox(user)}.>",),
    )


def is_subject_token(code: str) -> bool:
    """Whether CODE can stand as one subject token as it is (a source's code is used so in its subject)."""
    return bool(code) and subject_token(code) == code


def parse_passwords(text: str, source: str) -> dict[str, str]:
    """`user password` lines (blank lines and `#` comments ignored), as `format_passwords` writes them."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InvalidInput(f"{source} 第 {number} 行应为“用户名 密码”两项", code="queue-password-invalid")
        user, password = parts
        if not _PASSWORD.fullmatch(password):
            raise InvalidInput(
                f"{source} 第 {number} 行用户 {user} 的密码须为 16 至 128 个字母、数字或 . _ ~ -（可直接写入地址）",
                code="queue-password-invalid",
            )
        found[user] = password
    return found


def with_passwords(users: Iterable[QueueUser], known: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Every password KNOWN (those of users no longer listed too: a unit made active again keeps its own), plus a
    new one for each user without; and the users given a new one."""
    passwords = dict(known)
    made = []
    for user in users:
        if user.name not in passwords:
            passwords[user.name] = secrets.token_urlsafe(24)
            made.append(user.name)
    return passwords, made


def format_passwords(passwords: Mapping[str, str]) -> str:
    lines = [
        "# NATS users' passwords for the 12345 platform (hotline feeds nats-config): one `user password` a line.",
        "# Give each source or unit its own line only; the platform's goes into HOTLINE_NATS_URL.",
    ]
    return "\n".join([*lines, *(f"{user} {password}" for user, password in sorted(passwords.items()))]) + "\n"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)


def _list(subjects: Iterable[str]) -> str:
    return "[" + ", ".join(_quoted(s) for s in subjects) + "]"


def render(users: Iterable[QueueUser], passwords: Mapping[str, str], *, note: str = "") -> str:
    """The `authorization` block, for `include` in the nats-server configuration."""
    lines = [
        "# NATS server users and permissions for the 12345 platform, written by `hotline feeds nats-config` from the",
        "# platform's feed sources and units: write it again after registering one, rather than editing it.",
        *(f"# {line}" for line in note.splitlines()),
        "authorization {",
        "  users = [",
    ]
    for user in users:
        about = "".join(c if c.isprintable() else " " for c in user.about)
        lines += [
            f"    # {about}",
            f"    {{user: {_quoted(user.name)}, password: {_quoted(passwords[user.name])}, permissions: {{",
            f"      publish: {{allow: {_list(user.publish)}}}",
            f"      subscribe: {{allow: {_list(user.subscribe)}}}",
            "    }}",
        ]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"
