"""How every `hubao` command ends (issue 13): a refusal is one Chinese line with status 2,
output closed early (`hubao … | head`) is a quiet stop with status 141, and README's
command list is what the commands do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli

from roster_builders import csv_file, people, row_values

HUBAO = str(Path(sys.executable).with_name("hubao"))
README = Path(__file__).resolve().parent.parent / "README.md"
CHINESE = re.compile("[\u4e00-\u9fff]")


def run(
    tmp_path: Path, *args: str, stdin: bytes = b"", buffered: bool = True, closed: str = ""
) -> subprocess.CompletedProcess[bytes]:
    """``hubao args``; ``closed`` names the streams ("stdout", "stdout stderr") whose reader
    has gone before the command writes anything, as `| head` leaves them."""
    env = {**os.environ, "HUBAO_DATA_DIR": str(tmp_path / "data"), "HUBAO_TODAY": "2023-07-10"}
    for name in ("HUBAO_DB_URL", "HUBAO_DEBUG", "PYTHONUNBUFFERED"):
        env.pop(name, None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [HUBAO, *args],
            input=stdin,
            stdout=write_end if "stdout" in closed else subprocess.PIPE,
            stderr=write_end if "stderr" in closed else subprocess.PIPE,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    rows = [row_values(n, seq=i) for i, n in enumerate(people(400), 1)]
    return csv_file(tmp_path / "名单.csv", rows)


COMMANDS = {
    "quote": ["quote", "--plans", "A0,B0,C0", "--people", "3"],
    "ask": ["ask", "忘记密码怎么办"],
    "faq export": ["faq", "export", "--format", "html"],
    "roster check": ["roster", "check", "名单.csv"],
    "help": ["--help"],
}


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_output_closed_early_is_a_quiet_stop(tmp_path, roster, command, buffered):
    done = run(tmp_path, *COMMANDS[command], buffered=buffered, closed="stdout")
    assert done.stderr == b""  # no BrokenPipeError traceback, no "Exception ignored"
    # argparse ignores a failed write of --help itself: unbuffered, it exits 0.
    allowed = {cli.EXIT_OUTPUT_CLOSED, 0} if command == "help" else {cli.EXIT_OUTPUT_CLOSED}
    assert done.returncode in allowed


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_a_chat_whose_output_is_closed_stops_quietly(tmp_path, buffered):
    lines = "你好\n登录\n/quote\n".encode()
    done = run(tmp_path, "chat", stdin=lines, buffered=buffered, closed="stdout")
    assert done.stderr == b""
    assert done.returncode == cli.EXIT_OUTPUT_CLOSED


def test_a_roster_checks_report_stays_when_its_output_is_closed(tmp_path, roster):
    done = run(tmp_path, "roster", "check", "名单.csv", "--report", "标注.xlsx", closed="stdout")
    assert done.returncode == cli.EXIT_OUTPUT_CLOSED and done.stderr == b""
    assert (tmp_path / "标注.xlsx").stat().st_size > 0  # complete: it was written first


def test_a_refusal_with_both_outputs_closed_stops_quietly(tmp_path):
    args = ("quote", "--plans", "A0", "--start", "2023-02-30", "--json")
    done = run(tmp_path, *args, closed="stdout stderr")
    assert done.returncode == cli.EXIT_OUTPUT_CLOSED


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["quote"], "缺少参数：--plans。"),
        (["quote", "--plans", "A0", "--people", "三"], "--people 要填整数，不能是“三”。"),
        (["quote", "--plans"], "--plans 后面要写上值。"),
        (["quota"], "没有“quota”这个命令，可以用：quote、chat、"),
        (["faq"], "缺少要运行的命令。"),
        (["faq", "export", "--format", "pdf"], "--format 只能是 md、html、xlsx，不能是“pdf”。"),
        (["roster", "check"], "缺少参数：FILE。"),
        (["ask", "--bogus"], "不认识的参数：--bogus。"),
    ],
)
def test_a_bad_argument_ends_with_one_chinese_line_and_status_2(capsys, args, said):
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    assert stopped.value.code == cli.EXIT_USAGE
    last = capsys.readouterr().err.rstrip("\n").splitlines()[-1]
    assert last.startswith(said) and last.endswith("-h 查看用法。")


@pytest.mark.parametrize(
    "args",
    [
        ["faq", "misses", "--since", "2023-02-30"],
        ["roster", "check", "名单.csv", "--as-of", "2023-02-30"],
        ["quote", "--plans", "A0", "--start", "2023-02-30"],
    ],
)
def test_every_date_option_says_a_day_does_not_exist(tmp_path, roster, args):
    done = run(tmp_path, *args)
    err = done.stderr.decode()
    assert done.returncode == cli.EXIT_USAGE and done.stdout == b""
    assert err.splitlines() == ["2023年2月30日不存在（2023年2月只有28天），请检查日期。"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["faq", "eval", "无此文件.jsonl"],
            "评测文件读不了：无此文件.jsonl（文件或文件夹不存在）",
        ),
        (["faq", "eval", "名单.csv"], "格式不对"),
        (["chat", "--db", "mysql://x/y"], "不支持的数据库：mysql"),
    ],
)
def test_an_expected_error_is_one_chinese_line_and_status_2(tmp_path, roster, args, said):
    done = run(tmp_path, *args, stdin=b"hi\n")
    err = done.stderr.decode()
    assert done.returncode == cli.EXIT_USAGE
    assert len(err.splitlines()) == 1 and said in err and "Traceback" not in err


# --- README's command list -------------------------------------------------------------


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _commands() -> list[list[str]]:
    """The command lines of the section's code block, options in [...] taken, the first of
    a|b|c choices."""
    block = _section("Commands for the hotline team").split("```")[1]
    lines, current = [], ""
    for raw in block.splitlines():
        line = raw.split("  #")[0].rstrip()
        if line.startswith("hubao "):
            if current:
                lines.append(current)
            current = line
        elif line.strip() and current:
            current += " " + line.strip()
    lines.append(current)
    commands = []
    for line in lines:
        line = re.sub(r"\[([^\[\]]*)\]", r"\1", line)
        line = re.sub(r"(\S+?)\|\S+", r"\1", line).replace('"', "")
        commands.append(["1" if w in {"N", "M"} else w for w in line.split()[1:]])
    return commands


def test_every_readme_command_line_is_one_the_parser_takes():
    parser = cli.build_parser()
    commands = _commands()
    assert len(commands) >= 9
    for args in commands:
        parser.parse_args(args)  # SystemExit (status 2) on an option the command lacks


def test_every_command_and_exit_status_is_documented():
    section = _section("Commands for the hotline team")
    documented = {" ".join(a[:2]) if a[0] in {"faq", "roster"} else a[0] for a in _commands()}
    assert documented >= {
        "quote", "ask", "faq eval", "faq export", "faq lint", "faq misses",
        "roster template", "roster check",
    }  # fmt: skip
    for status in (0, 1, 2, cli.EXIT_INTERRUPTED, cli.EXIT_OUTPUT_CLOSED):
        assert re.search(rf"^\| `{status}` \|", section, re.M), status
