"""Slot values from free Chinese text: plan codes and plan edits, head counts, dates with
their role, yes/no, and the words that mark a correction.

Every parser is a pure function that returns None when the text says nothing about its
slot, so one message can be offered to all of a form's parsers and fill whatever it
mentions. Parsers never guess: a value is read only when the words say it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from faq.normalize import fix_typos
from flows.flow import Invalid
from rules.catalog import say
from rules.errors import NoPolicyData
from rules.policy import PolicyYear

_C = r"[ABCabc]\s*[0-3]"
"""A plan code as typed ("A0", "a 0")."""
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = r"[零〇一二两俩三仨四五六七八九十百千]+"
_NUMBER = rf"(\d+|{_CN_NUMBER})"


QUESTION = re.compile(
    r"[?？]|怎么|如何|什么|为什么|为啥|啥|咋|哪|吗|呢|多少|多久|能否|能不能|可不可以|是否"
    r"|几月|几号|几天|几点|几个工作日|几时|是不是|有没有|对不对|行不行|好不好|要不要"
)
"""Words that make a message a question rather than an answer to the one asked."""

RULE_QUESTION = re.compile(
    r"吗[?？!！。\s]*$|能不能|可不可以|是不是|是否|能否|行不行|有没有|可以吗"
)
"""A question about the rules ("没社保的能买A1吗"), which a typed answer never is."""


_NUMERAL_RUN = re.compile(r"[0-9零〇一二三四五六七八九十百千万两]{20,}")
"""Longer than any ID or phone number: no slot's value. Such runs are cut before parsing
(the count and date patterns would scan them in time growing with the square)."""


def normalize_text(text: str) -> str:
    """Half-width, with the program's words where an input method gave homophones."""
    text = _NUMERAL_RUN.sub("…", unicodedata.normalize("NFKC", text))
    return fix_typos(text).strip()


def cn_int(token: str) -> int | None:
    """ "8" -> 8, "十二" -> 12, "两百零五" -> 205, "三十" -> 30; None if not a number."""
    if token.isdecimal() and token.isascii():
        return int(token)
    total, section, digit = 0, 0, None
    units = {"十": 10, "百": 100, "千": 1000}
    for ch in token:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in units:
            section += (digit if digit is not None else 1) * units[ch]
            digit = None
        else:
            return None
    return total + section + (digit or 0)


# --- corrections -----------------------------------------------------------------------

CORRECTION = re.compile(
    r"不对|错了|说错|搞错|写错|打错|弄错|输错|更正|纠正|改成|改为|改到|换成|换为|修改|改一下"
    r"|重新选|重选|改选|不是.+是"
)
"""Words that say the message changes an earlier answer rather than answering anew."""

_LEADING_CORRECTION = re.compile(
    r"^\s*(?:不对|不是|错了|说错了?|搞错了?|写错了?|打错了?|弄错了?|输错了?|更正|纠正)"
    r"[\s,，.。!！、:：]*(?:应该)?(?:是)?"
)


def retracts(text: str) -> bool:
    """ "不对，…", "说错了，…": the message takes back the answer just given."""
    return bool(_LEADING_CORRECTION.match(normalize_text(text))) and not re.match(
        r"^\s*不是的?\s*$", normalize_text(text)
    )


_NOT_BUT = re.compile(r"^(?P<head>.*?)不是(?P<old>.+?)[,，、\s]*(?:而|应该)?是(?P<new>.+)$")
_BUT_NOT = re.compile(r"^(?:是)?(?P<new>.+?)[,，、\s]+(?:而)?不是(?P<old>.+)$")


def strip_correction(text: str) -> str:
    """ "不对，是10个人" -> "10个人", "不是8个是9个" -> "9个": the new value without the
    words that mark a fix (nor the old value it replaces)."""
    text = normalize_text(text)
    if m := _NOT_BUT.match(text):  # "人数不是5 是15": the slot's name stays with the value
        return (m.group("head") + m.group("new")).strip()
    if m := _BUT_NOT.match(text):
        return m.group("new").strip()
    return _LEADING_CORRECTION.sub("", text, count=1).strip()


