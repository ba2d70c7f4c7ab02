"""The words people and companies are made of: names, readings, romanisations, e-mail parts.

All invented or common enough to describe nobody: family and given names are among the most
frequent in Japan, companies are a generic brand plus a trade, and e-mail addresses only use the
reserved ``example.*`` domains (RFC 2606 / JPRS reserved names).
"""

from dataclasses import dataclass
from functools import cache


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
COMPANY_BRANDS = _table(
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
COMPANY_TRADES = _table(
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
LEGAL_FORMS: tuple[tuple[str, bool], ...] = (
    *[("株式会社", True)] * 9,
    *[("株式会社", False)] * 6,
    *[("有限会社", True)] * 3,
    *[("合同会社", False)] * 2,
)
BUSINESS_MAILBOXES = ("info", "contact", "office", "sales", "support")

DOMAINS = ("example.ne.jp", "example.com", "example.jp", "example.ne.jp")  # households
BUSINESS_DOMAINS = ("example.co.jp", "example.co.jp", "example.co.jp", "example.jp")

# Household e-mail local parts; g = given name, f = family name, i = initial of the other.
LOCAL_PATTERNS = (
    "{g}.{f}",
    "{f}.{g}",
    "{g}_{f}",
    "{gi}.{f}",
    "{f}{gi}",
    "{g}{fi}",
    "{f}_{g}",
    "{g}{f}",
)


@dataclass(frozen=True, slots=True)
class PeopleTables:
    households: tuple[tuple[str, str], ...]  # (name, kana) by family * n_givens + given
    household_stems: tuple[str, ...]  # e-mail local part without number, by combo * 8 + pattern
    businesses: tuple[tuple[str, str], ...]  # (name, kana) by (brand * n_trades + trade) * forms
    business_stems: tuple[str, ...]  # by (brand * n_trades + trade) * n_mailboxes + mailbox


@cache
def people_tables() -> PeopleTables:
    households: list[tuple[str, str]] = []
    stems: list[str] = []
    for family, family_kana, f in _FAMILY_NAMES:
        for given, given_kana, g in _GIVEN_NAMES:
            households.append((f"{family}\u3000{given}", f"{family_kana}\u3000{given_kana}"))
            stems.extend(p.format(g=g, f=f, gi=g[0], fi=f[0]) for p in LOCAL_PATTERNS)
    businesses: list[tuple[str, str]] = []
    business_stems: list[str] = []
    for brand, brand_kana, brand_romaji in COMPANY_BRANDS:
        for trade, trade_kana, trade_romaji in COMPANY_TRADES:
            company, kana = brand + trade, brand_kana + trade_kana
            businesses.extend(
                (form + company if before else company + form, kana) for form, before in LEGAL_FORMS
            )
            business_stems.extend(
                f"{box}.{brand_romaji}{trade_romaji}" for box in BUSINESS_MAILBOXES
            )
    return PeopleTables(tuple(households), tuple(stems), tuple(businesses), tuple(business_stems))
