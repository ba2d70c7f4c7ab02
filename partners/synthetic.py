"""Deterministic generator of a realistic but entirely fictional Japanese member base.

Used by the benchmark (a million rows) and the demo seed (a few thousand rows). Nothing here
describes a real person: names are drawn from common family/given names, companies are built
from generic parts, cities and buildings are invented, and e-mail addresses only use the
reserved ``example.*`` domains (RFC 2606 / JPRS reserved names). Phone numbers follow Japanese
formats with random digits; Japan has no reserved "fictional" range, so a generated number may
happen to be assigned to someone -- never dial them.

Contract:

- **Deterministic**: the same arguments always give the same rows, byte for byte, on any
  machine (no dependency on ``PYTHONHASHSEED``, the clock or the locale).
- **Streaming**: rows are produced lazily with constant memory whatever ``count`` is.
- **Addressable identities**: each row's person (kind, name, reading, e-mail, phone, birth date)
  is a pure function of ``(seed, n)``, computed with BLAKE2b. That is what lets
  ``overlap_with`` reuse the people of another base without generating it. Everything else
  (address, dates, status, formatting quirks) comes from one ``random.Random`` stream seeded
  from ``seed``.
- **cp932-safe**: every generated character encodes in cp932; with ``encoding="shift_jis"``,
  :func:`write_csv` writes the full-width hyphen U+FF0D as U+2212, which is the same byte
  pair (0x817C), so the two encodings produce identical bytes.
"""

import codecs
import csv
import datetime
import hashlib
import io
import json
import os
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import Protocol

from partners.member_columns import COLUMNS

__all__ = [
    "COLUMNS",
    "DEFAULT_TODAY",
    "PREFECTURES",
    "synthetic_members",
    "write_csv",
    "write_jsonl",
]


#: ``today`` used when none is given, so that output does not depend on the clock.
DEFAULT_TODAY = datetime.date(2026, 11, 1)

# (JIS X 0401 code, name, population weight in 10,000s (2020 census, rounded),
#  first two digits of the prefecture's postal codes as an inclusive range)
_PREFECTURE_DATA: tuple[tuple[str, str, int, int, int], ...] = (
    ("01", "北海道", 522, 4, 9),
    ("02", "青森県", 124, 3, 3),
    ("03", "岩手県", 121, 2, 2),
    ("04", "宮城県", 230, 98, 98),
    ("05", "秋田県", 96, 1, 1),
    ("06", "山形県", 107, 99, 99),
    ("07", "福島県", 183, 96, 97),
    ("08", "茨城県", 287, 30, 31),
    ("09", "栃木県", 193, 32, 32),
    ("10", "群馬県", 194, 37, 37),
    ("11", "埼玉県", 734, 33, 36),
    ("12", "千葉県", 628, 26, 29),
    ("13", "東京都", 1405, 10, 20),
    ("14", "神奈川県", 924, 21, 25),
    ("15", "新潟県", 220, 94, 95),
    ("16", "富山県", 103, 93, 93),
    ("17", "石川県", 113, 92, 92),
    ("18", "福井県", 77, 91, 91),
    ("19", "山梨県", 81, 40, 40),
    ("20", "長野県", 205, 38, 39),
    ("21", "岐阜県", 198, 50, 50),
    ("22", "静岡県", 363, 41, 43),
    ("23", "愛知県", 754, 44, 49),
    ("24", "三重県", 177, 51, 51),
    ("25", "滋賀県", 141, 52, 52),
    ("26", "京都府", 258, 60, 62),
    ("27", "大阪府", 884, 53, 59),
    ("28", "兵庫県", 547, 65, 67),
    ("29", "奈良県", 132, 63, 63),
    ("30", "和歌山県", 92, 64, 64),
    ("31", "鳥取県", 55, 68, 68),
    ("32", "島根県", 67, 69, 69),
    ("33", "岡山県", 189, 70, 71),
    ("34", "広島県", 280, 72, 73),
    ("35", "山口県", 134, 74, 75),
    ("36", "徳島県", 72, 77, 77),
    ("37", "香川県", 95, 76, 76),
    ("38", "愛媛県", 133, 79, 79),
    ("39", "高知県", 69, 78, 78),
    ("40", "福岡県", 513, 80, 83),
    ("41", "佐賀県", 81, 84, 84),
    ("42", "長崎県", 131, 85, 85),
    ("43", "熊本県", 174, 86, 86),
    ("44", "大分県", 112, 87, 87),
    ("45", "宮崎県", 107, 88, 88),
    ("46", "鹿児島県", 159, 89, 89),
    ("47", "沖縄県", 147, 90, 90),
)

#: All 47 prefectures as ``(JIS X 0401 code, name)``, in code order. Every generated address
#: starts with exactly one of these names, and the row's ``prefecture`` is its code.
PREFECTURES: tuple[tuple[str, str], ...] = tuple((c, name) for c, name, *_ in _PREFECTURE_DATA)


