"""Amounts in Vietnamese words, checked against how a Vietnamese accountant writes them."""

from __future__ import annotations

import pytest

from fundapp.documents.words import amount_in_words

CASES = [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (5, "Năm đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),
    (14, "Mười bốn đồng"),
    (15, "Mười lăm đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi tư đồng"),
    (25, "Hai mươi lăm đồng"),
    (45, "Bốn mươi lăm đồng"),
    (101, "Một trăm linh một đồng"),
    (104, "Một trăm linh bốn đồng"),
    (105, "Một trăm linh năm đồng"),
    (110, "Một trăm mười đồng"),
    (115, "Một trăm mười lăm đồng"),
    (1_000, "Một nghìn đồng chẵn"),
    (1_001, "Một nghìn không trăm linh một đồng"),
    (10_010, "Mười nghìn không trăm mười đồng"),
    (100_000, "Một trăm nghìn đồng chẵn"),
    (611_507, "Sáu trăm mười một nghìn năm trăm linh bảy đồng"),
    (1_000_050, "Một triệu không trăm năm mươi đồng"),
    (1_000_500, "Một triệu năm trăm đồng"),
    (1_005_000, "Một triệu không trăm linh năm nghìn đồng chẵn"),
    (5_000_000, "Năm triệu đồng chẵn"),
    (10_611_507, "Mười triệu sáu trăm mười một nghìn năm trăm linh bảy đồng"),
    (120_000_000, "Một trăm hai mươi triệu đồng chẵn"),
    (
        1_234_567_891,
        "Một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi mốt đồng",
    ),
    (2_000_001_000, "Hai tỷ không trăm linh một nghìn đồng chẵn"),
    (5_000_000_001, "Năm tỷ không trăm linh một đồng"),
    (14_450_000_000, "Mười bốn tỷ bốn trăm năm mươi triệu đồng chẵn"),
    (17_547_000_000, "Mười bảy tỷ năm trăm bốn mươi bảy triệu đồng chẵn"),
    (21_000_000_000, "Hai mươi mốt tỷ đồng chẵn"),
    (1_000_000_000_000, "Một nghìn tỷ đồng chẵn"),
    (1_000_000_000_000_000, "Một triệu tỷ đồng chẵn"),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_amount_in_words(amount: int, words: str) -> None:
    assert amount_in_words(amount) == words


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1000"])
def test_only_whole_dong_of_zero_or_more(bad: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        amount_in_words(bad)  # type: ignore[arg-type]