# --- plans -----------------------------------------------------------------------------

_CODE = re.compile(r"(?<![a-z])([abc])\s*([0-3])(?![0-9])", re.I)
_TRIO = re.compile(
    r"(三个|三项|三样|3个|3项|全部|所有)的?基本|基本(款|的)?(保障|项目)?的?(三个|三项|三样|3个|3项)?(都|全)"
    r"(要|选|参加|买)|基本三项|基本三样|基本的?(三个|三项|三样|3个|3项)"
)
_SERIES = {"A": r"在职住院|住院", "B": r"特种重病|重大疾病|重病|重疾", "C": r"意外伤害|意外"}
_LEVEL = {"0": r"基本", "1": r"加强\s*一档|一档|加强1档|1档", "2": r"加强\s*二档|二档|2档",
          "3": r"加强\s*三档|三档|3档"}  # fmt: skip


def extract_plans(text: str) -> tuple[str, ...] | None:
    """Plan codes in any spelling: "A0 B0 C0", "a0b0c0", "三个基本都要", "住院加强二档"."""
    text = normalize_text(text).replace("基础", "基本")
    found: list[str] = []
    if _TRIO.search(text):
        found += ["A0", "B0", "C0"]
    found += [f"{s.upper()}{n}" for s, n in _CODE.findall(text)]
    for series, names in _SERIES.items():
        level_words = r"(加强\s*[一二三123]档|[一二三123]档|基本)"
        pattern = (
            rf"(?:{names})\s*(?:保障)?\s*(?:的)?\s*(?:要|选|就|也|来|参加|买)?\s*{level_words}"
        )
        for m in re.finditer(pattern, text):
            for level, pattern in _LEVEL.items():
                if re.fullmatch(pattern, m.group(1)):
                    found.append(f"{series}{level}")
                    break
    return tuple(dict.fromkeys(found)) or None