def _table(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(line.split()) for line in text.strip().splitlines())


# (kanji, katakana reading, romanisation) -- ~100 common family names.
_FAMILY_NAMES = _table(
    """
佐藤 サトウ sato
鈴木 スズキ suzuki
高橋 タカハシ takahashi
田中 タナカ tanaka
伊藤 イトウ ito
渡辺 ワタナベ watanabe
山本 ヤマモト yamamoto
中村 ナカムラ nakamura
小林 コバヤシ kobayashi
加藤 カトウ kato
吉田 ヨシダ yoshida
山田 ヤマダ yamada
佐々木 ササキ sasaki
山口 ヤマグチ yamaguchi
松本 マツモト matsumoto
井上 イノウエ inoue
木村 キムラ kimura
林 ハヤシ hayashi
斎藤 サイトウ saito
清水 シミズ shimizu
山崎 ヤマザキ yamazaki
森 モリ mori
池田 イケダ ikeda
橋本 ハシモト hashimoto
阿部 アベ abe
石川 イシカワ ishikawa
山下 ヤマシタ yamashita
中島 ナカジマ nakajima
石井 イシイ ishii
小川 オガワ ogawa
前田 マエダ maeda
岡田 オカダ okada
長谷川 ハセガワ hasegawa
藤田 フジタ fujita
後藤 ゴトウ goto
近藤 コンドウ kondo
村上 ムラカミ murakami
遠藤 エンドウ endo
青木 アオキ aoki
坂本 サカモト sakamoto
斉藤 サイトウ saitoh
福田 フクダ fukuda
太田 オオタ ota
西村 ニシムラ nishimura
藤井 フジイ fujii
金子 カネコ kaneko
岡本 オカモト okamoto
藤原 フジワラ fujiwara
中野 ナカノ nakano
三浦 ミウラ miura
原田 ハラダ harada
中川 ナカガワ nakagawa
松田 マツダ matsuda
竹内 タケウチ takeuchi
小野 オノ ono
田村 タムラ tamura
中山 ナカヤマ nakayama
和田 ワダ wada
石田 イシダ ishida
森田 モリタ morita
上田 ウエダ ueda
原 ハラ hara
内田 ウチダ uchida
柴田 シバタ shibata
酒井 サカイ sakai
宮崎 ミヤザキ miyazaki
横山 ヨコヤマ yokoyama
高木 タカギ takagi
安藤 アンドウ ando
宮本 ミヤモト miyamoto
大野 オオノ ohno
小島 コジマ kojima
谷口 タニグチ taniguchi
工藤 クドウ kudo
高田 タカダ takada
今井 イマイ imai
丸山 マルヤマ maruyama
増田 マスダ masuda
杉山 スギヤマ sugiyama
村田 ムラタ murata
大塚 オオツカ otsuka
小山 コヤマ koyama
平野 ヒラノ hirano
藤本 フジモト fujimoto
河野 コウノ kono
上野 ウエノ ueno
野口 ノグチ noguchi
武田 タケダ takeda
松井 マツイ matsui
千葉 チバ chiba
岩崎 イワサキ iwasaki
菅原 スガワラ sugawara
木下 キノシタ kinoshita
久保 クボ kubo
佐野 サノ sano
野村 ノムラ nomura
松尾 マツオ matsuo
市川 イチカワ ichikawa
菊地 キクチ kikuchi
杉本 スギモト sugimoto
"""
)

