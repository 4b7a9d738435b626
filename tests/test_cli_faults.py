"""`hubao chat` and `hubao roster check` against what goes wrong at their edges (issue 12):
control characters on the way to the terminal, devices and pipes given as files, the
database going away, a damaged key file, and bytes that are not UTF-8 either way.

Commands run as subprocesses the way a user runs them, under a memory limit: a
regression that reads ``/dev/zero`` fails with MemoryError instead of taking the machine.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import resource
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot import cli, terminal
from bot.terminal import render, run_terminal, to_message
from flows.messages import Choice, OutgoingFile, Reply
from flows.storage import ConversationKey, MemoryStorage, Storage, Turn
from flows.storage_factory import open_storage

from helpers import engine, key
from roster_builders import csv_file, people, row_values

HUBAO = str(Path(sys.executable).with_name("hubao"))
ROOT = Path(__file__).resolve().parent.parent
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""What must never reach a terminal raw: C0 but tab and newline, DEL, C1 (ESC is \\x1b)."""
DB_DOWN = "服务暂时连不上数据库，请稍后再发一次；刚才的消息没有保存。"
MEMORY_LIMIT = 2 * 1024**3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def hubao(
    data_dir: Path, *args: str, stdin: bytes = b"", timeout: float = 90, **env: str
) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "HUBAO_DATA_DIR": str(data_dir), "HUBAO_TODAY": "2023-07-10"}
    for name in ("HUBAO_DB_URL", "HUBAO_SECRET_KEY", "HUBAO_DEBUG", "PYTHONIOENCODING"):
        environ.pop(name, None)
    environ.update(env)
    return subprocess.run(
        [HUBAO, *args],
        input=stdin,
        capture_output=True,
        env=environ,
        timeout=timeout,
        preexec_fn=_limit_memory,
    )


def chat(data_dir: Path, lines: list[str], *args: str, **env: str) -> str:
    done = hubao(data_dir, "chat", "--user", "handler1", *args,
                 stdin=("\n".join(lines) + "\n").encode(), **env)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    return done.stdout.decode("utf-8")


def no_traceback(done: subprocess.CompletedProcess[bytes]) -> str:
    err = done.stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in err, err
    return err


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "名单.xlsx"
    os.mkfifo(path)
    return path


# --- 4: nothing printed can drive the terminal ----------------------------------------------


def test_render_shows_control_characters_in_replies_choices_and_file_names(tmp_path):
    shown = render(
        [
            Reply(
                "王\x1b]0;pwned\x07芳 的名单",
                choices=(Choice("\x9b31m选我", "x"), Choice("正常\x7f", "y")),
                files=(OutgoingFile("\x1b[2J报告\r.xlsx", b"data", caption="说明\x1b[0m"),),
            )
        ],
        tmp_path,
    )
    assert CONTROLS.search(shown) is None
    assert "王\\x1b]0;pwned\\x07芳" in shown and "\\x9b31m选我" in shown
    # The file is saved under a name without the controls, inside the output folder.
    assert [p.name for p in tmp_path.iterdir()] == ["[2J报告.xlsx"]


def test_render_saves_a_file_named_like_a_folder_inside_the_output_folder(tmp_path):
    out = tmp_path / "out"
    shown = render(
        [Reply("好", files=(OutgoingFile("..", b"x"), OutgoingFile("a/../b", b"y")))], out
    )
    assert sorted(p.name for p in out.iterdir()) == ["b", "文件"]
    assert "[文件已保存]" in shown


