"""Personal data is masked before anything is kept or shown, however it is written."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.ids import check_char, mask_id
from rules.privacy import contains_personal_data, mask_personal_data

SEPARATORS = [" ", "  ", "-", " - ", "\u3000", "－", "—", "–", "\u00a0", ".", "\t", "_"]
_UNSEPARATED = re.compile(r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d._\uff0e\uff3f]+")


def squeezed(text: str) -> str:
    """Full-width read as ASCII, separators dropped, x upper: how a scan sees numbers."""
    return _UNSEPARATED.sub("", unicodedata.normalize("NFKC", text)).upper()


def test_id_numbers_in_free_text_are_masked():
    said = "张三身份证310101199001010252，李四11010519491231002x"
    masked = mask_personal_data(said)
    assert "310101199001010252" not in masked
    assert "3101**********0252" in masked
    assert "1101**********002X" in masked


def test_mobile_numbers_are_masked():
    assert mask_personal_data("电话13812345678") == "电话138****5678"


def test_full_width_digits_are_caught_too():
    assert "3101**********0252" in mask_personal_data("３１０１０１１９９００１０１０２５２")


def test_other_numbers_are_left_alone():
    assert mask_personal_data("账号31602300008022150，12351热线") == (
        "账号31602300008022150，12351热线"
    )


@pytest.mark.parametrize(
    ("said", "masked"),
    [
        ("电话157-7370-8775", "电话157****8775"),
        ("手机 131 3389 7510 张三", "手机 131****7510 张三"),
        ("310101 19870216 2209", "3101**********2209"),
        ("310101-1987-0216-2209", "3101**********2209"),
        ("3101 0119 8702 1622 09", "3101**********2209"),
        ("ID320102199006247703", "ID3201**********7703"),
        ("+8615296994522", "+86152****4522"),
        ("+86 152 9699 4522", "+86 152****4522"),
        ("0086-152-9699-4522", "0086-152****4522"),
        ("（+86）13812345678。", "（+86）138****5678。"),
        ("８６１５２ ９６９９ ４５２２", "86152****4522"),
        ("旧证310101870216220", "旧证3101*******6220"),
        ("310101 870216 220", "3101*******6220"),
        ("11010519491231002x号", "1101**********002X号"),
        ("１３８－１２３４－５６７８", "138****5678"),
        ("13812345678x", "138****5678x"),
        ("**13812345678**", "**138****5678**"),
        ("张三310101199001010252 13812345678", "张三3101**********0252 138****5678"),
    ],
)
def test_numbers_written_with_separators_prefixes_and_labels_are_masked(
    said: str, masked: str
) -> None:
    assert mask_personal_data(said) == masked
    assert contains_personal_data(said)


@pytest.mark.parametrize(
    "said",
    [
        "2023-07-01起保，2024-06-30止",
        "2023.07.01 - 2024.06.30",
        "2023年7月1日",
        "5000人，保费1,500.00元，15000.00 20000.00",
        "A0 B0 C0 8个人 180元",
        "参保编码SH2023001",
        "统一社会信用代码91310104717852784X",
        "913101047178527846",
        "热线12351，转2，工作日9:00-17:00",
        "第5行 第12行 第138行",
        "单号 20230701123045",
        "账号 31602300008022150 1",
        "10 20 30 40 50 60 70 80 90",
    ],
)
def test_ordinary_text_is_left_as_written(said: str) -> None:
    assert mask_personal_data(said) == said
    assert not contains_personal_data(said)


# --- properties ---------------------------------------------------------------------

_DIGIT = st.sampled_from("0123456789")
_WIDE = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@st.composite
def id18(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from("123456789")) + "".join(
        draw(st.lists(_DIGIT, min_size=5, max_size=5))
    )
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)))
    sequence = "".join(draw(st.lists(_DIGIT, min_size=3, max_size=3)))
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    # A typo in the check character is still personal data.
    last = draw(st.one_of(st.just(check_char(first17)), st.sampled_from("0123456789X")))
    return first17 + last


@st.composite
def id15(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from("123456789")) + "".join(
        draw(st.lists(_DIGIT, min_size=5, max_size=5))
    )
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)))
    return f"{region}{born:%y%m%d}" + "".join(draw(st.lists(_DIGIT, min_size=3, max_size=3)))


@st.composite
def mobile(draw: st.DrawFn) -> str:
    rest = "".join(draw(st.lists(_DIGIT, min_size=9, max_size=9)))
    return "1" + draw(st.sampled_from("3456789")) + rest


@st.composite
def written(draw: st.DrawFn, number: str, last: int) -> str:
    """``number`` as someone might type it: cut into groups of at least 3 characters (the
    last at least ``last``) joined by one kind of separator, some digits full-width, x in
    either case."""
    cuts = sorted(set(draw(st.lists(st.integers(3, len(number) - last), max_size=5))))
    kept: list[int] = []
    for cut in cuts:
        if cut - (kept[-1] if kept else 0) >= 3:
            kept.append(cut)
    bounds = [0, *kept, len(number)]
    groups = [number[a:b] for a, b in itertools.pairwise(bounds)]
    text = draw(st.sampled_from(SEPARATORS)).join(groups)
    if draw(st.booleans()):
        text = text.replace("X", "x")
    wide = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.translate(_WIDE) if w else c for c, w in zip(text, wide, strict=True))


_BEFORE = st.sampled_from(["", "我的身份证是", "ID", "ID:", "电话：", "张三 ", "，", "No."])
_AFTER = st.sampled_from(["", "。", "，谢谢", " 张三", "号", " 共5人"])
_PREFIXES = st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086-", "0086 ", "86", "＋８６ "])


@given(st.one_of(id18(), id15()), st.data())
def test_id_numbers_are_masked_whatever_the_separators(number: str, data: st.DataObject) -> None:
    typed = data.draw(written(number, 2))
    said = data.draw(_BEFORE) + typed + data.draw(_AFTER)
    masked = mask_personal_data(said)
    assert number not in squeezed(masked)
    assert mask_id(number) in masked
    assert mask_personal_data(masked) == masked


@given(mobile(), st.data())
def test_mobile_numbers_are_masked_whatever_the_separators(
    number: str, data: st.DataObject
) -> None:
    typed = data.draw(_PREFIXES) + data.draw(written(number, 3))
    said = data.draw(_BEFORE) + typed + data.draw(_AFTER)
    masked = mask_personal_data(said)
    assert number not in squeezed(masked)
    assert f"{number[:3]}****{number[-4:]}" in masked
    assert mask_personal_data(masked) == masked


_DATE = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
_ORDINARY = st.one_of(
    _DATE.map(lambda d: d.isoformat()),
    _DATE.map(lambda d: f"{d:%Y.%m.%d}"),
    _DATE.map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.integers(0, 99999).map(lambda n: f"{n}人"),
    st.integers(0, 10**7).map(lambda n: f"{n:,}.00元"),
    st.integers(0, 10**9).map(lambda n: f"保费{n}元"),
    st.sampled_from(["A0", "B0 C0", "12351", "SH2023001", "31602300008022150", "第5行"]),
)


@given(st.lists(_ORDINARY, max_size=8), st.sampled_from([" ", "，", "、", "；", " - "]))
def test_dates_amounts_and_counts_are_never_masked(parts: list[str], joint: str) -> None:
    said = joint.join(parts)
    assert mask_personal_data(said) == said


@given(st.text(alphabet=st.sampled_from("0123456789１３８Xx*- .+张号")))
def test_masking_twice_changes_nothing(said: str) -> None:
    once = mask_personal_data(said)
    assert mask_personal_data(once) == once
