"""The storage ports the web channel adds, run against every backend (memory, SQLite,
PostgreSQL): files sent, the choices last offered, daily figures, the console's accounts,
and the migration that brings an older database to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

import flows.storage
import flows.storage_sql.store
from flows.outbox import FILE_DAYS
from flows.storage import ConversationKey, DayFigures, Outcome, Storage
from flows.storage_factory import open_storage
from flows.storage_sql import MIGRATIONS, async_url

T = dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def key(user: str = "u1") -> ConversationKey:
    return ConversationKey("web", user, user)


class Clock:
    """The time turns are saved at, for memory and SQL alike."""

    def __init__(self) -> None:
        self.now = T

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    found = Clock()
    monkeypatch.setattr(flows.storage, "utcnow", found)
    monkeypatch.setattr(flows.storage_sql.store, "utcnow", found)
    yield found


async def turn_at(
    storage: Storage, clock: Clock, k: ConversationKey, at: dt.datetime, *outcomes: Outcome
) -> None:
    clock.now = at
    async with storage.turn(k, None) as turn:
        for outcome in outcomes:
            turn.count(outcome)


# --- files sent ------------------------------------------------------------------------


async def test_a_kept_file_is_fetched_by_its_conversation_only(storage: Storage) -> None:
    file_id = await storage.outbox.keep(key("u1"), "名单.xlsx", b"PK\x03\x04 rows", T)
    found = await storage.outbox.fetch(key("u1"), file_id, T + dt.timedelta(hours=1))
    assert found is not None
    assert (found.file_id, found.name, found.data, found.at) == (
        file_id,
        "名单.xlsx",
        b"PK\x03\x04 rows",
        T,
    )
    assert await storage.outbox.fetch(key("u2"), file_id, T) is None
    assert await storage.outbox.fetch(key("u1"), file_id + "x", T) is None
    other = await storage.outbox.keep(key("u1"), "汇总.xlsx", b"other", T)
    assert other != file_id  # ids are not guessable from one another
    assert (await storage.outbox.fetch(key("u1"), other, T)).data == b"other"  # type: ignore[union-attr]


async def test_files_expire_after_file_days_and_are_deleted_by_later_keeps(
    storage: Storage,
) -> None:
    old = await storage.outbox.keep(key(), "旧.xlsx", b"old", T)
    last_moment = T + dt.timedelta(days=FILE_DAYS) - dt.timedelta(seconds=1)
    assert await storage.outbox.fetch(key(), old, last_moment) is not None
    assert await storage.outbox.fetch(key(), old, T + dt.timedelta(days=FILE_DAYS)) is None
    assert await storage.outbox.listing(key(), T + dt.timedelta(days=FILE_DAYS)) == []
    await storage.outbox.keep(key("u2"), "新.xlsx", b"new", T + dt.timedelta(days=FILE_DAYS + 1))
    # Deleted, not just hidden: asked as of its own day it is gone too.
    assert await storage.outbox.fetch(key(), old, T) is None


async def test_the_listing_shows_the_conversations_files_oldest_first_without_content(
    storage: Storage,
) -> None:
    first = await storage.outbox.keep(key(), "a.xlsx", b"aaa", T)
    second = await storage.outbox.keep(key(), "b.xlsx", b"bbb", T + dt.timedelta(minutes=1))
    await storage.outbox.keep(key("u2"), "c.xlsx", b"ccc", T)
    listed = await storage.outbox.listing(key(), T + DAY)
    assert [(f.file_id, f.name, f.data) for f in listed] == [
        (first, "a.xlsx", b""),
        (second, "b.xlsx", b""),
    ]


async def test_forget_erases_the_users_files(storage: Storage) -> None:
    async with storage.turn(key("u1"), None) as turn:
        turn.log("bot", "名单已生成", T)
    mine = await storage.outbox.keep(key("u1"), "名单.xlsx", b"mine", T)
    theirs = await storage.outbox.keep(key("u2"), "名单.xlsx", b"theirs", T)
    assert await storage.forget_user("web", "u1") == 1
    assert await storage.outbox.fetch(key("u1"), mine, T) is None
    assert await storage.outbox.listing(key("u1"), T) == []
    assert (await storage.outbox.fetch(key("u2"), theirs, T)).data == b"theirs"  # type: ignore[union-attr]


# --- the choices last offered ------------------------------------------------------------


async def test_the_choices_offered_last_are_read_without_a_turn(storage: Storage) -> None:
    assert await storage.offered(key()) == []
    offered = [{"label": "我要参保", "value": "flow:enroll"}, {"label": "测算", "value": "v:1"}]
    async with storage.turn(key(), None) as turn:
        turn.state.choices = offered
    assert await storage.offered(key()) == offered
    assert await storage.offered(key("u2")) == []


# --- daily figures -----------------------------------------------------------------------


async def test_figures_count_per_shanghai_day_with_zeros_for_quiet_days(
    storage: Storage, clock: Clock
) -> None:
    day = dt.date(2024, 1, 15)
    morning = dt.datetime(2024, 1, 15, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    late = dt.datetime(2024, 1, 15, 23, 30, tzinfo=dt.UTC)  # 07:30 on the 16th in Shanghai
    await turn_at(storage, clock, key("u1"), morning, "answer", "enroll_start")
    await turn_at(storage, clock, key("u1"), morning + dt.timedelta(minutes=5), "clarify")
    await turn_at(storage, clock, key("u2"), morning + dt.timedelta(hours=1), "fallback")
    await turn_at(storage, clock, key("u1"), late, "answer", "enroll_done")
    await turn_at(storage, clock, key("u3"), late + dt.timedelta(minutes=1), "flow")
    expected = [
        DayFigures(day - DAY),
        DayFigures(day, conversations=2, turns=3, answers=1, clarifications=1, fallbacks=1,
                   enrollments_started=1),
        DayFigures(day + DAY, conversations=2, turns=2, answers=1, enrollments_finished=1),
        DayFigures(day + 2 * DAY),
    ]  # fmt: skip
    assert await storage.figures(day - DAY, day + 2 * DAY) == expected
    assert await storage.figures(day + DAY, day + DAY) == [expected[2]]

    await storage.forget_user("web", "u1")  # the figures hold nothing personal: they stay
    assert await storage.figures(day - DAY, day + 2 * DAY) == expected


# --- the console's accounts ----------------------------------------------------------------


async def test_an_account_is_created_then_its_password_replaced(storage: Storage) -> None:
    staff = storage.staff
    assert await staff.password_hash("lihua") is None
    assert await staff.set_password("lihua", "hash-1", T) is True
    assert await staff.set_password("lihua", "hash-2", T + DAY) is False
    assert await staff.password_hash("lihua") == "hash-2"
    assert await staff.password_hash("wangwei") is None


async def test_sessions_end_when_they_expire_or_are_closed(storage: Storage) -> None:
    staff = storage.staff
    await staff.set_password("lihua", "hash", T)
    await staff.open_session("a" * 64, "lihua", T + dt.timedelta(hours=8))
    await staff.open_session("b" * 64, "lihua", T + dt.timedelta(hours=8))
    assert await staff.session_user("a" * 64, T) == "lihua"
    assert await staff.session_user("c" * 64, T) is None
    assert await staff.session_user("a" * 64, T + dt.timedelta(hours=8)) is None
    await staff.close_session("b" * 64)
    assert await staff.session_user("b" * 64, T) is None
    await staff.close_session("b" * 64)  # closing twice does no harm


async def test_a_new_password_ends_the_accounts_sessions_only(storage: Storage) -> None:
    staff = storage.staff
    await staff.set_password("lihua", "hash", T)
    await staff.set_password("wangwei", "hash", T)
    await staff.open_session("a" * 64, "lihua", T + dt.timedelta(hours=8))
    await staff.open_session("b" * 64, "wangwei", T + dt.timedelta(hours=8))
    await staff.set_password("lihua", "new hash", T)
    assert await staff.session_user("a" * 64, T) is None
    assert await staff.session_user("b" * 64, T) == "wangwei"


async def test_failed_logins_are_counted_since_a_time_and_cleared(storage: Storage) -> None:
    staff = storage.staff
    for minutes in (0, 5, 10):
        await staff.note_failure("name:lihua", T + dt.timedelta(minutes=minutes))
    await staff.note_failure("addr:10.0.0.1", T)
    assert await staff.failures("name:lihua", T) == 3
    assert await staff.failures("name:lihua", T + dt.timedelta(minutes=5)) == 2
    assert await staff.failures("name:lihua", T + dt.timedelta(minutes=11)) == 0
    await staff.clear_failures("name:lihua")
    assert await staff.failures("name:lihua", T) == 0
    assert await staff.failures("addr:10.0.0.1", T) == 1


# --- upgrading an older database -----------------------------------------------------------


async def test_a_database_at_0002_is_upgraded_with_its_rows(sql_url: str) -> None:
    """Old turn outcomes read as turns without enrollments; the files, staff and choices
    work at once; and the upgrade can be taken back."""
    url = async_url(sql_url)
    if url.database and "sqlite" in sql_url:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    at = T.replace(tzinfo=None) if "sqlite" in sql_url else T

    def migrate(target: str, down: bool = False) -> object:
        def run(conn: sa.Connection) -> None:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, target)

        return run

    async with engine.begin() as conn:
        await conn.run_sync(migrate("0002"))
        await conn.execute(
            sa.text(
                "INSERT INTO conversations (channel, chat_id, user_id, state, created_at,"
                " updated_at) VALUES ('web', 'u1', 'u1', :state, :at, :at)"
            ),
            {"at": at, "state": '{"choices": [{"label": "继续", "value": "v:go"}]}'},
        )
        for answers in (1, 0):
            await conn.execute(
                sa.text(
                    "INSERT INTO turn_outcomes (at, answers, clarifications, fallbacks, flows)"
                    " VALUES (:at, :answers, 0, 0, 1)"
                ),
                {"at": at, "answers": answers},
            )
    storage = await open_storage(sql_url)
    try:
        [figures] = await storage.figures(dt.date(2024, 1, 15), dt.date(2024, 1, 15))
        assert figures == DayFigures(dt.date(2024, 1, 15), turns=2, answers=1)
        assert (await storage.stats())["turns"] == 2
        assert await storage.offered(key()) == [{"label": "继续", "value": "v:go"}]
        file_id = await storage.outbox.keep(key(), "名单.xlsx", b"data", T)
        assert (await storage.outbox.fetch(key(), file_id, T)).data == b"data"  # type: ignore[union-attr]
        assert await storage.staff.set_password("lihua", "hash", T) is True
    finally:
        await storage.close()

    async with engine.begin() as conn:
        await conn.run_sync(migrate("0002", down=True))
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "sent_files" not in tables and "staff_accounts" not in tables
        assert await conn.scalar(sa.text("SELECT count(*) FROM turn_outcomes")) == 2
        await conn.run_sync(migrate("head"))
    await engine.dispose()
