"""Text normalization for matching short Chinese questions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# Traditional characters handlers' input methods sometimes produce, mapped to simplified.
# Cheap and targeted: the program's vocabulary, not a full converter.
_TRADITIONAL = str.maketrans(
    "參險證號碼單費麼辦冊員職務戶帳賬錄憑據週無會後時間與審繳認確選擇項請問銀額條類檔載傳寫變稱聯繫電話郵臺灣門診醫療齡歲個們嗎這還沒為樣學實際現點擊開關閉統籌貼補斷試驗範圍離歸處總計優長幾錢轉匯標準級內從業經紀記錯誤導勞動險護腦頁網際碼幫忙謝應該嗎啟發給買賣雙種況說係單據銷撤規則層礎強傷殘亡癌齊聽過進約這裡麼收漢們體團屬給遞屆歡",
    "参险证号码单费么办册员职务户账账录凭据周无会后时间与审缴认确选择项请问银额条类档载传写变称联系电话邮台湾门诊医疗龄岁个们吗这还没为样学实际现点击开关闭统筹贴补断试验范围离归处总计优长几钱转汇标准级内从业经纪记错误导劳动险护脑页网际码帮忙谢应该吗启发给买卖双种况说系单据销撤规则层础强伤残亡癌齐听过进约这里么收汉们体团属给递届欢",
)
# Homophones that pinyin input methods give for the program's words ("宝费" for 保费).
_TYPOS = {
    "宝费": "保费", "报费": "保费", "保废": "保费", "参宝": "参保", "投宝": "投保", "续宝": "续保",
    "起宝": "起保", "其保": "起保", "启保": "起保", "提教": "提交", "题交": "提交",
    "免则期": "免责期", "面责期": "免责期", "免责其": "免责期", "社宝": "社保", "职宝": "职保",
    "下一部": "下一步", "下一布": "下一步", "名担": "名单", "花明册": "花名册",
    "即使参保": "即时参保", "及时参保": "即时参保", "测酸": "测算", "侧算": "测算",
    "经办入": "经办人", "较验": "校验", "效验": "校验", "木有": "没有", "米有": "没有",
    "嗯呢": "嗯", "恩呢": "嗯", "是滴": "是的", "对滴": "对的", "好滴": "好的", "是哒": "是的",
    "好哒": "好的",
}  # fmt: skip
_TYPO = re.compile("|".join(map(re.escape, sorted(_TYPOS, key=len, reverse=True))))


def fix_typos(text: str) -> str:
    """The program's words where an input method gave a homophone ("其保" -> "起保")."""
    return _TYPO.sub(lambda m: _TYPOS[m.group(0)], text)


_PLAN_CODE = re.compile(r"(?<![a-z])([abc])\s*([0-3])(?!\d)")
_NON_WORD = re.compile(r"[^\w@.%]+|_")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Half-width, simplified, lowercase, plan codes joined ("a 0" -> "a0"), punctuation
    turned into single spaces."""
    text = fix_typos(unicodedata.normalize("NFKC", text).translate(_TRADITIONAL)).lower()
    text = _PLAN_CODE.sub(r"\1\2", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


class Canonicalizer:
    """Maps jargon variants to canonical terms in one left-to-right pass, longest first,
    so a canonical term is never rewritten again ("项目" inside "保障项目")."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        table = {canonical: canonical for canonical in synonyms.values()}
        table.update(synonyms)
        self._table = table
        keys = sorted(table, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, keys)) or "$^")

    def __call__(self, text: str) -> str:
        return self._pattern.sub(lambda m: self._table[m.group(0)], text)
