"""The storage port's contract, run against every backend: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.settings import Settings
from flows.storage import ConversationKey, PersonClaim, Storage, id_hash
from flows.storage_factory import open_storage
from flows.storage_sql import (
    HEAD_REVISION,
    MIGRATIONS,
    SqlStorage,
    StorageUrlError,
    async_url,
    metadata,
)
from rules.ids import mask_id

AT = dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.UTC)
SECRET = b"test-key"
ROOT = Path(__file__).resolve().parent.parent


def key(user: str = "u1", chat: str | None = None, channel: str = "test") -> ConversationKey:
    return ConversationKey(channel, chat or user, user)


def person(number: str) -> PersonClaim:
    return PersonClaim(id_hash(number, SECRET), mask_id(number))


async def take_turn(
    storage: Storage, k: ConversationKey, message_id: str | None, text: str = "你好"
) -> bool:
    """One ordinary turn that logs a line and bumps a counter slot; True if processed."""
    async with storage.turn(k, message_id) as turn:
        if turn.duplicate:
            return False
        turn.state.slots["n"] = int(turn.state.slots.get("n", 0)) + 1
        turn.log("user", text, AT)
        turn.count("answer")
        return True


class _Discard(Exception):
    """Leaves a peeking turn without saving it."""


async def peek(storage: Storage, k: ConversationKey) -> dict[str, object]:
    """The conversation's slots, read in a turn that is rolled back."""
    found: dict[str, object] = {}
    try:
        async with storage.turn(k, None) as turn:
            found = dict(turn.state.slots)
            raise _Discard
    except _Discard:
        pass
    return found


