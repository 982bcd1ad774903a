"""The normalisation rule of docs/decontamination.md, and the batch hasher agreeing with it."""
import numpy as np
import pytest

from harness.decontam.hashing import batch_words, word_hashes
from harness.decontam.normalize import normalize, words


@pytest.mark.parametrize("text, expected", [
    ("Find the SUM, please!", ["find", "the", "sum", "please"]),
    ("a_1 + b_{2}", ["a", "1", "b", "2"]),
    ("  tabs\tand\nnewlines  ", ["tabs", "and", "newlines"]),
    ("Ｆｕｌｌ－ｗｉｄｔｈ １２３", ["full", "width", "123"]),  # NFKC
    ("Straße ﬁne", ["strasse", "fine"]),  # casefold, ligature
    ("x — y “quoted” ≤ z", ["x", "y", "quoted", "z"]),  # non-ASCII punctuation and symbols
    ("中文 测试", ["中文", "测试"]),
])
def test_text_becomes_lower_case_words_without_punctuation(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("variant", [
    r"Let $y=\frac{1}{2}x$ where $x \le 3$.",
    r"let $y = \frac {1} {2} x$ where $x\le3$",
    r"Let \(y=\dfrac{1}{2}\,x\) where \(x \leq 3\).",
    r"Let $y=\left(\tfrac{1}{2}\right) x$ where $x \le 3$",
    r"Let $\displaystyle y=\frac{1}{2}\;x$ where $x\ \le\ 3$",
])
def test_latex_spacing_and_layout_commands_do_not_change_the_words(variant):
    assert normalize(variant) == ["let", "y", "frac", "1", "2", "x", "where", "x", "leq", "3"]


def test_latex_command_names_stay_words_except_layout_ones():
    assert normalize(r"\sqrt{x} \cdot \text{cm} \mathbb{R} \leftarrow") == ["sqrt", "x", "cdot", "cm", "r", "leftarrow"]


def test_a_word_is_cut_where_a_letter_meets_a_digit_only():
    # `cdot3` is what `\cdot3` becomes with its backslash stripped; `2x` stays whole
    assert normalize("2x abc301 h2o") == ["2x", "abc", "301", "h", "2o"]
    assert normalize("2^3\\cdot3^x") == normalize("2^3 cdot3^x") == ["2", "3", "cdot", "3", "x"]


def test_batch_hasher_agrees_with_the_reference_words():
    texts = [r"Find $\left( \dfrac{1}{2} \right)^{2x}$, where x\le 3", "", "Ｆｕｌｌ ﬁne Straße \\left(é\\right)",
             r"\text{if } a_1 \neq b_{2} \\ c\,d \\leftarrow", "x" * 70000 + " y", "plain ascii words"]
    hashes, documents = batch_words(texts)
    expected = [word_hashes(words(text)) for text in texts]
    assert np.array_equal(hashes, np.concatenate(expected))
    assert documents.tolist() == [i for i, part in enumerate(expected) for _ in part]


def test_batch_preparation_equals_preparing_each_text():
    from harness.decontam.normalize import prepare, prepare_batch

    texts = ["Ｆｕｌｌ ﬁne Straße — “quoted” … ∑x²", "a\x00b\\le3", "", "ASCII \\frac12 Text", "ℝ³ ½ é\u00a0ü",
             "\u2028line\u2029sep ⟨x⟩ 𝑥 ٣"]
    assert prepare_batch(texts) == b"\x00".join(prepare(text.replace("\x00", " ")) for text in texts)
    assert prepare_batch(["only ascii", "Here"]) == b"only ascii\x00here"
    hashes, documents = batch_words(texts)
    assert documents.tolist() == [i for i, text in enumerate(texts) for _ in words(text.replace("\x00", " "))]
    assert words("a\x00b") == [b"a", b"b"]  # a NUL separates words, so replacing it changes nothing


def test_long_words_hash_by_every_byte():
    base = b"q" * 40
    variants = [base, base + b"r", base[:-1] + b"r", b"r" + base[1:], base[:17] + b"r" + base[18:], base * 3]
    assert len(set(word_hashes(variants).tolist())) == len(variants)


def test_distinct_words_hash_differently():
    vocabulary = [w.encode() for w in "a b ab ba abc cab 1 11 111 frac left right x1 1x".split()]
    assert len(set(word_hashes(vocabulary).tolist())) == len(vocabulary)