def test_a_file_that_cannot_be_saved_is_said_and_the_chat_goes_on(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    shown = render([Reply("汇总好了", files=(OutgoingFile("参保汇总.xlsx", b"x"),))], blocker)
    assert "汇总好了" in shown and "[文件没能保存] 参保汇总.xlsx" in shown and "--out" in shown


def test_what_a_user_typed_is_echoed_without_its_escape_sequences(tmp_path):
    out = chat(tmp_path, ["\x1b]0;pwned\x07你好\x9b2J", "/upload /no/such/\x1b[31m名单.xlsx"])
    assert CONTROLS.search(out) is None
    assert "你好" in out and "找不到文件" in out


def test_roster_check_shows_a_hostile_file_name_escaped(tmp_path):
    rows = [row_values(n, seq=i) for i, n in enumerate(people(2), 1)]
    roster = csv_file(tmp_path / "名单\x1b]0;pwned\x07.csv", rows)
    done = hubao(tmp_path, "roster", "check", str(roster))
    no_traceback(done)
    assert done.returncode == 0
    assert CONTROLS.search(done.stdout.decode()) is None  # shown escaped, or dropped on reading
    # Where the name reaches the output as given, it is shown escaped.
    done = hubao(tmp_path, "roster", "check", str(tmp_path / "无此\x1b]0;pwned\x07.csv"))
    err = no_traceback(done)
    assert done.returncode == 2 and CONTROLS.search(err) is None
    assert "无此\\x1b]0;pwned\\x07.csv" in err


def test_roster_check_json_carries_no_raw_c1_control(capsys, tmp_path):
    missing = tmp_path / "名单\x9b2J.csv"
    assert cli.main(["roster", "check", str(missing), "--json"]) == 2
    captured = capsys.readouterr()
    assert CONTROLS.search(captured.out) is None and CONTROLS.search(captured.err) is None
    assert "\x9b" in json.loads(captured.out)["file_error"]["message"]  # JSON still says it


def test_a_roster_with_bell_and_escape_in_cells_gets_its_report(tmp_path):
    ids = people(2)
    rows = [row_values(ids[0], name="张\x07三"), row_values(ids[1], seq=2, name="李\x1b[31m四")]
    roster = csv_file(tmp_path / "名单.csv", rows)
    report = tmp_path / "结果.xlsx"
    done = hubao(tmp_path, "roster", "check", str(roster), "--report", str(report))
    no_traceback(done)
    assert done.returncode == 0 and report.exists()
    assert CONTROLS.search(done.stdout.decode()) is None


def test_an_unexpected_failure_is_a_short_message_without_the_id_in_it(
    capsys, tmp_path, monkeypatch
):
    import sheets.roster_write

    full_id = people(1)[0]
    roster = csv_file(tmp_path / "名单.csv", [row_values(full_id)])
    report = tmp_path / "结果.xlsx"

    def broken(path: Path, *args: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"half a workbook")
        raise ValueError(f"Cannot convert '{full_id}\x1b' to Excel")

    monkeypatch.setattr(sheets.roster_write, "write_report", broken)
    code = cli.main(["roster", "check", str(roster), "--report", str(report)])
    captured = capsys.readouterr()
    assert code != 0
    assert full_id not in captured.out + captured.err
    assert "没能检查完" in captured.err and "另存为" in captured.err
    assert not report.exists()  # no half-written report left behind


def test_any_command_failing_unexpectedly_prints_no_traceback(capsys, monkeypatch):
    def broken(args: Any) -> int:
        raise KeyError("310101199001010252")

    monkeypatch.setattr(cli, "cmd_quote", broken)
    code = cli.main(["quote", "--plans", "A0"])
    captured = capsys.readouterr()
    assert code == 1 and "出了点意外" in captured.err
    assert "310101199001010252" not in captured.err + captured.out


# --- 6: only regular files, and never more than the cap -------------------------------------


def test_chat_refuses_devices_folders_and_pipes_without_reading_them(tmp_path, fifo):
    out = chat(tmp_path, ["/upload /dev/zero", f"/upload {fifo}", f"/upload {tmp_path}"])
    assert out.count("不是普通文件") == 2 and "是一个文件夹" in out


def test_an_upload_is_read_up_to_the_cap_whatever_its_size_claims(monkeypatch, tmp_path):
    proc_file = Path("/proc/self/maps")  # a regular file whose stat size is 0
    if not proc_file.exists():
        pytest.skip("needs Linux /proc")
    monkeypatch.setattr(terminal, "MAX_UPLOAD_BYTES", 64)
    assert "太大" in str(to_message(key(), f"/upload {proc_file}"))
    exact = tmp_path / "名单.csv"
    exact.write_bytes(b"x" * 64)
    message = to_message(key(), f"/upload {exact}")
    assert not isinstance(message, str) and message.file is not None
    assert message.file.data == b"x" * 64
    exact.write_bytes(b"x" * 65)
    assert "太大" in str(to_message(key(), f"/upload {exact}"))


@pytest.mark.parametrize("device", ["/dev/zero", "fifo", "folder"])
def test_roster_check_refuses_what_is_not_a_regular_file(tmp_path, fifo, device):
    path = {"fifo": str(fifo), "folder": str(tmp_path)}.get(device, device)
    done = hubao(tmp_path, "roster", "check", path, "--json", timeout=60)
    no_traceback(done)
    assert done.returncode == 2
    assert json.loads(done.stdout)["file_error"]["code"] == "unreadable_file"


# --- 7: the database going away -------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nobody listens there once the socket is closed


def test_chat_with_the_database_down_says_so_and_keeps_going(tmp_path):
    url = f"postgresql://hubao@127.0.0.1:{_closed_port()}/hubao"
    out = chat(tmp_path, ["你好", "/quote"], "--db", url)
    assert out.count(DB_DOWN) == 2


def test_a_database_url_hubao_cannot_use_is_a_message(tmp_path):
    done = hubao(tmp_path, "chat", "--db", "mysql://x/y", stdin=b"hi\n")
    err = no_traceback(done)
    assert done.returncode == 2 and "不支持的数据库：mysql" in err


class FlakyStorage(Storage):
    """A storage whose database goes away while ``down`` is set."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise OperationalError("BEGIN", {}, ConnectionRefusedError(111, "refused"))

    def turn(
        self, key: ConversationKey, message_id: str | None
    ) -> AbstractAsyncContextManager[Turn]:
        @asynccontextmanager
        async def turn() -> AsyncIterator[Turn]:
            self._check()
            async with self.inner.turn(key, message_id) as t:
                yield t

        return turn()

    async def transcript(self, key: ConversationKey) -> Any:
        self._check()
        return await self.inner.transcript(key)

    async def forget_user(self, channel: str, user_id: str) -> int:
        self._check()
        return await self.inner.forget_user(channel, user_id)

    async def misses(self, since: Any = None) -> Any:
        return await self.inner.misses(since)

    async def stats(self) -> dict[str, int]:
        return await self.inner.stats()

    async def offered(self, key: ConversationKey) -> Any:
        return await self.inner.offered(key)

    async def figures(self, first: Any, last: Any) -> Any:
        return await self.inner.figures(first, last)

    @property
    def outbox(self) -> Any:
        return self.inner.outbox

    @property
    def staff(self) -> Any:
        return self.inner.staff


class Script(io.StringIO):
    """Piped stdin whose ``on_line[n]`` runs before the n-th line (from 0) is read."""

    def __init__(self, lines: list[str], on_line: dict[int, Any]) -> None:
        super().__init__("".join(line + "\n" for line in lines))
        self.on_line = on_line
        self.read_lines = 0

    def readline(self, size: int | None = -1) -> str:
        if action := self.on_line.get(self.read_lines):
            action()
        self.read_lines += 1
        return super().readline(size)


async def test_an_outage_mid_chat_loses_that_message_only(tmp_path):
    storage = FlakyStorage(MemoryStorage())
    who = key("flaky", "terminal")
    stdin = Script(
        ["/quote", "A0 B0 C0", "A0 B0 C0", "3个人"],
        {1: lambda: setattr(storage, "down", True), 2: lambda: setattr(storage, "down", False)},
    )
    stdout = io.StringIO()
    await run_terminal(engine(storage), who, stdin, stdout, tmp_path)
    out = stdout.getvalue()
    assert out.count(DB_DOWN) == 1
    # The failed answer was not kept: the same answer is taken again, and the quote goes on.
    after = out.split(DB_DOWN, 1)[1]
    assert "几位员工" in after and "从哪天起保" in after


async def test_a_database_that_cannot_be_opened_at_start_is_opened_on_a_later_message(tmp_path):
    blocker = tmp_path / "db"
    blocker.write_text("not a folder")  # the SQLite file's folder cannot be made
    opened: list[Storage] = []

    async def open_engine() -> Any:
        storage = await open_storage(f"sqlite:///{blocker / 'hubao.sqlite3'}")
        opened.append(storage)
        return engine(storage)

    def repair() -> None:
        blocker.unlink()

    stdin = Script(["/quote", "/quote"], {1: repair})
    stdout = io.StringIO()
    try:
        await run_terminal(open_engine, key("u", "terminal"), stdin, stdout, tmp_path)
    finally:
        for storage in opened:
            await storage.close()
    first, second = stdout.getvalue().split("您> /quote\n")[1:]
    assert DB_DOWN in first and "哪些保障项目" in second
    assert (blocker / "hubao.sqlite3").exists()


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_an_interactive_chat_starts_with_the_database_down(tmp_path, monkeypatch):
    storage = FlakyStorage(MemoryStorage())
    storage.down = True
    attempts: list[int] = []

    async def open_engine() -> Any:
        attempts.append(1)
        if storage.down:
            raise OperationalError("connect", {}, ConnectionRefusedError(111, "refused"))
        return engine(storage)

    typed = iter(["/quote"])

    def fake_input(prompt: str) -> str:
        storage.down = False
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    stdout = Tty()
    await run_terminal(open_engine, key("tty", "terminal"), Tty(), stdout, tmp_path)
    out = stdout.getvalue()
    assert out.startswith("服务暂时连不上数据库，请稍后再发消息")
    assert "哪些保障项目" in out and out.rstrip().endswith("再见！")
    assert len(attempts) == 2


# --- 9: the key file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "said"),
    [(b"", "是空的"), (b"0123abcd", "不完整"), (b"\x00\x01garbage", "不是 hubao 写的")],
)
def test_chat_with_a_damaged_key_file_says_which_file_and_what_to_do(tmp_path, content, said):
    (tmp_path / "secret.key").write_bytes(content)
    done = hubao(tmp_path, "chat", stdin=b"/quote\n")
    err = no_traceback(done)
    assert done.returncode == 2
    assert str(tmp_path / "secret.key") in err and said in err and "备份" in err
    assert (tmp_path / "secret.key").read_bytes() == content  # never replaced


def test_the_engine_benchmark_writes_no_key_file_where_it_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "engine_turns.py"),
         "--conversations", "2", "--turns", "2"],
        cwd=tmp_path, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert list(tmp_path.iterdir()) == []


# --- 10: bytes that are not UTF-8, consoles that are not UTF-8 ------------------------------

ENROLL_GBK = "我要参保".encode("gbk")


def test_gbk_bytes_on_stdin_are_understood(tmp_path):
    out = chat_bytes(tmp_path, ENROLL_GBK + b"\n")
    assert "您> 我要参保" in out and "一步步办理" in out


def chat_bytes(data_dir: Path, stdin: bytes, **env: str) -> str:
    done = hubao(data_dir, "chat", "--user", "handler1", stdin=stdin, **env)
    no_traceback(done)
    assert done.returncode == 0
    return done.stdout.decode(env.get("PYTHONIOENCODING", "utf-8"))


async def test_undecodable_bytes_never_reach_the_engine_or_the_database(tmp_path):
    out = chat_bytes(tmp_path, b"abc\xff\xfe\xed\xa0\x80\x00\x1b[31m\n/quote\n")
    assert "您> abc" in out and "哪些保障项目" in out
    storage = await open_storage(None, tmp_path)
    try:
        lines = await storage.transcript(ConversationKey("terminal", "handler1", "handler1"))
    finally:
        await storage.close()
    said = [line.text for line in lines if line.role == "user"]
    assert said[0].startswith("abc") and len(said) == 2
    for text in said:
        text.encode("utf-8")  # no lone surrogate: this would raise
        assert CONTROLS.search(text) is None


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "gbk", "utf-8", "utf-8:strict"])
@pytest.mark.parametrize("typed", ["utf-8", "gbk"])
def test_chat_runs_whatever_the_console_encoding(tmp_path, encoding, typed):
    done = hubao(
        tmp_path, "chat", stdin="我要参保\n/quote\n".encode(typed), PYTHONIOENCODING=encoding
    )
    no_traceback(done)
    assert done.returncode == 0
    codec = encoding.split(":")[0]
    out = done.stdout.decode(codec)
    if codec in {"gbk", "utf-8"}:
        assert "一步步办理" in out and "哪些保障项目" in out
    else:
        assert out.count("> ") == 2  # both turns answered, Chinese shown as "?"


@pytest.mark.parametrize("encoding", ["ascii", "gbk"])
def test_roster_check_runs_whatever_the_console_encoding(tmp_path, encoding):
    roster = csv_file(tmp_path / "名单.csv", [row_values(people(1)[0])])
    done = hubao(tmp_path, "roster", "check", str(roster), PYTHONIOENCODING=encoding)
    no_traceback(done)
    assert done.returncode == 0 and done.stdout


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("HUBAO_DEBUG", raising=False)
    yield