class TestStorageContract:
    async def test_state_round_trips(self, storage: Storage) -> None:
        async with storage.turn(key(), "m1") as turn:
            assert turn.duplicate is False
            turn.state.flow, turn.state.step = "quote", "people"
            turn.state.slots = {"plans": ["A0", "B0"], "people": {"社保": 5, "无社保": 3}}
            turn.state.back = [{"step": "plans", "slots": {}}]
            turn.state.misses = 2
            turn.state.choices = [{"label": "八人", "value": "8"}]
            turn.state.parked = {"enroll": {"step": "roster", "slots": {"unit": "某公司"}}}
            turn.state.done = "coverage"
        async with storage.turn(key(), "m2") as turn:
            assert turn.state.to_json() == {
                "flow": "quote",
                "step": "people",
                "slots": {"plans": ["A0", "B0"], "people": {"社保": 5, "无社保": 3}},
                "back": [{"step": "plans", "slots": {}}],
                "misses": 2,
                "choices": [{"label": "八人", "value": "8"}],
                "parked": {"enroll": {"step": "roster", "slots": {"unit": "某公司"}}},
                "done": "coverage",
            }

    async def test_a_new_conversation_starts_empty(self, storage: Storage) -> None:
        await take_turn(storage, key("u1"), "m1")
        async with storage.turn(key("u2"), "m1") as turn:
            assert turn.duplicate is False
            assert turn.state.flow is None and turn.state.slots == {}

    async def test_a_message_delivered_twice_is_answered_once(self, storage: Storage) -> None:
        assert await take_turn(storage, key(), "m1") is True
        async with storage.turn(key(), "m1") as turn:
            assert turn.duplicate is True
            assert turn.state.slots == {"n": 1}
            # Whatever a duplicate turn does is not kept.
            turn.state.slots["n"] = 99
            turn.log("user", "again", AT)
            turn.count("answer")
        assert await peek(storage, key()) == {"n": 1}
        assert len(await storage.transcript(key())) == 1
        assert (await storage.stats())["turns"] == 1

    async def test_message_ids_are_per_conversation(self, storage: Storage) -> None:
        assert await take_turn(storage, key("u1"), "m1") is True
        assert await take_turn(storage, key("u2"), "m1") is True

    async def test_turns_without_a_message_id_are_never_duplicates(self, storage: Storage) -> None:
        assert await take_turn(storage, key(), None) is True
        assert await take_turn(storage, key(), None) is True
        assert await peek(storage, key()) == {"n": 2}

    async def test_an_exception_in_a_turn_rolls_everything_back(self, storage: Storage) -> None:
        await take_turn(storage, key("other"), "o1")
        await take_turn(storage, key(), "m1")
        with pytest.raises(RuntimeError, match="crash"):
            async with storage.turn(key(), "m2") as turn:
                turn.state.slots["n"] = 50
                turn.log("user", "lost", AT)
                turn.count("fallback")
                turn.miss("没答上的问题", AT)
                turn.claims = (2024, "甲公司", (person("310101199001010252"),))
                raise RuntimeError("crash")
        assert await peek(storage, key()) == {"n": 1}
        assert [line.text for line in await storage.transcript(key())] == ["你好"]
        assert await storage.misses() == []
        assert (await storage.stats())["fallbacks"] == 0
        async with storage.turn(key("other"), "o2") as turn:
            assert await turn.find_conflicts(2024, [person("310101199001010252").id_hash]) == []
        # The dedupe mark was rolled back too: the redelivered message is processed.
        assert await take_turn(storage, key(), "m2") is True
        assert await peek(storage, key()) == {"n": 2}

    async def test_turns_of_one_conversation_never_overlap(
        self, storage: Storage, storage_url: str
    ) -> None:
        # On SQL backends a second storage on the same database shares the work, so the
        # database's own locking is exercised, not only the in-process lock.
        stores = [storage]
        if storage_url != "memory":
            stores.append(await open_storage(storage_url))
        inside = 0
        overlapped = False

        async def bump(i: int) -> None:
            nonlocal inside, overlapped
            async with stores[i % len(stores)].turn(key(), f"m{i}") as turn:
                inside += 1
                overlapped = overlapped or inside > 1
                n = int(turn.state.slots.get("n", 0))
                await asyncio.sleep(0)
                turn.state.slots["n"] = n + 1
                turn.log("bot", f"turn {n}", AT)
                inside -= 1

        try:
            await asyncio.gather(*(bump(i) for i in range(20)))
        finally:
            for extra in stores[1:]:
                await extra.close()
        assert overlapped is False
        assert await peek(storage, key()) == {"n": 20}
        lines = await storage.transcript(key())
        assert [line.text for line in lines] == [f"turn {n}" for n in range(20)]

    async def test_different_conversations_run_concurrently(
        self, storage: Storage, storage_url: str
    ) -> None:
        if storage_url.startswith("sqlite"):
            pytest.skip("SQLite has one writer at a time: its turns are all serialized")
        a_inside, b_done = asyncio.Event(), asyncio.Event()

        async def hold_a() -> None:
            async with storage.turn(key("a"), "1") as turn:
                a_inside.set()
                # A hang guard, not a timing assertion: B must finish while A is open.
                await asyncio.wait_for(b_done.wait(), timeout=60)
                turn.state.slots["done"] = "a"

        async def run_b() -> None:
            await a_inside.wait()
            async with storage.turn(key("b"), "1") as turn:
                turn.state.slots["done"] = "b"
            b_done.set()

        await asyncio.gather(hold_a(), run_b())
        assert await peek(storage, key("a")) == {"done": "a"}
        assert await peek(storage, key("b")) == {"done": "b"}

    async def test_transcript_lines_are_masked_and_ordered(self, storage: Storage) -> None:
        later = AT + dt.timedelta(seconds=5)
        async with storage.turn(key(), "m1") as turn:
            turn.log("user", "我的身份证310101199001010252，手机13812345678", AT)
            turn.log("bot", "收到", later)
        lines = await storage.transcript(key())
        assert [(line.role, line.text) for line in lines] == [
            ("user", "我的身份证3101**********0252，手机138****5678"),
            ("bot", "收到"),
        ]
        assert [line.at for line in lines] == [AT, later]
        assert await storage.transcript(key("stranger")) == []

    async def test_claims_conflict_across_conversations_in_the_same_year(
        self, storage: Storage
    ) -> None:
        zhang, li, wang = (
            person("310101199001010252"),
            person("310101198506060031"),
            person("310101197712120046"),
        )
        async with storage.turn(key("a"), "1") as turn:
            turn.claims = (2024, "甲公司", (zhang, li))
        async with storage.turn(key("b"), "1") as turn:
            found = await turn.find_conflicts(2024, [zhang.id_hash, wang.id_hash])
            assert found == [(zhang.id_hash, "甲公司")]
            assert await turn.find_conflicts(2025, [zhang.id_hash]) == []
            assert await turn.find_conflicts(2024, []) == []
            turn.claims = (2025, "乙公司", (zhang,))
        async with storage.turn(key("a"), "2") as turn:
            # Its own draft is not a conflict.
            assert await turn.find_conflicts(2024, [zhang.id_hash]) == []
            assert await turn.find_conflicts(2025, [zhang.id_hash]) == [(zhang.id_hash, "乙公司")]
            turn.claims = (2024, "甲公司", (wang,))
        async with storage.turn(key("c"), "1") as turn:
            found = await turn.find_conflicts(2024, [zhang.id_hash, li.id_hash, wang.id_hash])
            assert found == [(wang.id_hash, "甲公司")]

    async def test_a_turn_without_claims_keeps_them(self, storage: Storage) -> None:
        zhang = person("310101199001010252")
        async with storage.turn(key("a"), "1") as turn:
            turn.claims = (2024, "甲公司", (zhang,))
        await take_turn(storage, key("a"), "2")
        async with storage.turn(key("b"), "1") as turn:
            assert await turn.find_conflicts(2024, [zhang.id_hash]) == [(zhang.id_hash, "甲公司")]
        async with storage.turn(key("a"), "3") as turn:
            turn.claims = (2024, "甲公司", ())
        async with storage.turn(key("b"), "2") as turn:
            assert await turn.find_conflicts(2024, [zhang.id_hash]) == []

    async def test_forget_user_erases_only_that_user(self, storage: Storage) -> None:
        zhang, li = person("310101199001010252"), person("310101198506060031")
        mine = [key("u1", chat="c1"), key("u1", chat="c2")]
        theirs = [key("u2"), key("u1", channel="telegram")]
        for k in mine + theirs:
            await take_turn(storage, k, "m1", text=f"hello from {k}")
        async with storage.turn(mine[0], "m2") as turn:
            turn.claims = (2024, "甲公司", (zhang,))
        async with storage.turn(theirs[0], "m2") as turn:
            turn.claims = (2024, "乙公司", (li,))

        assert await storage.forget_user("test", "u1") == 2

        for k in mine:
            assert await storage.transcript(k) == []
            assert await peek(storage, k) == {}
        for k in theirs:
            assert [line.text for line in await storage.transcript(k)] == [f"hello from {k}"]
            assert await peek(storage, k) == {"n": 1}
        async with storage.turn(key("u3"), "m1") as turn:
            found = await turn.find_conflicts(2024, [zhang.id_hash, li.id_hash])
            assert found == [(li.id_hash, "乙公司")]
        assert (await storage.stats())["conversations"] == 2 + 1  # theirs, and u3
        assert await storage.forget_user("test", "u1") == 0

    async def test_forget_user_erases_the_users_misses_too(self, storage: Storage) -> None:
        mine, theirs = key("u1", chat="c1"), key("u2")
        async with storage.turn(mine, "m1") as turn:
            turn.miss("我手机157-7370-8775，宠物能保吗", AT)
        async with storage.turn(key("u1", chat="c2"), "m1") as turn:
            turn.miss("年会节目怎么排", AT)
        async with storage.turn(theirs, "m1") as turn:
            turn.miss("公司团建能报销吗", AT)
        assert [m.question for m in await storage.misses()] == [
            "我手机157****8775，宠物能保吗",
            "年会节目怎么排",
            "公司团建能报销吗",
        ]
        assert await storage.forget_user("test", "u1") == 2
        assert [m.question for m in await storage.misses()] == ["公司团建能报销吗"]

    async def test_numbers_written_any_way_are_masked_in_transcript_and_misses(
        self, storage: Storage
    ) -> None:
        said = (
            "ID320102199006247703 身份证310101 19870216 2209 旧证310101870216220 "
            "手机+86 152 9699 4522 或 131 3389 7510 或 ００８６－１５２－９６９９－４５２２"
        )
        async with storage.turn(key(), "m1") as turn:
            turn.log("user", said, AT)
            turn.miss(said, AT)
        shown = [line.text for line in await storage.transcript(key())]
        shown += [m.question for m in await storage.misses()]
        for text in shown:
            plain = text.replace(" ", "")
            for number in (
                "320102199006247703",
                "310101198702162209",
                "310101870216220",
                "15296994522",
                "13133897510",
            ):
                assert number not in plain
            assert "3201**********7703" in text and "131****7510" in text

    async def test_stats_count_processed_turns_and_outcomes(self, storage: Storage) -> None:
        assert await storage.stats() == {
            "conversations": 0,
            "turns": 0,
            "answers": 0,
            "clarifications": 0,
            "fallbacks": 0,
        }
        async with storage.turn(key("a"), "1") as turn:
            turn.count("answer")
        async with storage.turn(key("a"), "2") as turn:
            turn.count("clarify")
            turn.count("flow")
        async with storage.turn(key("b"), "1") as turn:
            turn.count("fallback")
            turn.count("answer")
        async with storage.turn(key("b"), "1") as turn:  # a duplicate: not counted
            turn.count("answer")
        assert await storage.stats() == {
            "conversations": 2,
            "turns": 3,
            "answers": 2,
            "clarifications": 1,
            "fallbacks": 1,
        }

    async def test_misses_since_a_date(self, storage: Storage) -> None:
        early = dt.datetime(2024, 1, 10, 8, 0, tzinfo=dt.UTC)
        late = dt.datetime(2024, 2, 1, 8, 0, tzinfo=dt.UTC)
        async with storage.turn(key(), "1") as turn:
            turn.miss("  宠物能保吗？  ", early)
        async with storage.turn(key(), "2") as turn:
            turn.miss("身份证310101199001010252能查吗", late)
        everything = await storage.misses()
        assert [(m.question, m.at) for m in everything] == [
            ("宠物能保吗？", early),
            ("身份证3101**********0252能查吗", late),
        ]
        assert [m.question for m in await storage.misses(dt.date(2024, 2, 1))] == [
            "身份证3101**********0252能查吗"
        ]
        assert await storage.misses(dt.date(2024, 2, 2)) == []