# (kanji, katakana reading, romanisation) -- ~100 given names, half traditionally male.
_GIVEN_NAMES = _table(
    """
太郎 タロウ taro
一郎 イチロウ ichiro
健太 ケンタ kenta
翔太 ショウタ shota
大輔 ダイスケ daisuke
拓也 タクヤ takuya
直樹 ナオキ naoki
誠 マコト makoto
浩 ヒロシ hiroshi
隆 タカシ takashi
健一 ケンイチ kenichi
和也 カズヤ kazuya
達也 タツヤ tatsuya
亮 リョウ ryo
翔 ショウ sho
蓮 レン ren
悠斗 ユウト yuto
陽翔 ハルト haruto
大翔 ヒロト hiroto
湊 ミナト minato
樹 イツキ itsuki
悠真 ユウマ yuma
颯太 ソウタ sota
陸 リク riku
蒼 アオイ aoi
大和 ヤマト yamato
健 ケン ken
修 オサム osamu
勇気 ユウキ yuuki
秀樹 ヒデキ hideki
正人 マサト masato
博之 ヒロユキ hiroyuki
智也 トモヤ tomoya
康介 コウスケ kosuke
俊介 シュンスケ shunsuke
裕太 ユウタ yuta
淳 ジュン jun
豊 ユタカ yutaka
清 キヨシ kiyoshi
茂 シゲル shigeru
勝 マサル masaru
進 ススム susumu
昭 アキラ akira
信也 シンヤ shinya
純一 ジュンイチ junichi
洋平 ヨウヘイ yohei
慎吾 シンゴ shingo
剛 ツヨシ tsuyoshi
学 マナブ manabu
悟 サトル satoru
花子 ハナコ hanako
陽子 ヨウコ yoko
恵子 ケイコ keiko
京子 キョウコ kyoko
幸子 サチコ sachiko
裕子 ユウコ yuko
直美 ナオミ naomi
由美 ユミ yumi
美穂 ミホ miho
愛 アイ ai
彩 アヤ aya
舞 マイ mai
美咲 ミサキ misaki
さくら サクラ sakura
陽菜 ヒナ hina
結衣 ユイ yui
葵 アオイ aoi
凛 リン rin
芽依 メイ mei
結菜 ユイナ yuina
美月 ミツキ mitsuki
莉子 リコ riko
七海 ナナミ nanami
優奈 ユウナ yuna
真由美 マユミ mayumi
智子 トモコ tomoko
久美子 クミコ kumiko
明美 アケミ akemi
和子 カズコ kazuko
節子 セツコ setsuko
順子 ジュンコ junko
千尋 チヒロ chihiro
香織 カオリ kaori
沙織 サオリ saori
綾香 アヤカ ayaka
奈々 ナナ nana
由紀 ユキ yuki
真理子 マリコ mariko
恵美 エミ emi
麻美 アサミ asami
瞳 ヒトミ hitomi
遥 ハルカ haruka
楓 カエデ kaede
美優 ミユ miyu
杏 アン an
紬 ツムギ tsumugi
澪 ミオ mio
千夏 チナツ chinatsu
文子 フミコ fumiko
早苗 サナエ sanae
"""
)

# Company names: <brand><trade>, e.g. さくら精工 / サクラセイコウ / sakuraseiko.
_COMPANY_BRANDS = _table(
    """
さくら サクラ sakura
みどり ミドリ midori
あおば アオバ aoba
ひかり ヒカリ hikari
あさひ アサヒ asahi
わかば ワカバ wakaba
つばさ ツバサ tsubasa
こだま コダマ kodama
ことぶき コトブキ kotobuki
やまびこ ヤマビコ yamabiko
東和 トウワ towa
大栄 ダイエイ daiei
光陽 コウヨウ koyo
新星 シンセイ shinsei
富士見 フジミ fujimi
丸和 マルワ maruwa
北斗 ホクト hokuto
三葉 ミツバ mitsuba
若竹 ワカタケ wakatake
白鳥 シラトリ shiratori
銀河 ギンガ ginga
星見 ホシミ hoshimi
朝霧 アサギリ asagiri
風見 カザミ kazami
"""
)
_COMPANY_TRADES = _table(
    """
精工 セイコウ seiko
商事 ショウジ shoji
物産 ブッサン bussan
建設 ケンセツ kensetsu
電機 デンキ denki
食品 ショクヒン shokuhin
運輸 ウンユ unyu
工業 コウギョウ kogyo
製作所 セイサクショ seisakusho
不動産 フドウサン fudosan
印刷 インサツ insatsu
産業 サンギョウ sangyo
技研 ギケン giken
製菓 セイカ seika
設計 セッケイ sekkei
企画 キカク kikaku
農園 ノウエン noen
工務店 コウムテン komuten
システム システム system
デザイン デザイン design
ホーム ホーム home
フーズ フーズ foods
"""
)
# (legal form, placed before the name?) -- repeated to weight the draw.
_LEGAL_FORMS: tuple[tuple[str, bool], ...] = (
    *[("株式会社", True)] * 9,
    *[("株式会社", False)] * 6,
    *[("有限会社", True)] * 3,
    *[("合同会社", False)] * 2,
)
_BUSINESS_MAILBOXES = ("info", "contact", "office", "sales", "support")

_DOMAINS = ("example.ne.jp", "example.com", "example.jp", "example.ne.jp")  # households
_BUSINESS_DOMAINS = ("example.co.jp", "example.co.jp", "example.co.jp", "example.jp")

# Household e-mail local parts; g = given name, f = family name, i = initial of the other.
_LOCAL_PATTERNS = (
    "{g}.{f}",
    "{f}.{g}",
    "{g}_{f}",
    "{gi}.{f}",
    "{f}{gi}",
    "{g}{fi}",
    "{f}_{g}",
    "{g}{f}",
)

_MOBILE_PREFIXES = ("070", "080", "080", "090", "090", "090", "090")
_AREA_CODES_4 = (
    "0422", "0466", "0467", "0476", "0493", "0537", "0544", "0565",
    "0595", "0735", "0745", "0766", "0835", "0942", "0965", "0996",
)  # fmt: skip

