"""/resource search's sift of whole-word typo candidates by their letters (issue 15): a word
sharing only a two-letter piece with the typed one is dropped before difflib compares it
only when difflib could not have picked it, so the close words are the same."""

from __future__ import annotations

import difflib
import random
import string

from familybot.services.resources.fuzzy import FUZZY_CUTOFF, close_terms, letters_allow


def test_the_sift_keeps_every_word_difflib_finds_close_and_drops_the_rest_it_can() -> None:
    rng = random.Random(15)
    letters = "aeinrst" + string.ascii_lowercase  # common letters more often: more near misses
    kept = dropped = 0
    for _ in range(3000):
        term = "".join(rng.choice(letters) for _ in range(rng.randint(3, 11)))
        words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 16))) for _ in range(20)]
        # ... and some edits of the term, which are often close.
        words += [term[:i] + rng.choice(letters) + term[i + 1 :] for i in range(len(term))]
        sifted = letters_allow(term, words)
        for w in words:
            close = difflib.SequenceMatcher(None, w, term).ratio() >= FUZZY_CUTOFF
            assert w in sifted or not close, (term, w)
        assert sifted == [w for w in words if w in sifted]  # order kept
        kept += len(sifted)
        dropped += len(words) - len(sifted)
    assert dropped > kept  # it does sift


def test_a_common_piece_no_longer_makes_every_word_a_candidate() -> None:
    """'anxeity' shares 'it' with each of 10,000 'item…' words: none has the letters."""
    words = [f"item{i}" for i in range(10_000)] + ["anxieti"]
    assert letters_allow("anxeity", words) == ["anxieti"]
    assert close_terms("anxeity", [], words) == ["anxieti"]
