"""Identifiers typed on a Japanese keyboard normalise like ASCII ones."""

from __future__ import annotations

import pytest

from ftthnoc.normalise import digits_of, fold_kana, normalise_ipv4, normalise_mac, normalise_serial


def test_full_width_input_is_read_as_ascii() -> None:
    assert normalise_serial("ＨＷＴＣ－Ａ１Ｂ２Ｃ３Ｄ４") == "HWTC-A1B2C3D4"
    assert normalise_serial("ｈｗｔｃａ１ｂ２ｃ３ｄ４") == "HWTC-A1B2C3D4"
    assert normalise_mac("００：１Ａ：２Ｂ：３Ｃ：４Ｄ：５Ｅ") == "00:1a:2b:3c:4d:5e"
    assert normalise_ipv4("１９２．０．２．１０") == "192.0.2.10"


@pytest.mark.parametrize("bad", ["ＨＷＴＣ－Ａ１Ｂ２", "HWTC-A1B2C3D4Z", "ー"])
def test_what_is_no_serial_stays_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not an ONU serial"):
        normalise_serial(bad)


@pytest.mark.parametrize("spelling", ["やまだ たろう", "ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ", "やまだタロウ"])
def test_kana_fold_to_one_spelling(spelling: str) -> None:
    assert fold_kana(spelling) == "ヤマダタロウ"


def test_kana_folding_keeps_kanji_and_folds_latin() -> None:
    assert fold_kana("山田 太郎") == "山田太郎" and fold_kana("ＹＡＭＡＤＡ") == fold_kana("yamada") == "yamada"
    assert fold_kana("ゔぁ ゞ") == "ヴァヾ"  # the edges of the hiragana block


def test_phone_digits_ignore_hyphens_brackets_and_width() -> None:
    assert digits_of("0826-72-0001") == digits_of("０８２６（７２）０００１") == "0826720001"
    assert digits_of("0826 72 0001") == "0826720001"