# Invented municipalities and neighbourhoods.
_CITY_ROOTS = (
    "星見", "風見", "月影", "白鷺", "若葉", "朝霧", "緑陽", "青嵐", "光風", "夕凪", "花咲",
    "銀杏", "桜台", "琴浜", "鈴蘭", "鳴海野", "陽向", "水城", "雪見", "東雲台",
)  # fmt: skip
_CITY_SUFFIXES = ("市", "市", "市", "区", "町")
_TOWNS = (
    "本町", "中央", "旭町", "栄町", "若葉台", "青葉台", "東町", "西町", "南町", "北町",
    "幸町", "寿町", "泉町", "緑が丘", "桜坂", "松原", "柳町", "新町", "宮前", "富士見",
    "日の出町", "平和町", "元町", "港町", "野田", "山手", "清水町", "大通", "梅ヶ丘", "竹の台",
)  # fmt: skip
_BUILDINGS = (
    "コーポ若葉", "メゾン星見", "ハイツ青葉", "グリーンハイツ", "サンシャイン桜", "パークハイム",
    "レジデンス朝霧", "ヴィラ風見", "シャトー緑", "アーバンコート", "ハイム東雲", "ロイヤル夕凪",
    "ステラ白鷺", "フォレスト銀杏", "リバーサイド琴浜", "エクセル光風",
)  # fmt: skip

# Presentation quirks, as overall shares of rows that have an e-mail / phone. Rows shared with
# another base (``overlap_with``) get them more often, so that the two bases often spell the
# same person differently; the other rows get them less, to keep the overall shares.
_EMAIL_UPPER, _EMAIL_FULLWIDTH = 0.03, 0.01
_PHONE_NO_HYPHEN, _PHONE_PLUS81, _PHONE_FULLWIDTH = 0.05, 0.03, 0.02
_OVERLAP_SHARE = 0.30
_OVERLAP_EMAIL_UPPER, _OVERLAP_EMAIL_FULLWIDTH = 0.08, 0.02
_OVERLAP_PHONE_NO_HYPHEN, _OVERLAP_PHONE_PLUS81, _OVERLAP_PHONE_FULLWIDTH = 0.12, 0.06, 0.03

_EMAIL_SHARE, _PHONE_SHARE, _BIRTH_SHARE = 0.85, 0.90, 0.90
_BUILDING_SHARE, _DORMANT_SHARE = 0.30, 0.30
# ~5 % inactive overall, mostly among dormant members.
_INACTIVE_SHARE, _INACTIVE_IF_DORMANT = 0.05, 0.15
_INACTIVE_IF_ACTIVE = (_INACTIVE_SHARE - _DORMANT_SHARE * _INACTIVE_IF_DORMANT) / (
    1 - _DORMANT_SHARE
)
_JOINED_YEARS, _MIN_AGE, _MAX_AGE = 15, 18, 90

_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
_CHUNK_ROWS = 2048

# ---------------------------------------------------------------------------------------------
# Precomputed lookup tables, so that a row costs a few table look-ups rather than formatting.

_PREF_TABLE_SIZE = 8192
_FOUR_DIGITS = tuple(f"{i:04d}" for i in range(10_000))
_TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))
_NUMBERS = tuple(str(i) for i in range(1, 10_000))


def _build_pref_table() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """8192 entries, each prefecture repeated in proportion to its population."""
    total = sum(w for _, _, w, _, _ in _PREFECTURE_DATA)
    entries: list[tuple[str, str, tuple[str, ...]]] = []
    cumulative = 0
    for code, name, weight, lo, hi in _PREFECTURE_DATA:
        postal3 = tuple(f"{p:03d}-" for p in range(lo * 10, hi * 10 + 10))
        cumulative += weight
        upto = round(cumulative * _PREF_TABLE_SIZE / total)
        entries.extend([(code, name, postal3)] * (upto - len(entries)))
    return tuple(entries)


_PREF_TABLE = _build_pref_table()
_CITY_TOWNS = tuple(
    root + suffix + town for root in _CITY_ROOTS for suffix in _CITY_SUFFIXES for town in _TOWNS
)
_BLOCKS = tuple(
    f"{a}-{b}-{c}" for a in range(1, 8) for b in range(1, 31) for c in range(1, 26)
) + tuple(f"{b}-{c}" for b in range(1, 41) for c in range(1, 21))
_BUILDING_TAILS = tuple(
    f" {building} {floor}{room:02d}{suffix}"
    for building in _BUILDINGS
    for floor in range(1, 13)
    for room in range(1, 11)
    for suffix in ("", "", "号室")
)


