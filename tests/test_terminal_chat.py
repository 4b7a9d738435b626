"""`hubao chat` as the README runs it: a scripted conversation on the embedded SQLite
database, resumed by a second process after the first one exits (a restart)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.terminal import render
from flows.messages import OutgoingFile, Reply
from flows.storage_factory import open_storage

from helpers import engine, joined, key, roster_upload, text

HUBAO = str(Path(sys.executable).with_name("hubao"))


def chat(data_dir: Path, lines: list[str], *extra: str) -> str:
    env = {**os.environ, "HUBAO_DATA_DIR": str(data_dir), "HUBAO_TODAY": "2023-07-10"}
    env.pop("HUBAO_DB_URL", None)
    done = subprocess.run(
        [HUBAO, "chat", "--user", "handler1", *extra],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_a_flow_resumes_in_a_new_process_on_the_same_database(tmp_path):
    first = chat(tmp_path, ["/quote", "A0 B0 C0"])
    assert "几位员工" in first
    second = chat(tmp_path, ["3个人", "2023-07-11"])
    assert "合计：540元" in second
    assert (tmp_path / "hubao.sqlite3").exists()


def test_buttons_are_numbered_and_typing_the_number_picks_one(tmp_path):
    out = chat(tmp_path, ["/start", "2"])
    assert "  1. 我要参保" in out and "  2. 保费测算" in out
    assert "哪些保障项目" in out


def test_a_missing_upload_file_is_a_clear_message(tmp_path):
    out = chat(tmp_path, ["/upload /no/such/名单.xlsx"])
    assert "找不到文件" in out


async def test_forget_erases_the_transcript_and_keeps_nothing_personal(tmp_path):
    storage = await open_storage(None, tmp_path)
    try:
        bot = engine(storage)
        who = key("u9")
        await bot.handle(text(who, "我的身份证310101199001010252，帮我算A0 B0 C0，3个人"))
        lines = await storage.transcript(who)
        assert lines and all("310101199001010252" not in x.text for x in lines)
        assert "确定删除吗" in joined(await bot.handle(text(who, "/forget")))
        assert await storage.transcript(who) != []  # nothing goes before it is confirmed
        assert "已删除" in joined(await bot.handle(text(who, "1")))
        assert await storage.transcript(who) == []
    finally:
        await storage.close()


def test_a_small_unit_enrolls_in_the_terminal_chat_and_gets_its_files(tmp_path):
    name, data = roster_upload({"people": 3})
    roster = tmp_path / name
    roster.write_bytes(data)
    out = tmp_path / "out"
    lines = ["我要参保", "没有", "今天", "1", "1", "1", "上海终端测试有限公司"]
    first = chat(tmp_path, lines, "--out", str(out))
    assert "Excel" in first
    # The handler comes back later (a new process) with the roster file.
    second = chat(tmp_path, [f"/upload {roster}", "下一步", "3", "A0 B0 C0"], "--out", str(out))
    assert "共3行，可以参保3人" in second and "合计：540元" in second
    saved = [p.name for p in out.iterdir()]  # named for the unit (and the date)
    for kind in ("参保名单（可导入）", "参保汇总"):
        assert any(kind in n and "上海终端测试有限公司" in n for n in saved), saved
    key_file = tmp_path / "secret.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0


def test_choices_are_numbered_across_a_turns_replies_as_typing_picks_them(tmp_path):
    out = chat(tmp_path, ["我要参保", "/help", "7"])
    assert "  5. 批次状态怎么办" in out and "  7. 没参加过" in out
    assert out.rstrip().endswith("2. 明天（2023年7月11日）")


def test_a_second_units_files_never_replace_the_firsts_in_the_same_folder(tmp_path):
    out = tmp_path / "out"
    first = render([Reply("好了", files=(OutgoingFile("参保汇总.xlsx", b"unit 1"),))], out)
    second = render([Reply("好了", files=(OutgoingFile("参保汇总.xlsx", b"unit 2"),))], out)
    third = render([Reply("好了", files=(OutgoingFile("参保汇总.xlsx", b"unit 3"),))], out)
    assert (out / "参保汇总.xlsx").read_bytes() == b"unit 1"
    assert (out / "参保汇总 (2).xlsx").read_bytes() == b"unit 2"
    assert (out / "参保汇总 (3).xlsx").read_bytes() == b"unit 3"
    assert f"[文件已保存] {out / '参保汇总.xlsx'}" in first and "没有覆盖" not in first
    assert f"[文件已保存] {out / '参保汇总 (2).xlsx'}" in second
    assert "已有“参保汇总.xlsx”，没有覆盖它" in second and "参保汇总 (3).xlsx" in third
    assert (out / "参保汇总 (2).xlsx").stat().st_mode & 0o077 == 0


def test_a_link_in_the_output_folder_is_neither_followed_nor_replaced(tmp_path):
    out, target = tmp_path / "out", tmp_path / "elsewhere.txt"
    out.mkdir()
    target.write_bytes(b"keep me")
    (out / "参保汇总.xlsx").symlink_to(target)
    shown = render([Reply("好了", files=(OutgoingFile("参保汇总.xlsx", b"new"),))], out)
    assert target.read_bytes() == b"keep me"
    assert (out / "参保汇总 (2).xlsx").read_bytes() == b"new" and "参保汇总 (2).xlsx" in shown


def test_a_did_you_mean_list_is_shown_once(tmp_path):
    out = chat(tmp_path, ["登录"])
    labels = re.findall(r"^  \d+\. (.+)$", out, flags=re.M)
    assert len(labels) >= 2, out  # a choice was offered
    for label in labels:
        assert out.count(label) == 1, out
