"""Typo tolerance for resource search: which index words are a small edit away from a
typed word (difflib), and which word lengths can qualify (for the trigram index)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

# Typo tolerance applies to short queries only: long ones have enough words to match.
FUZZY_MAX_TERMS = 3
FUZZY_CUTOFF = 0.7
# Up to this many candidate words are compared on the loop (a few ms); more go to a thread.
FUZZY_INLINE_CANDIDATES = 300
# Up to this many whole-word (bigram) candidates are sifted by their letters on the loop
# (a set operation in C each, about 0.3 µs: ~1.5 ms); more are sifted in the thread.
FUZZY_INLINE_SIFT = 5000
TERM_RE = re.compile(r"\w+")


def close_term_lengths(term: str, *, prefixes: bool = True) -> tuple[int, int]:
    """The shortest and longest word `close_terms` can pick for `term`: difflib's ratio is
    at most 2*min/(len(a)+len(b)), so a match at FUZZY_CUTOFF (0.7) is 7/13 to 13/7 times as
    long; a stem matched against the typed word's prefix (`prefixes`) is 4 characters or more
    and shorter than the typed word."""
    n = len(term)
    shortest = -(-7 * n // 13)
    if prefixes and n > 4:
        shortest = min(shortest, 4)
    return shortest, 13 * n // 7


def above(term: str, words: list[str], ratio: float, enough: int = 3) -> int:
    """How many of `words` (up to `enough`) are strictly more alike `term` than `ratio`."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(term)
    found = 0
    for word in words:
        matcher.set_seq1(word)
        if (
            matcher.real_quick_ratio() > ratio
            and matcher.quick_ratio() > ratio
            and matcher.ratio() > ratio
        ):
            found += 1
            if found >= enough:
                break
    return found


def letters_allow(term: str, words: Sequence[str]) -> list[str]:
    """The `words` whose letters leave difflib's ratio room to reach FUZZY_CUTOFF against
    `term`, in their order: the others can't be a whole-word close match. The ratio is
    2M/T (M matched characters, T both lengths) and the matched characters are letters of
    both words: at most the letters they share plus `term`'s repeated letters. A cheaper
    bound than difflib's own quick_ratio, so a long list is sifted in C, not in Python."""
    letters = set(term)
    spare = len(term) - len(letters)
    n = len(term)
    return [
        w
        for w in words
        if 2.0 * (len(letters.intersection(w)) + spare) / (n + len(w)) >= FUZZY_CUTOFF
    ]


def close_terms(term: str, vocabulary: Sequence[str], more: Sequence[str] = ()) -> list[str]:
    """Index terms within a small edit of `term` (the index holds porter stems), from
    `vocabulary` in the index's order (the whole vocabulary, or a superset of the close
    words such as the trigram index's candidates: the answer is the same). Words in `more`
    are considered only as whole-word matches (the bigram candidates)."""
    more = letters_allow(term, more) if more else more
    pool = list(dict.fromkeys([*vocabulary, *more])) if more else vocabulary
    found = difflib.get_close_matches(term, pool, n=3, cutoff=FUZZY_CUTOFF)
    # A stem is shorter than the word: also compare the typed word cut to the stem's length.
    for word in vocabulary:
        if word not in found and len(word) >= 4 and len(term) > len(word):
            ratio = difflib.SequenceMatcher(None, term[: len(word)], word).ratio()
            if ratio >= 0.8:
                found.append(word)
    return [w for w in found if w.isalnum()][:5]
