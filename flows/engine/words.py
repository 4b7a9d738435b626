"""The words the engine reads before any flow does: the commands (whole messages, and
those that keep their meaning inside a sentence, "我要转人工"), the words of a request to
resume, to see a result again or to change it, and the cleaning of a message as a channel
delivered it. Pure functions of text; nothing here touches a conversation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from flows.messages import Incoming, IncomingFile
from rules.text import drop_invisible

MAX_TEXT_CHARS = 2000

COMMANDS = {
    name: tuple(words.split("|"))
    for name, words in {
        "start": "/start|开始|菜单|/menu|主菜单",
        "help": "/help|帮助|使用帮助",
        "cancel": "/cancel|取消|退出|不办了|算了",
        "back": "/back|返回上一步|上一步|返回|退回上一步",
        "restart": "/restart|重新开始|从头开始|重来",
        "human": "/human|人工|转人工|人工客服|找人工",
        "forget": "/forget|删除我的数据|删除数据|清除我的数据",
        "discard": "/discard|删除草稿|删掉草稿|删除参保草稿|不要这份草稿了",
    }.items()
}
"""The words that are a command when they are the whole message (one alternation each)."""
GREETINGS = frozenset({"smalltalk_hello", "smalltalk_help"})
"""Knowledge-base entries a chat answers with the welcome and the menu's buttons."""
_LONGEST_COMMAND_TEXT = 64
ALWAYS_OFFERED = frozenset({"cmd:start", "cmd:help", "cmd:human"})
"""Buttons harmless in any state; erasing data or leaving a flow needs a fresh offer."""

COMMAND_OF = {word: name for name, words in COMMANDS.items() for word in words}
_IN_SENTENCE = {
    "human": re.compile(
        r"(转|找|要|接|问问?|联系|打|转接|跟|和|同|叫|喊)(个|一下|下|一个)?人工|人工客服|真人|有没有人工"
        r"|人工在吗|人工聊"
        r"|^人工服务$"
    ),
    "forget": re.compile(r"(删除|删掉|清除|清空)(我的|我们的)?(数据|资料|个人信息|记录)"),
    "start": re.compile(r"^(先|那|我|还是)?(回到|返回|回|打开|看看?)(主)?菜单"),
    "restart": re.compile(r"^(重新开始|从头开始|从头再来|全部重来)"),
    "cancel": re.compile(
        r"^(算了|好了|那)?[,，\s]*(取消|退出|不办了|不算了|不弄了|不测了|不问了)(吧|了|办理)?"
        r"[,，\s]*(谢谢|谢了|多谢)?$"
        r"|(先|暂时|今天)不(弄|办|搞|做)了|^不(弄|办|搞)了|回头再(说|弄|办)|下次再(说|弄|办)|改天再(说|弄|办)"
        r"|^(今天)?(先|就)(到这|到这里|到这儿|这样)(吧|了)?"
    ),
    "back": re.compile(r"(返回|回到|退回|回)上一步|上一个问题"),
}
"""Commands that still mean themselves inside a sentence ("我要转人工")."""
SLASH_FLOW = re.compile(r"^/([a-z_]+)$")


def command_of(text: str) -> str | None:
    if len(text) > _LONGEST_COMMAND_TEXT:  # nothing that long is a command; skip the work
        return None
    key = unicodedata.normalize("NFKC", text).strip().lower().rstrip("。.!！")
    if key in COMMAND_OF:
        return COMMAND_OF[key]
    if len(key) <= 30:
        for name, pattern in _IN_SENTENCE.items():
            if pattern.search(key):
                return name
    return None


def plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).strip("。.!！?？")


RESUME = re.compile(r"^(继续|接着)(办|弄|来|做|填|吧)*(吧|了)?$|(继续|接着)(刚才|上次|之前)")

AGAIN = re.compile(
    r"没(有)?收到|没看到|没显示|没出来|再发|重发|重新发|发一下|文件呢|汇总呢|名单呢|结果呢"
    r"|怎么没(反应|回复|回|动静)|卡住|掉线|断了"
)
"""A result that did not arrive, asked for again."""

FOLLOW_UP = re.compile(
    r"^(那|那么|要是|如果|假如|假设|换|改|再|去掉|加上|加一个|加个|不对)|呢|的话|再算|重新算|算一下|换成|改成"
    r"|看看"
    r"|去掉|加上|多少钱|交多少|要多少"
)
"""Words of a follow-up on a result, which a question may carry ("要是7月5号才交呢")."""


_MAX_BUTTON_CHARS = 256
_MAX_FILE_NAME_CHARS = 255


def sanitized(message: Incoming) -> Incoming:
    """The message as the engine reads it, whatever a channel let through."""
    text = drop_invisible(message.text)
    button = message.button
    if button is not None:
        button = drop_invisible(button)[:_MAX_BUTTON_CHARS]
    file = message.file
    if file is not None:
        name = drop_invisible(file.name).strip()[-_MAX_FILE_NAME_CHARS:] or "名单"
        file = IncomingFile(name, file.data)
    if (text, button, file) == (message.text, message.button, message.file):
        return message
    return replace(message, text=text, button=button, file=file)


def describe(message: Incoming, offered: list[dict[str, str]] | None = None) -> str:
    """The message as the transcript keeps it: a pressed button by its label when it was
    offered (a history shown again reads "有", not "v:yes")."""
    if message.file is not None:
        return f"[文件] {message.file.name}"
    if message.button is not None:
        labels = {c.get("value"): c.get("label") for c in offered or ()}
        return f"[按钮] {labels.get(message.button) or message.button}"
    return message.text[:MAX_TEXT_CHARS]
