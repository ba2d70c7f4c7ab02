"""Where members live: the 47 prefectures, invented municipalities, neighbourhoods and buildings.

Prefectures and their postal-code ranges are real (so that an address and its postal code agree);
every city, town and building name is invented.
"""

from collections.abc import Callable

#: ``random.Random().random``: the one stream a base's rows draw from.
Rand = Callable[[], float]

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

_BUILDING_SHARE = 0.30

# ---------------------------------------------------------------------------------------------
# Precomputed lookup tables, so that a row costs a few table look-ups rather than formatting.

_PREF_TABLE_SIZE = 8192
FOUR_DIGITS = tuple(f"{i:04d}" for i in range(10_000))


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


def place_fn(rand: Rand) -> Callable[[], tuple[str, str, str]]:
    """Return ``place()``: ``(prefecture code, postal code, address)`` from five or six draws.

    Prefectures are drawn by population; ~30 % of addresses name a building and a room.
    """
    pref_table, n_pref = _PREF_TABLE, len(_PREF_TABLE)
    four, city_towns, blocks, tails = FOUR_DIGITS, _CITY_TOWNS, _BLOCKS, _BUILDING_TAILS
    n_city_towns, n_blocks, n_tails = len(city_towns), len(blocks), len(tails)

    def place() -> tuple[str, str, str]:
        code, pref_name, postal3 = pref_table[int(rand() * n_pref)]
        postal = postal3[int(rand() * len(postal3))] + four[int(rand() * 10000)]
        address = (
            pref_name + city_towns[int(rand() * n_city_towns)] + blocks[int(rand() * n_blocks)]
        )
        if rand() < _BUILDING_SHARE:
            address += tails[int(rand() * n_tails)]
        return code, postal, address

    return place
