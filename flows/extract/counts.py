"""Head counts from free text: a total ("8个人"), counts by category ("5个有社保3个没有"),
everyone in one category ("全部没社保"), a change of an earlier count ("再加两个人"), and
the rough counts that are never guessed ("二十来个"). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.extract.plans import CODE
from flows.extract.words import NUMBER, PLAN_CODE, cn_int, normalize_text


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
_COUNT_BEFORE = re.compile(rf"{NUMBER}\s*{_PEOPLE_UNIT}\s*(?:的)?\s*(?:都|全|是|均|也)*\s*$")
_COUNT_AFTER = re.compile(
    rf"^\s*(?:的)?\s*(?:人)?\s*(?:有|是|为|:|：)?\s*{NUMBER}\s*(?!\s*[月号日年天])"
)
_ALL = re.compile(r"(全部|全都|都|所有人?|统统|一律|全员)")
_TOTAL = re.compile(
    rf"(?:一共|总共|共|合计|总计)?\s*{NUMBER}\s*(?:个|名|位)\s*(?:人|员工|职工|同事)?"
    rf"|(?:一共|总共|共|合计|总计)\s*{NUMBER}(?!\s*[月号日年天元块])"
    rf"|{NUMBER}\s*(?:人|员工|职工|同事)"
)
_NOT_PEOPLE = re.compile(
    rf"{NUMBER}?\s*(?:个月|个工作日|个小时|个项目|个险种|个保障|个批次|个文件|个附件|个档|个单位)"
    rf"|{NUMBER}\s*(?:个|项|种)(?=的?(?:基本|基础|项目|险种|保障|档|[ABCabc]\s*[0-3]|住院|重疾|重病"
    rf"|意外|加强|都要|一起|全要))"
    rf"|(?:再?加|添|多加|加选|再选)\s*(?:一|1)?\s*(?:个|项)(?=\s*(?:{PLAN_CODE}|基本|加强|住院|重疾|重病|意外))"
    rf"|[哪几]\s*{NUMBER}?\s*(?:个|位|名)"
)
_MORE = re.compile(
    rf"^(?:那|那么)?\s*(?:再|又|还)?\s*(?:加|添|增加|多加|加上|多|新来了?|新进了?|少算了?|漏算了?|漏了|另外还有|另外|还有|外加)\s*(?:了)?\s*{NUMBER}\s*(?:个|名|位)"
)
_LESS = re.compile(
    rf"^(?:那|那么)?\s*(?:再)?\s*(?:少|减|减少|减去|减掉|去掉|删掉|走了|离职了?|多算了?|多了)\s*(?:了)?\s*{NUMBER}\s*(?:个|名|位)"
)
_SAID_TOTAL = re.compile(
    rf"(?:人数|人头|总人数)\D{{0,8}}?{NUMBER}(?!\s*[月号日年天元块])|(?:应该是|其实是|实际是|应该|其实|实际|是)\s*{NUMBER}\s*(?:个|名|位|人)?\s*$"
)
_ONLY_NUMBER = re.compile(rf"\s*(?:是|有|一共|总共|共)?\s*{NUMBER}\s*(?:个|名|位)?\s*(?:人)?\s*")


def _scrub(text: str) -> str:
    """Numbers that are not people: plan codes, dates, money, row numbers. "一个都没有"
    is a count: none."""
    text = re.sub(r"(?:一个人?|一位|一人)\s*(?:都|也)\s*没有?", "0个", text)
    text = _NOT_PEOPLE.sub(" ", text)  # before the codes go: "再加一个A1" needs its A1
    text = CODE.sub("码", text)  # a mark, so "A0加A1 四个人" does not read as "加四个"
    text = re.sub(r"一(?=共|起|下|般|样|直|定|次|回|些|点|会|切|旦|致|并|律|块|同)", " ", text)
    text = re.sub(r"\d{4}\s*[年./-]\s*\d{1,2}(?:\s*[月./-]\s*\d{1,2}\s*[日号]?)?", " ", text)
    text = re.sub(rf"{NUMBER}\s*月(?:\s*{NUMBER}\s*[日号])?", " ", text)
    text = re.sub(rf"{NUMBER}\s*[日号]", " ", text)
    text = re.sub(rf"{NUMBER}\s*(?:元|块|%|％|岁|周岁|天|年|行)", " ", text)
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
    rf"{NUMBER}\s*(?:来|多|几|余)\s*(?:个|名|位|人)|几十\s*(?:个|名|位|人)|{NUMBER}\s*(?:个|名|位|人)?\s*(?:左右|上下|出头|不到)"
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
    m = re.search(rf"{NUMBER}\s*(?:个|名|位)?\s*(?:人|员工)?", text)
    return cn_int(m.group(1)) if m else None