# --- durable backends -----------------------------------------------------------------


async def test_state_survives_a_restart(sql_url: str) -> None:
    first = await open_storage(sql_url)
    async with first.turn(key(), "m1") as turn:
        turn.state.flow, turn.state.step = "quote", "start_date"
        turn.state.slots = {"plans": ["A0"]}
        turn.log("user", "8个人参加A0", AT)
    await first.close()

    second = await open_storage(sql_url)
    try:
        async with second.turn(key(), "m1") as turn:
            assert turn.duplicate is True
        async with second.turn(key(), "m2") as turn:
            assert (turn.state.flow, turn.state.step) == ("quote", "start_date")
            assert turn.state.slots == {"plans": ["A0"]}
        assert [line.text for line in await second.transcript(key())] == ["8个人参加A0"]
    finally:
        await second.close()


async def test_the_migrated_schema_matches_the_tables(sql_url: str) -> None:
    storage = await open_storage(sql_url)
    assert isinstance(storage, SqlStorage)
    try:
        await storage.migrate()  # a second upgrade is a no-op

        def differences(connection: sa.Connection) -> list[object]:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))

        async with storage.engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await storage.close()


_HAMMER = textwrap.dedent(
    """
    import asyncio, datetime as dt, sys
    from flows.storage import ConversationKey
    from flows.storage_sql import SqlStorage

    async def main(url, name, rounds):
        storage = SqlStorage(url)
        print("ready", flush=True)
        sys.stdin.readline()
        await storage.migrate()  # both processes at once, on an empty database
        keys = [ConversationKey("race", f"c{k}", f"u{k}") for k in range(3)]
        at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

        async def one(key, message_id):
            async with storage.turn(key, message_id) as turn:
                if turn.duplicate:
                    return
                n = int(turn.state.slots.get("n", 0))
                await asyncio.sleep(0)
                turn.state.slots["n"] = n + 1
                turn.log("bot", f"{n} {message_id}", at)

        async def drive(key):
            for i in range(rounds):
                await one(key, f"shared-{i}")  # the other process sends it too
                await one(key, f"{name}-{i}")

        await asyncio.gather(*(drive(k) for k in keys))
        await storage.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


async def test_processes_sharing_a_database_take_turns(sql_url: str) -> None:
    rounds = 30
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, sql_url, name, str(rounds)],
            cwd=ROOT,
            env=os.environ.copy(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("p1", "p2")
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:  # start both together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            _, err = await asyncio.to_thread(child.communicate, timeout=600)
            assert child.returncode == 0, err
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()

    storage = SqlStorage(sql_url)
    try:
        for k in range(3):
            the_key = ConversationKey("race", f"c{k}", f"u{k}")
            lines = [line.text.split() for line in await storage.transcript(the_key)]
            # Every turn saw the one before it: counted once each, one at a time.
            assert [int(n) for n, _ in lines] == list(range(3 * rounds))
            ids = [message_id for _, message_id in lines]
            assert sorted(i for i in ids if i.startswith("shared-")) == sorted(
                f"shared-{i}" for i in range(rounds)
            )
            for name in ("p1", "p2"):
                assert [i for i in ids if i.startswith(name)] == [
                    f"{name}-{i}" for i in range(rounds)
                ]
        assert (await storage.stats())["turns"] == 9 * rounds
    finally:
        await storage.close()


# --- opening storage -------------------------------------------------------------------


def test_plain_urls_get_the_async_drivers() -> None:
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgresql+asyncpg://u@h/db").drivername == "postgresql+asyncpg"
    for refused in ("mysql://u@h/db", "sqlite://", "not a url"):
        with pytest.raises(StorageUrlError):
            async_url(refused)


async def test_no_url_means_the_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path / "hubao-data"))
    storage = await open_storage(None, Settings.from_env().data_dir)
    try:
        await take_turn(storage, key(), "m1")
    finally:
        await storage.close()
    assert (tmp_path / "hubao-data" / "hubao.sqlite3").exists()
    explicit = await open_storage("", tmp_path / "elsewhere")
    await explicit.close()
    assert (tmp_path / "elsewhere" / "hubao.sqlite3").exists()


async def test_the_sqlite_file_and_its_folder_are_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        storage = await open_storage(None, tmp_path / "data")
        try:
            await take_turn(storage, key(), "m1")
            folder = tmp_path / "data"
            files = sorted(folder.iterdir())
            assert {f.name for f in files} >= {"hubao.sqlite3", "hubao.sqlite3-wal"}
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            for f in files:
                assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
        finally:
            await storage.close()
    finally:
        os.umask(old)


async def test_an_existing_database_file_open_to_others_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    storage = await open_storage(None, folder)
    await take_turn(storage, key(), "m1")
    await storage.close()
    folder.chmod(0o755)
    for f in folder.iterdir():
        f.chmod(0o644)
    storage = await open_storage(None, folder)
    try:
        await take_turn(storage, key(), "m2")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # hubao's own data folder
        for f in folder.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    finally:
        await storage.close()


async def test_an_older_schema_is_upgraded_and_its_text_masked_again(tmp_path: Path) -> None:
    """A database at revision 0001 with numbers the older masking let through."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        from alembic import command

        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO conversations (channel, chat_id, user_id, state, created_at,"
                " updated_at) VALUES ('test', 'u1', 'u1', '{}', :at, :at)"
            ),
            {"at": AT.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO transcript (conversation_id, at, role, text)"
                " VALUES (1, :at, 'user', '电话157-7370-8775')"
            ),
            {"at": AT.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO misses (question, at) VALUES ('ID320102199006247703 能保吗', :at)"
            ),
            {"at": AT.replace(tzinfo=None)},
        )
    engine.dispose()
    storage = await open_storage(url)
    try:
        assert [line.text for line in await storage.transcript(key())] == ["电话157****8775"]
        assert [m.question for m in await storage.misses()] == ["ID3201**********7703 能保吗"]
    finally:
        await storage.close()
    raw = (tmp_path / "old.sqlite3").read_bytes()
    assert b"7370-8775" not in raw and b"320102199006247703" not in raw


def test_the_head_revision_the_storage_skips_at_is_alembics_newest():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
