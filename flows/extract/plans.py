"""Plan codes and plan edits from free text: "A0 B0 C0", "三个基本都要", "住院加强二档",
and what a message does to a selection ("再加上A1", "去掉C0", "C0换成C1"). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.extract.words import PLAN_CODE, normalize_text

CODE = re.compile(r"(?<![a-z])([abc])\s*([0-3])(?![0-9])", re.I)
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
    found += [f"{s.upper()}{n}" for s, n in CODE.findall(text)]
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
    rf"(?P<old>{PLAN_CODE})\s*(?:换成|换为|改成|改为|变成|换)\s*(?P<new>{PLAN_CODE})"
    rf"|(?:用)?(?P<new2>{PLAN_CODE})\s*(?:替换|替代|代替|顶替)\s*(?:掉)?\s*(?P<old2>{PLAN_CODE})"
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
    for m in CODE.finditer(text):
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