@dataclass(frozen=True, slots=True)
class _PeopleTables:
    households: tuple[tuple[str, str], ...]  # (name, kana) by family * n_givens + given
    household_stems: tuple[str, ...]  # e-mail local part without number, by combo * 8 + pattern
    businesses: tuple[tuple[str, str], ...]  # (name, kana) by (brand * n_trades + trade) * forms
    business_stems: tuple[str, ...]  # by (brand * n_trades + trade) * n_mailboxes + mailbox


@cache
def _people_tables() -> _PeopleTables:
    households: list[tuple[str, str]] = []
    stems: list[str] = []
    for family, family_kana, f in _FAMILY_NAMES:
        for given, given_kana, g in _GIVEN_NAMES:
            households.append((f"{family}\u3000{given}", f"{family_kana}\u3000{given_kana}"))
            stems.extend(p.format(g=g, f=f, gi=g[0], fi=f[0]) for p in _LOCAL_PATTERNS)
    businesses: list[tuple[str, str]] = []
    business_stems: list[str] = []
    for brand, brand_kana, brand_romaji in _COMPANY_BRANDS:
        for trade, trade_kana, trade_romaji in _COMPANY_TRADES:
            company, kana = brand + trade, brand_kana + trade_kana
            businesses.extend(
                (form + company if before else company + form, kana)
                for form, before in _LEGAL_FORMS
            )
            business_stems.extend(
                f"{box}.{brand_romaji}{trade_romaji}" for box in _BUSINESS_MAILBOXES
            )
    return _PeopleTables(tuple(households), tuple(stems), tuple(businesses), tuple(business_stems))


# ---------------------------------------------------------------------------------------------

_Identity = tuple[str, str, str, str, str, str]  # kind, name, name_kana, email, phone, birth
_UNPACK = struct.Struct("<4I8H").unpack


def _seed_key(seed: int) -> bytes:
    return hashlib.blake2b(f"sanpo.synthetic:{seed}".encode(), digest_size=32).digest()


def _identity_fn(
    seed: int, business_share: float, birth_dates: tuple[str, ...]
) -> Callable[[int], _Identity]:
    """Return ``identity(n)``: the person of row ``n`` of the base with this ``seed``.

    A pure function of ``(seed, n, business_share, today)`` (``birth_dates`` depends on
    ``today``): 32 bytes of BLAKE2b over (seed, n) pick every attribute. The e-mail is
    canonical (lower-case ASCII) and the phone hyphenated.
    """
    key = _seed_key(seed)
    # Copying a hasher primed with the key is ~2x faster than hashing key + n from scratch.
    fresh = hashlib.blake2b(key, digest_size=32).copy
    unpack = _UNPACK
    tables = _people_tables()
    households, household_stems = tables.households, tables.household_stems
    businesses, business_stems = tables.businesses, tables.business_stems
    n_households, n_patterns = len(households), len(_LOCAL_PATTERNS)
    n_companies = len(_COMPANY_BRANDS) * len(_COMPANY_TRADES)
    n_forms, n_mailboxes = len(_LEGAL_FORMS), len(_BUSINESS_MAILBOXES)
    business_cut = round(business_share * 2**32)
    email_cut = round(_EMAIL_SHARE * 65536)
    phone_cut = round(_PHONE_SHARE * 65536)
    birth_cut = round(_BIRTH_SHARE * 65536)
    two_digit_cut = round(0.10 * 256)  # e-mail number: ~10 % two digits ("87"), else 1-9999
    domains = tuple("@" + d for d in _DOMAINS)
    business_domains = tuple("@" + d for d in _BUSINESS_DOMAINS)
    numbers, twos, four = _NUMBERS, _TWO_DIGITS, _FOUR_DIGITS
    mobiles, n_mobiles = _MOBILE_PREFIXES, len(_MOBILE_PREFIXES)
    area4, n_area4 = _AREA_CODES_4, len(_AREA_CODES_4)
    n_births = len(birth_dates)

    def identity(n: int) -> _Identity:
        hasher = fresh()
        hasher.update(n.to_bytes(8, "little"))
        (
            kind_v,
            combo_v,
            number_v,
            digits,
            local_v,
            email_v,
            domain_v,
            phone_v,
            phone_kind,
            phone_prefix,
            birth_v,
            birth_day,
        ) = unpack(hasher.digest())
        num = twos[number_v % 100] if (domain_v >> 8) < two_digit_cut else numbers[number_v % 9999]
        if kind_v < business_cut:
            kind = "business"
            company = (combo_v * n_companies) >> 32
            name, kana = businesses[company * n_forms + (((kind_v & 0xFFFF) * n_forms) >> 16)]
            birth = ""
            if email_v < email_cut:
                stem = business_stems[company * n_mailboxes + ((local_v * n_mailboxes) >> 16)]
                email = stem + num + business_domains[domain_v & 3]
            else:
                email = ""
        else:
            kind = "household"
            combo = (combo_v * n_households) >> 32
            name, kana = households[combo]
            birth = birth_dates[(birth_day * n_births) >> 16] if birth_v < birth_cut else ""
            if email_v < email_cut:
                stem = household_stems[combo * n_patterns + ((local_v * n_patterns) >> 16)]
                email = stem + num + domains[domain_v & 3]
            else:
                email = ""
        if phone_v >= phone_cut:
            phone = ""
        elif phone_kind < 52429:  # 80 %: mobile
            phone = (
                f"{mobiles[(phone_prefix * n_mobiles) >> 16]}-"
                f"{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
            )
        elif phone_kind < 58982:  # 10 %: Tokyo
            phone = f"03-{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
        elif phone_kind < 61604:  # 4 %: Osaka
            phone = f"06-{four[1000 + digits % 9000]}-{four[(digits // 9000) % 10000]}"
        else:  # 6 %: elsewhere, 0AAA-XX-XXXX
            phone = (
                f"{area4[(phone_prefix * n_area4) >> 16]}-"
                f"{twos[10 + digits % 90]}-{four[(digits // 90) % 10000]}"
            )
        return kind, name, kana, email, phone, birth

    return identity