@dataclass(frozen=True)
class PlanEdit:
    """What a message does to a plan selection: name it anew (``chosen``), or add and take
    away ("再加上A1", "去掉C0", "C0换成C1")."""

    chosen: tuple[str, ...] | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    in_series: bool = False
    """"换成A1" with A2 chosen: the one plan replaces its kind in its series, not all."""

    def apply(self, current: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        if self.chosen is not None and self.in_series and len(self.chosen) == 1:
            new = self.chosen[0]
            same = [c for c in current if c[0] == new[0] and (c[1] == "0") == (new[1] == "0")]
            if same:
                return tuple(new if c == same[0] else c for c in current if c not in same[1:])
        if self.chosen is not None:
            return self.chosen
        if len(self.add) == len(self.remove) == 1 and self.remove[0] in current:
            return tuple(self.add[0] if c == self.remove[0] else c for c in current)  # a swap
        kept = [c for c in current if c not in self.remove]
        return tuple(dict.fromkeys([*kept, *self.add]))


_NO_PLAN_BEFORE = re.compile(
    r"(不要|不用|不选|不参加|不买|去掉|去除|删掉|删除|减掉|拿掉|取消|除了|除去)\s*(的)?$"
)
_NO_PLAN_AFTER = re.compile(
    r"\s*(的)?\s*(也|就|都|先|暂时)*\s*(不要|不用|不选|不参加|不买|去掉|去了|删掉|删了|拿掉|取消|算了|免了)"
)
_SWAP = re.compile(
    rf"(?P<old>{_C})\s*(?:换成|换为|改成|改为|变成|换)\s*(?P<new>{_C})"
    rf"|(?:用)?(?P<new2>{_C})\s*(?:替换|替代|代替|顶替)\s*(?:掉)?\s*(?P<old2>{_C})"
)
_SET_WORDS = re.compile(r"换成|改成|改为|换为|只要|只选|只参加|只买|就要|就选")
_ADD_WORDS = re.compile(
    r"加上|再加|加一个|加个|加选|添加|增加|追加|补上|多加|^加|[,，\s]加|还要|也要|也加|也买|加进|加$"
)


def plan_mentions(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The plan codes a message wants and those it declines ("A0不要 B0 C0要")."""
    text = normalize_text(text)
    codes = extract_plans(text) or ()
    declined = []
    used = 0  # a negation after one code ("A0不要 B0") is not also before the next
    for m in _CODE.finditer(text):
        code = f"{m.group(1).upper()}{m.group(2)}"
        after = _NO_PLAN_AFTER.match(text, m.end(), m.end() + 6)
        if _NO_PLAN_BEFORE.search(text[max(used, m.start() - 4) : m.start()]) or after:
            declined.append(code)
        used = after.end() if after else m.end()
    return tuple(c for c in codes if c not in declined), tuple(dict.fromkeys(declined))


_LEVEL_SWAP = re.compile(
    r"(?P<series>住院|重病|重疾|意外|[ABCabc])\s*(?:系列)?\s*(?:的)?\s*(?:加强)?\s*(?P<old>[一二三123])档"
    r"\s*(?:换成|改成|换为|改为|换)\s*(?:加强)?\s*(?P<new>[一二三123])档"
)
_SERIES_OF = {"住院": "A", "重病": "B", "重疾": "B", "意外": "C"}


def extract_plan_edit(text: str) -> PlanEdit | None:
    """ "去掉C0" / "C0不用了" take away, "再加上C0呢" adds, "C0换成C1" and "重病一档换成二档"
    swap, "换成A1" replaces its kind in its series, "换成A0 B0" or plain codes name the
    selection."""
    text = normalize_text(text)
    if m := _LEVEL_SWAP.search(text):
        series = _SERIES_OF.get(m["series"], m["series"].upper())
        old, new = (
            f"{series}{'一二三'.find(x) + 1 if x in '一二三' else x}" for x in m.group(2, 3)
        )
        return PlanEdit(add=(new,), remove=(old,))
    if m := _SWAP.search(text):
        old, new = (m["old"], m["new"]) if m["old"] else (m["old2"], m["new2"])
        swap = {"remove": (_code_of(old),), "add": (_code_of(new),)}
        return PlanEdit(add=swap["add"], remove=swap["remove"])
    wanted, declined = plan_mentions(text)
    if not wanted and not declined:
        return None
    if declined and not wanted:
        return PlanEdit(remove=declined)
    if _SET_WORDS.search(text) or (declined and not _ADD_WORDS.search(text)):
        if declined:
            return PlanEdit(add=wanted, remove=declined)
        in_series = bool(re.search(r"换成|换为|改成|改为", text)) and not re.search(
            r"只要|只选|只参加|只买|就要|就选", text
        )
        return PlanEdit(chosen=wanted, in_series=in_series)
    if _ADD_WORDS.search(text):
        return PlanEdit(add=wanted, remove=declined)
    return PlanEdit(chosen=wanted)


def _code_of(token: str) -> str:
    return re.sub(r"\s+", "", token).upper()


# --- head counts -----------------------------------------------------------------------


@dataclass(frozen=True)
class HeadCount:
    """People as a message gives them: by category (职保 = has social insurance), a total,
    or "all of them" in one category. None means the message does not say."""

    zhibao: int | None
    non_zhibao: int | None
    total: int | None = None
    all_non_zhibao: bool = False
    all_zhibao: bool = False
    change: int = 0
    """A change of the earlier count ("再加两个人" +2, "少一个人" -1) instead of a count."""

    def resolve(self, previous: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """(职保, 非职保), filling what the message leaves out from the total it gives or the
        earlier (职保, 非职保); None when that is impossible ("3个没社保" of 2 people, or
        "再加两个" with nothing before)."""
        if self.change:
            if previous is None:
                return None
            before_zhibao, before_non = previous
            if self.non_zhibao is not None:
                before_non += self.change
            else:
                before_zhibao += self.change
            if before_zhibao < 0 or before_non < 0:
                return None
            return before_zhibao, before_non
        previous_total = sum(previous) if previous else None
        total = self.total if self.total is not None else previous_total
        if self.all_non_zhibao:
            return None if total is None else (0, total)
        if self.all_zhibao:
            return None if total is None else (total, 0)
        zhibao, non = self.zhibao, self.non_zhibao
        if zhibao is None and non is None:
            return None if total is None else (total, 0)
        if zhibao is not None and non is not None:
            if self.total is not None and zhibao + non != self.total:
                return None
            return zhibao, non
        given = zhibao if zhibao is not None else non
        assert given is not None
        rest = 0 if total is None or total < given else total - given
        return (given, rest) if zhibao is not None else (rest, given)


_NON_SI = (
    r"没有(?:交|缴|上)?社保|没(?:交|缴|上)?社保|无社保|不交社保|不缴社保|非职保|不是职保|没(?:有)?职保"
    r"|没有参加社保|没参加社保|没参保社保|没有$|没有(?=[,，。.;；\s])"
)
_WITH_SI = r"有社保|交社保|缴社保|上社保|交了社保|缴了社保|参加社保|职保|社保的"
_CATEGORY = re.compile(rf"(?P<non>{_NON_SI})|(?P<si>{_WITH_SI})")
_PEOPLE_UNIT = r"(?:个|名|位)?\s*(?:人|员工|职工|同事|个人)?"
_COUNT_BEFORE = re.compile(rf"{_NUMBER}\s*{_PEOPLE_UNIT}\s*(?:的)?\s*(?:都|全|是|均|也)*\s*$")
_COUNT_AFTER = re.compile(
    rf"^\s*(?:的)?\s*(?:人)?\s*(?:有|是|为|:|：)?\s*{_NUMBER}\s*(?!\s*[月号日年天])"
)
_ALL = re.compile(r"(全部|全都|都|所有人?|统统|一律|全员)")
_TOTAL = re.compile(
    rf"(?:一共|总共|共|合计|总计)?\s*{_NUMBER}\s*(?:个|名|位)\s*(?:人|员工|职工|同事)?"
    rf"|(?:一共|总共|共|合计|总计)\s*{_NUMBER}(?!\s*[月号日年天元块])"
    rf"|{_NUMBER}\s*(?:人|员工|职工|同事)"
)
_NOT_PEOPLE = re.compile(
    rf"{_NUMBER}?\s*(?:个月|个工作日|个小时|个项目|个险种|个保障|个批次|个文件|个附件|个档|个单位)"
    rf"|{_NUMBER}\s*(?:个|项|种)(?=的?(?:基本|基础|项目|险种|保障|档|[ABCabc]\s*[0-3]|住院|重疾|重病"
    rf"|意外|加强|都要|一起|全要))"
    rf"|(?:再?加|添|多加|加选|再选)\s*(?:一|1)?\s*(?:个|项)(?=\s*(?:{_C}|基本|加强|住院|重疾|重病|意外))"
    rf"|[哪几]\s*{_NUMBER}?\s*(?:个|位|名)"
)
_MORE = re.compile(
    rf"^(?:那|那么)?\s*(?:再|又|还)?\s*(?:加|添|增加|多加|加上|多|新来了?|新进了?|少算了?|漏算了?|漏了|另外还有|另外|还有|外加)\s*(?:了)?\s*{_NUMBER}\s*(?:个|名|位)"
)
_LESS = re.compile(
    rf"^(?:那|那么)?\s*(?:再)?\s*(?:少|减|减少|减去|减掉|去掉|删掉|走了|离职了?|多算了?|多了)\s*(?:了)?\s*{_NUMBER}\s*(?:个|名|位)"
)
_SAID_TOTAL = re.compile(
    rf"(?:人数|人头|总人数)\D{{0,8}}?{_NUMBER}(?!\s*[月号日年天元块])|(?:应该是|其实是|实际是|应该|其实|实际|是)\s*{_NUMBER}\s*(?:个|名|位|人)?\s*$"
)
_ONLY_NUMBER = re.compile(rf"\s*(?:是|有|一共|总共|共)?\s*{_NUMBER}\s*(?:个|名|位)?\s*(?:人)?\s*")


def _scrub(text: str) -> str:
    """Numbers that are not people: plan codes, dates, money, row numbers. "一个都没有"
    is a count: none."""
    text = re.sub(r"(?:一个人?|一位|一人)\s*(?:都|也)\s*没有?", "0个", text)
    text = _NOT_PEOPLE.sub(" ", text)  # before the codes go: "再加一个A1" needs its A1
    text = _CODE.sub("码", text)  # a mark, so "A0加A1 四个人" does not read as "加四个"
    text = re.sub(r"一(?=共|起|下|般|样|直|定|次|回|些|点|会|切|旦|致|并|律|块|同)", " ", text)
    text = re.sub(r"\d{4}\s*[年./-]\s*\d{1,2}(?:\s*[月./-]\s*\d{1,2}\s*[日号]?)?", " ", text)
    text = re.sub(rf"{_NUMBER}\s*月(?:\s*{_NUMBER}\s*[日号])?", " ", text)
    text = re.sub(rf"{_NUMBER}\s*[日号]", " ", text)
    text = re.sub(rf"{_NUMBER}\s*(?:元|块|%|％|岁|周岁|天|年|行)", " ", text)
    text = re.sub(r"第\s*\d+", " ", text)
    text = re.sub(r"\d+\s*[./]\s*\d+", " ", text)
    return _NOT_PEOPLE.sub(" ", text)  # again: "N个月" once the dates are gone


def _pairs(text: str, before: bool) -> tuple[dict[str, int], set[int]]:
    """Category -> number, reading "5个有社保" (number before the words) or "有社保的5个";
    with where those numbers stand."""
    found: dict[str, int] = {}
    used: set[int] = set()
    for m in _CATEGORY.finditer(text):
        category = "non" if m.group("non") else "si"
        if category in found:
            continue
        if before:
            segment = text[: m.start()]
            number = _COUNT_BEFORE.search(segment)
            at = number.start(1) if number else -1
        else:
            segment = text[m.end() :]
            number = _COUNT_AFTER.match(segment)
            at = m.end() + number.start(1) if number else -1
        if number is None or at in used:
            continue
        value = cn_int(number.group(1))
        if value is not None:
            used.add(at)
            found[category] = value
    return found, used


VAGUE_COUNT = re.compile(
    rf"{_NUMBER}\s*(?:来|多|几|余)\s*(?:个|名|位|人)|几十\s*(?:个|名|位|人)|{_NUMBER}\s*(?:个|名|位|人)?\s*(?:左右|上下|出头|不到)"
    r"|[一二两三四五六七八九十]{2}\s*个人?(?=[^\d]|$)(?<=[一二两三四五六七八九][一二两三四五六七八九]个)"
)
"""A count said roughly ("二十来个", "十几个人", "20多个", "七八个"): never guessed."""


def extract_head_count(text: str, bare_number: bool = False) -> HeadCount | None:
    """ "8个人" -> 8 in total; "5个有社保3个没有", "职保3个非职保2个" -> by category;
    "4个都没有社保" -> 0 and 4; "全部没社保" -> all of the known total. A bare "8" only
    when a count was asked."""
    if VAGUE_COUNT.search(normalize_text(text)):
        return None  # "十几个人": the flows ask for the exact number
    text = _scrub(normalize_text(text))
    for pattern, sign in ((_MORE, 1), (_LESS, -1)):
        if (m := pattern.search(text)) and not _SAID_TOTAL.search(text[m.end() :]):
            amount = cn_int(m.group(1))
            if amount:
                non = bool(_CATEGORY.search(text[m.end() :]) and re.search(_NON_SI, text))
                return HeadCount(None, 0 if non else None, None, change=sign * amount)
    if m := _SAID_TOTAL.search(text):  # "人数改成12", "多算了一个 是7个"
        said = cn_int(next(g for g in m.groups() if g))
        if said is not None and not _CATEGORY.search(text):
            return HeadCount(None, None, said)
    before, after = _pairs(text, before=True), _pairs(text, before=False)
    pairs, used = before if len(before[0]) >= len(after[0]) else after
    if not (before[0].keys() & after[0].keys()) and not (before[1] & after[1]):
        # "职保4个 剩下3个没社保": one category said each way round
        pairs, used = {**before[0], **after[0]}, before[1] | after[1]
    total = None
    for m in _TOTAL.finditer(text):
        at = next(m.start(i) for i in range(1, 4) if m.group(i))
        follows = re.sub(r"^\s*(?:的|都|是|全|全都)*\s*", "", text[m.end() : m.end() + 8])
        if at in used or _CATEGORY.match(follows):
            continue  # "3个没社保": a category count, not the total
        total = cn_int(next(g for g in m.groups() if g))
        break
    if pairs:
        return HeadCount(pairs.get("si"), pairs.get("non"), total)
    word = _CATEGORY.search(text)
    if word and _ALL.search(text[max(0, word.start() - 6) : word.start()]):
        if word.group("non"):
            return HeadCount(None, None, total, all_non_zhibao=True)
        return HeadCount(None, None, total, all_zhibao=True)
    if total is None and bare_number and (only := _ONLY_NUMBER.fullmatch(text)):
        total = cn_int(only.group(1))
    return HeadCount(None, None, total) if total is not None else None


def extract_count(text: str) -> int | None:
    """A plain count ("8", "八个", "一共12人", "10个人"); None if the text has no number."""
    text = _scrub(normalize_text(text))
    m = re.search(rf"{_NUMBER}\s*(?:个|名|位)?\s*(?:人|员工)?", text)
    return cn_int(m.group(1)) if m else None


# --- dates -----------------------------------------------------------------------------

DateRole = Literal["start", "submit"]


@dataclass(frozen=True)
class DateMention:
    """A date in a message and what it is: the coverage start (起保) or the day the roster
    is submitted (提交), or None when the words do not say."""

    day: dt.date
    role: DateRole | None


_FULL_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?")
_YEAR_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号]?)")
_MONTH_DAY = re.compile(rf"(?<![\d年.])({_NUMBER})\s*月\s*(?:份)?\s*(?:({_NUMBER})\s*[日号]?)?")
_MONTH_DAY_AT = re.compile(rf"\s*({_NUMBER})\s*月\s*(?:({_NUMBER})\s*[日号]?)?")
_SLASH_DATE = re.compile(r"(?<![\d./-])(\d{1,2})\s*[./-]\s*(\d{1,2})(?![\d./%-])")
_NAMED_MONTH_END = re.compile(rf"({_NUMBER})\s*月\s*(?:份)?\s*(?:的)?\s*(?:底|末|最后一天)")
_RELATIVE_YEAR = {"今年": 0, "明年": 1, "后年": 2, "去年": -1}
_RELATIVE_MONTH = {"下下个月": 2, "下个月": 1, "下月": 1, "这个月": 0, "本月": 0, "当月": 0}
_RELATIVE_DAY = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "今天": 0, "今日": 0, "当天": 0,
                 "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1}  # fmt: skip
_WEEKDAY = re.compile(r"(下下|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DAY_ONLY = re.compile(rf"(?<![\d月.])({_NUMBER})\s*[号日](?!本|期)")
_MONTH_END = re.compile(r"(这个月|本月|下个?月)?\s*(月底|月末)")
_START_WORDS = re.compile(r"起保|生效|开始保|保障开始|开始保障|起算|开始生效|保障从|起")
_SUBMIT_WORDS = re.compile(r"提交|交名单|报名单|交清册|上传|递交|报上去|交上去|办理|交|报")
Span = tuple[dt.date, dt.date]


def _month_day(month: int, day: int, today: dt.date, span: Span | None) -> dt.date:
    """A month and day without a year: the one inside ``span`` (the policy year around
    today), the later one if both fit and the earlier has passed; never silently moved out of
    the span. Without a span, this calendar year."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("no such day")
    if span is not None:
        inside = [c for c in candidates if span[0] <= c <= span[1]]
        if inside:
            upcoming = [c for c in inside if c >= today]
            return min(upcoming) if upcoming else max(inside)
    return dt.date(today.year, month, day)


def _weekday(prefix: str, name: str, today: dt.date) -> dt.date:
    target = int(name) - 1 if name.isdigit() else _WEEKDAYS[name]
    monday = today - dt.timedelta(days=today.weekday())
    if prefix.startswith("下下"):
        weeks = 2
    elif prefix.startswith("下"):
        weeks = 1
    elif prefix.startswith("上"):
        weeks = -1
    elif prefix:
        weeks = 0
    else:  # "周五" alone: the next one, today included
        ahead = (target - today.weekday()) % 7
        return today + dt.timedelta(days=ahead)
    return monday + dt.timedelta(days=7 * weeks + target)


def _role(text: str, start: int, end: int) -> DateRole | None:
    """起保 or 提交, whichever word sits nearest the date (after it first, then before)."""
    after = text[end : end + 8]
    before = text[max(0, start - 10) : start]
    for window in (after, before):
        s, b = _START_WORDS.search(window), _SUBMIT_WORDS.search(window)
        if s and b:
            pick_start = (s.start() < b.start()) if window is after else (s.end() > b.end())
            return "start" if pick_start else "submit"
        if s:
            return "start"
        if b:
            return "submit"
    return None


def find_date(text: str, today: dt.date, span: Span | None = None) -> DateMention | None:
    """The first date in ``text`` relative to ``today``, with its role. Reads "2024年1月15日",
    "2024-1-15", "明年1月" (the 1st), "下个月1号", "7月20", "7.20", "7/20", "16号",
    "下周五", "下礼拜三", "明天", "月底". Month and day without a year are placed by
    ``_month_day``. Impossible or vague dates ("2月30日", "7月", "下周") give None."""
    text = normalize_text(text)
    found = _find_day(text, today, span)
    if found is None:
        return None
    day, start, end = found
    return DateMention(day, _role(text, start, end))


def find_dates(text: str, today: dt.date, span: Span | None = None) -> list[DateMention]:
    """Every date in ``text``, in order ("7月1号起保的话，我们6月20号交名单")."""
    text = normalize_text(text)
    found: list[DateMention] = []
    offset = 0
    while offset < len(text) and len(found) < 5:
        hit = _find_day(text[offset:], today, span)
        if hit is None:
            break
        day, start, end = hit
        found.append(DateMention(day, _role(text, offset + start, offset + end)))
        offset += max(end, 1)
    return found


def _find_day(text: str, today: dt.date, span: Span | None) -> tuple[dt.date, int, int] | None:
    try:
        if m := _FULL_DATE.search(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end()
        if m := _YEAR_MONTH.search(text):
            return dt.date(int(m[1]), int(m[2]), 1), m.start(), m.end()
        for word, offset in _RELATIVE_YEAR.items():
            at = text.find(word)
            if at >= 0 and (m := _MONTH_DAY_AT.match(text, at + len(word))):
                month_of = cn_int(m[1])
                day_of = cn_int(m[3]) if m[3] else 1
                if month_of:
                    day = dt.date(today.year + offset, month_of, day_of or 1)
                    return day, at, m.end()
        if m := _NAMED_MONTH_END.search(text):
            month_of = cn_int(m[1])
            if month_of and 1 <= month_of <= 12:
                first = _month_day(month_of, 1, today, span)  # which year's month
                last = calendar.monthrange(first.year, month_of)[1]
                return first.replace(day=last), m.start(), m.end()
        if m := _MONTH_END.search(text):
            offset = 1 if m[1] and m[1].startswith("下") else 0
            month_index = today.month - 1 + offset
            year, month = today.year + month_index // 12, month_index % 12 + 1
            return dt.date(year, month, calendar.monthrange(year, month)[1]), m.start(), m.end()
        for word, offset in _RELATIVE_MONTH.items():
            at = text.find(word)
            if at >= 0:
                month_index = today.month - 1 + offset
                rest = text[at + len(word) :]
                day_match = re.match(rf"\s*(?:的)?\s*({_NUMBER})\s*[日号]?", rest)
                nth = cn_int(day_match[1]) if day_match else 1
                year = today.year + month_index // 12
                end = at + len(word) + (day_match.end() if day_match else 0)
                return dt.date(year, month_index % 12 + 1, nth or 1), at, end
        for word, offset in _RELATIVE_DAY.items():
            if (at := text.find(word)) >= 0:
                return today + dt.timedelta(days=offset), at, at + len(word)
        if m := _WEEKDAY.search(text):
            return _weekday(m[1] or "", m[2], today), m.start(), m.end()
        if m := _MONTH_DAY.search(text):
            month_of = cn_int(m[1])
            if not m[3] or not month_of:
                return None  # "7月" alone is too vague to guess a day
            return _month_day(month_of, cn_int(m[3]) or 0, today, span), m.start(), m.end()
        if m := _SLASH_DATE.search(text):
            month_of, day_of = int(m[1]), int(m[2])
            if 1 <= month_of <= 12:
                return _month_day(month_of, day_of, today, span), m.start(), m.end()
        if m := _DAY_ONLY.search(text):
            day_of = cn_int(m[1])
            if day_of:
                return dt.date(today.year, today.month, day_of), m.start(), m.end()
    except ValueError:
        return None
    return None


_ANY_DAY = dt.date(2000, 1, 15)
"""A reference day in a 31-day month, for asking only whether a text names a date."""


def mentions_date(text: str) -> bool:
    """Whether ``text`` names a date at all, whatever today is (for choosing a flow)."""
    return find_date(text, _ANY_DAY) is not None


def extract_date(text: str, today: dt.date, span: Span | None = None) -> dt.date | None:
    """The date ``find_date`` reads, without its role."""
    found = find_date(text, today, span)
    return found.day if found else None


def policy_span(policy: PolicyYear) -> Span:
    """Where a date without a year is placed: from the centralized window to the year's end."""
    return policy.windows.centralized.open, policy.coverage.end


def _bare_number(text: str) -> bool:
    return bool(re.fullmatch(r"\s*\d+(\.\d+)?\s*", normalize_text(text)))


def mention_within(
    text: str, today: dt.date, check: Callable[[dt.date], object], span: Span | None = None
) -> DateMention | None:
    """``find_date``, refused with the rules' reason when ``check`` (e.g.
    ``coverage_period``) says the policy data does not cover the day; a bare number is
    refused with how to write a date."""
    found = find_date(text, today, span)
    if found is None:
        if _bare_number(text):
            raise Invalid(say("not_a_date", value=text.strip()))
        return None
    try:
        check(found.day)
    except NoPolicyData as exc:
        raise Invalid(exc.message) from None
    return found


# --- yes / no --------------------------------------------------------------------------

_NO = re.compile(
    r"^(不是|不要|不用|不需要|不对|不行|不可以|不能|不好|不同意|没有|没|无|否|不|no|n|nope|"
    r"还没有?|忘了|忘记了?|错了?)"
)
_YES = re.compile(
    r"^(是的?|是滴|对的?|对滴|对呀|对啊|好的?|好滴|好嘞|要|有的?|嗯+|恩+|en|可以|行|成|中|确认|确定|同意|"
    r"yes|y|ok|okay|没问题|没错|当然|已经?|go|继续|下一步|是啊|正确)"
)


_FINE = re.compile(
    r"没问题|没啥问题|没什么问题|没毛病|没错|不错|下一步|^继续|可以了|好了$|^就这样|往下走|继续走|接着走"
)
_NOT_FINE = re.compile(r"有问题|不对|不行|不可以|不好")


def extract_yes_no(text: str) -> bool | None:
    """Yes or no in all common forms: 对 / 好的 / 行 / 可以 / 嗯 / 没问题 / 是的 / 有, and
    不对 / 不行 / 不是 / 没有 / 不要 / 忘了."""
    text = normalize_text(text).lower().strip("。.!！~～ ,，")
    text = re.sub(r"^(嗯+|恩+|哦+|噢|额+|呃+)[,，。\s]*(?=\S{2})", "", text)
    if _FINE.search(text) and not _NOT_FINE.search(text):
        return True
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None


def extract_choice(text: str, no: str, yes: str) -> bool | None:
    """Yes or no from the answer's own words first (``no`` and ``yes`` patterns, the
    negative tried first since "没有X" contains "有X"), then from a plain 是/不是."""
    text = normalize_text(text)
    if re.search(no, text):
        return False
    if re.search(yes, text):
        return True
    return extract_yes_no(text)