def _validate(
    *,
    count: int,
    seed: int,
    prefix: str,
    business_share: float,
    overlap_with: int | None,
    today: datetime.date | None,
) -> datetime.date:
    """Check the arguments shared by the public functions; return the effective ``today``."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    for label, value in (("seed", seed), ("overlap_with", overlap_with)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{label} must be an int, got {value!r}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {prefix!r}")
    if not 0.0 <= business_share <= 1.0:
        raise ValueError(f"business_share must be within [0, 1], got {business_share!r}")
    if today is None:
        return DEFAULT_TODAY
    if isinstance(today, datetime.datetime) or not isinstance(today, datetime.date):
        raise TypeError(f"today must be a datetime.date, got {today!r}")
    return today


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _rows(
    *,
    count: int,
    seed: int,
    prefix: str,
    business_share: float,
    overlap_with: int | None,
    today: datetime.date,
) -> Iterator[tuple[str, ...]]:
    """Yield rows as tuples in :data:`COLUMNS` order (the fast path used by the writers)."""
    today_ord = today.toordinal()
    # Ages 18..90 inclusive: born after (today - 91 years) and on or before (today - 18 years).
    first_ord = _years_before(today, _MAX_AGE + 1).toordinal() + 1
    last_birth_ord = _years_before(today, _MIN_AGE).toordinal()
    first_joined_ord = _years_before(today, _JOINED_YEARS).toordinal()
    iso = tuple(datetime.date.fromordinal(o).isoformat() for o in range(first_ord, today_ord + 1))
    birth_dates = iso[: last_birth_ord - first_ord + 1]
    joined_base = first_joined_ord - first_ord
    joined_span = today_ord - first_joined_ord + 1
    dormant_limit = today_ord - 366 - first_ord  # last activity on or before: > 1 year ago
    recent_start = today_ord - 365 - first_ord
    # Only members who joined more than a year ago can be dormant; adjust so ~30 % overall.
    eligible = max(1, dormant_limit - joined_base + 1) / joined_span
    dormant_share = min(1.0, _DORMANT_SHARE / eligible)

    identity = _identity_fn(seed, business_share, birth_dates)
    other = (
        None if overlap_with is None else _identity_fn(overlap_with, business_share, birth_dates)
    )
    overlap_share = 0.0 if other is None else _OVERLAP_SHARE

    def cuts(pairs: tuple[tuple[float, float], ...], shared: bool) -> tuple[float, ...]:
        # Cumulative thresholds for one rand() draw. ``pairs`` = (overall share, share among
        # overlapping rows); non-overlapping rows get what keeps the overall share.
        shares = [
            over if shared else max(0.0, (base - overlap_share * over) / (1.0 - overlap_share))
            for base, over in pairs
        ]
        return tuple(sum(shares[: i + 1]) for i in range(len(shares)))

    email_pairs = (
        (_EMAIL_UPPER, _OVERLAP_EMAIL_UPPER),
        (_EMAIL_FULLWIDTH, _OVERLAP_EMAIL_FULLWIDTH),
    )
    phone_pairs = (
        (_PHONE_NO_HYPHEN, _OVERLAP_PHONE_NO_HYPHEN),
        (_PHONE_PLUS81, _OVERLAP_PHONE_PLUS81),
        (_PHONE_FULLWIDTH, _OVERLAP_PHONE_FULLWIDTH),
    )
    own_email, shared_email = cuts(email_pairs, False), cuts(email_pairs, True)
    own_phone, shared_phone = cuts(phone_pairs, False), cuts(phone_pairs, True)

    # A str seed is hashed with SHA-512: stable across runs, and distinct for seed -1 and 1.
    rand = random.Random(f"sanpo.synthetic.rows:{seed}").random
    fullwidth = _FULLWIDTH
    pref_table, n_pref = _PREF_TABLE, len(_PREF_TABLE)
    four, city_towns, blocks, tails = _FOUR_DIGITS, _CITY_TOWNS, _BLOCKS, _BUILDING_TAILS
    n_city_towns, n_blocks, n_tails = len(city_towns), len(blocks), len(tails)

    for n in range(1, count + 1):
        if other is not None and rand() < overlap_share:
            kind, name, kana, email, phone, birth = other(n)
            email_cuts, phone_cuts = shared_email, shared_phone
        else:
            kind, name, kana, email, phone, birth = identity(n)
            email_cuts, phone_cuts = own_email, own_phone

        if email:
            r = rand()
            if r < email_cuts[1]:
                if r < email_cuts[0]:  # upper case: whole address, or capitalised local part
                    email = email.upper() if r < email_cuts[0] / 2 else email.capitalize()
                else:  # full-width local part (U+FF01..U+FF5E), domain kept ASCII
                    local, _, domain = email.partition("@")
                    if r < (email_cuts[0] + email_cuts[1]) / 2:
                        local = local.upper()
                    email = f"{local.translate(fullwidth)}@{domain}"
        if phone:
            r = rand()
            if r < phone_cuts[2]:
                if r < phone_cuts[0]:
                    phone = phone.replace("-", "")
                elif r < phone_cuts[1]:
                    phone = "+81 " + phone[1:]
                else:
                    phone = phone.translate(fullwidth)

        code, pref_name, postal3 = pref_table[int(rand() * n_pref)]
        postal = postal3[int(rand() * len(postal3))] + four[int(rand() * 10000)]
        address = (
            pref_name + city_towns[int(rand() * n_city_towns)] + blocks[int(rand() * n_blocks)]
        )
        if rand() < _BUILDING_SHARE:
            address += tails[int(rand() * n_tails)]

        joined = joined_base + int(rand() * joined_span)
        if joined <= dormant_limit and rand() < dormant_share:
            last = joined + int(rand() * (dormant_limit - joined + 1))
            status = "inactive" if rand() < _INACTIVE_IF_DORMANT else "active"
        else:
            start = joined if joined > recent_start else recent_start
            last = start + int(rand() * (today_ord - first_ord - start + 1))
            status = "inactive" if rand() < _INACTIVE_IF_ACTIVE else "active"

        yield (
            prefix + str(n).zfill(8),  # == f"{prefix}{n:08d}", faster
            kind,
            name,
            kana,
            email,
            phone,
            postal,
            address,
            birth,
            code,
            iso[joined],
            iso[last],
            status,
        )


def synthetic_members(
    *,
    count: int,
    seed: int = 0,
    prefix: str = "M",
    business_share: float = 0.2,
    overlap_with: int | None = None,
    today: datetime.date | None = None,
) -> Iterator[dict[str, str]]:
    """Lazily yield ``count`` fictional members as ``{column: str}`` dicts (keys = COLUMNS).

    - ``member_number`` is ``f"{prefix}{n:08d}"`` for n = 1..count, in order.
    - ``kind`` is ``"business"`` for about ``business_share`` of rows, else ``"household"``.
    - ``name`` / ``name_kana``: kanji family + "　" + given name and its katakana reading, or
      an invented company (``株式会社さくら精工``) and the reading of its name part
      (``サクラセイコウ``).
    - ``email`` (~85 %, ``example.*`` domains only; ~3 % upper case, ~1 % full-width local part),
      ``phone`` (~90 %; mostly hyphenated, ~5 % digits only, ~3 % ``+81 90-…``, ~2 % full-width),
      ``postal_code`` ``NNN-NNNN``, ``address`` starting with a prefecture name of
      :data:`PREFECTURES` whose code is ``prefecture``; empty string when absent.
    - ``birth_date`` ISO date, ages 18-90 at ``today`` (~10 % empty; always empty for businesses).
    - ``joined_on`` within 15 years before ``today``; ``joined_on <= last_active_on <= today``,
      with ~30 % of members dormant (last active more than a year ago).
    - ``status`` ``"active"`` (~95 %) or ``"inactive"``.

    ``today`` defaults to :data:`DEFAULT_TODAY` so output is reproducible. The same arguments
    always give the same rows.

    ``overlap_with``: about 30 % of rows are people of the base generated with
    ``seed=overlap_with`` (same ``business_share`` and ``today``): they take the kind, name,
    reading, birth date, e-mail and phone of that base's row with the same ``n`` (the e-mail or
    phone may be absent there too), often formatted differently. The other base is never
    generated; its rows are recomputed by ``n``.

    Arguments are validated on call (``ValueError`` / ``TypeError``); the returned generator
    keeps constant memory whatever ``count`` is.
    """
    day = _validate(
        count=count,
        seed=seed,
        prefix=prefix,
        business_share=business_share,
        overlap_with=overlap_with,
        today=today,
    )
    rows = _rows(
        count=count,
        seed=seed,
        prefix=prefix,
        business_share=business_share,
        overlap_with=overlap_with,
        today=day,
    )
    return (dict(zip(COLUMNS, row, strict=True)) for row in rows)


class _BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> object: ...


_Target = str | os.PathLike[str] | _BinaryWriter


def _write_chunks(target: _Target, chunks: Iterator[bytes]) -> int:
    written = 0
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                written += len(chunk)
    else:
        for chunk in chunks:
            target.write(chunk)
            written += len(chunk)
    return written


def write_csv(
    path_or_file: _Target,
    *,
    count: int,
    seed: int = 0,
    encoding: str = "utf-8",
    prefix: str = "M",
    business_share: float = 0.2,
    overlap_with: int | None = None,
    today: datetime.date | None = None,
) -> int:
    """Write a header (:data:`COLUMNS`) and ``count`` rows as CSV; return the bytes written.

    ``path_or_file`` is a path (``str`` / ``PathLike``, created or truncated; closed afterwards)
    or a binary file object (written to, neither flushed nor closed). Rows are exactly those of
    :func:`synthetic_members` with the same keyword arguments. ``csv`` module defaults with
    ``lineterminator="\\n"``. ``encoding`` is any Python codec able to encode the output:
    ``"utf-8"`` (default), ``"utf-8-sig"``, ``"cp932"`` or ``"shift_jis"`` (for which the
    full-width hyphen is written as U+2212, giving the same bytes as cp932).
    """
    day = _validate(
        count=count,
        seed=seed,
        prefix=prefix,
        business_share=business_share,
        overlap_with=overlap_with,
        today=today,
    )
    encoder = codecs.getincrementalencoder(encoding)()
    # shift_jis maps 0x817C to U+2212 where cp932 maps it to U+FF0D (full-width hyphen).
    try:
        "\uff0d".encode(encoding)
        fix_hyphen = False
    except UnicodeEncodeError:
        fix_hyphen = True
    rows = _rows(
        count=count,
        seed=seed,
        prefix=prefix,
        business_share=business_share,
        overlap_with=overlap_with,
        today=day,
    )

    # Generated values never contain a delimiter, a quote or a line break, so ",".join writes
    # the very bytes csv.writer would (no field needs quoting) at a fraction of the cost; the
    # csv module writes the header, and every row whenever ``prefix`` would need quoting.
    plain = not any(ch in prefix for ch in ',"\r\n')
    encode = encoder.encode

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        join = ",".join
        for _ in range(0, count, _CHUNK_ROWS):
            batch = islice(rows, _CHUNK_ROWS)
            if plain:
                lines = list(map(join, batch))
                lines.append("")
                text += "\n".join(lines)
            else:
                writer.writerows(batch)
                text += buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            if fix_hyphen:
                text = text.replace("\uff0d", "\u2212")
            yield encode(text)
            text = ""
        if fix_hyphen:
            text = text.replace("\uff0d", "\u2212")
        yield encode(text, final=True)

    return _write_chunks(path_or_file, chunks())


_JSON = json.JSONEncoder(ensure_ascii=False)


def write_jsonl(
    path_or_file: _Target,
    *,
    count: int,
    seed: int = 0,
    prefix: str = "M",
    business_share: float = 0.2,
    overlap_with: int | None = None,
    today: datetime.date | None = None,
) -> int:
    """Write ``count`` rows as UTF-8 JSON Lines; return the bytes written.

    Each line is ``json.dumps(row, ensure_ascii=False)`` of a :func:`synthetic_members` row
    (same keyword arguments), keys in :data:`COLUMNS` order, terminated by ``"\\n"``.
    ``path_or_file`` is handled as in :func:`write_csv`.
    """
    day = _validate(
        count=count,
        seed=seed,
        prefix=prefix,
        business_share=business_share,
        overlap_with=overlap_with,
        today=today,
    )
    rows = _rows(
        count=count,
        seed=seed,
        prefix=prefix,
        business_share=business_share,
        overlap_with=overlap_with,
        today=day,
    )
    encode = _JSON.encode
    columns = COLUMNS

    def chunks() -> Iterator[bytes]:
        for _ in range(0, count, _CHUNK_ROWS):
            lines = [
                encode(dict(zip(columns, row, strict=True))) for row in islice(rows, _CHUNK_ROWS)
            ]
            lines.append("")
            yield "\n".join(lines).encode("utf-8")

    return _write_chunks(path_or_file, chunks())
