"""Dates written the way people write them, in English and Chinese, to translate into ISO 8601.

"26 Nov 2026", "November 26th, 2026", "2026年11月26日星期四", "11/26/2026", ... -> "2026-11-26".
A character-level sequence-to-sequence task: the source has variable length and two scripts,
the target always has 10 characters. Month and weekday names come from this module, not from
the locale, so results are the same on every machine.

Sizes, in the book's letters: N examples; S = ``MAX_SOURCE_CHARS + 1`` = 29 source positions
(the characters, ``<end>``, then padding); T = ``ISO_LEN + 1`` = 11 target positions; the target
vocabulary has K = 15 tokens (the 4 specials, the 10 digits and "-").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rnnlab._checks import check_choice, check_int, make_rng
from rnnlab.data.splits import Splits, split_counts
from rnnlab.data.vocab import CharVocab, pad_sequences

MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
#: Special tokens, shared by the source and target vocabularies (ids 0..3).
SPECIALS = ("<pad>", "<start>", "<end>", "<unk>")
#: Target length: "YYYY-MM-DD".
ISO_LEN = 10


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


#: Format name -> renderer; the name shows the format of 2026-11-26.
FORMATS: dict[str, Callable[[dt.date], str]] = {
    "26 Nov 2026": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "November 26, 2026": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Nov 26, 2026": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
    "Thursday, 26 November 2026": lambda d: f"{WEEKDAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year}",
    "Thu 26 Nov 2026": lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "26th of November 2026": lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "November 26th, 2026": lambda d: f"{MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}",
    "26 NOVEMBER 2026": lambda d: f"{d.day} {MONTHS[d.month - 1].upper()} {d.year}",
    "11/26/2026": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",  # US order only: 03/04 stays unambiguous
    "26.11.2026": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "2026/11/26": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "2026年11月26日": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "2026年11月26日星期四": lambda d: f"{d.year}年{d.month}月{d.day}日{WEEKDAYS_ZH[d.weekday()]}",
}


def format_date(date: dt.date, fmt: str) -> str:
    """Write ``date`` in the format named ``fmt`` (a key of ``FORMATS``)."""
    return FORMATS[check_choice("format", fmt, tuple(FORMATS))](date)


@lru_cache(maxsize=1)
def _source_alphabet_and_length() -> tuple[str, int]:
    """Every character any format can produce, and the longest string, over a 7-year cycle.

    Seven consecutive years contain every (weekday, month, day) combination, hence every
    character and the longest possible rendering.
    """
    start = dt.date(2000, 1, 1)
    strings = [render(start + dt.timedelta(days=i)) for i in range(7 * 366) for render in FORMATS.values()]
    return "".join(sorted(set("".join(strings)))), max(map(len, strings))


#: Longest source string in characters, without the <end> token ("Wednesday, 27 September 2000");
#: tests check it against ``_source_alphabet_and_length``.
MAX_SOURCE_CHARS = 28


def date_vocabs() -> tuple[CharVocab, CharVocab]:
    """The source and target vocabularies; both start with ``SPECIALS`` (``<pad>`` = 0).

    Returns:
        source_vocab: the specials and every character the formats use (digits, Latin, 年月日星期...).
        target_vocab: the specials, the digits and "-".
    """
    alphabet, _ = _source_alphabet_and_length()
    source = CharVocab(alphabet, specials=SPECIALS, unknown="<unk>")
    target = CharVocab("0123456789-", specials=SPECIALS, unknown="<unk>")
    return source, target


def _parse_date(value: str | dt.date, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a date or an ISO string like '2026-11-26', received {value!r}") from None


def random_dates(
    n_samples: int,
    *,
    seed: int,
    formats: Sequence[str] | None = None,
    start: str | dt.date = "1950-01-01",
    end: str | dt.date = "2049-12-31",
) -> tuple[list[str], list[str]]:
    """N distinct dates between ``start`` and ``end`` (inclusive), each in one random format.

    Args:
        n_samples: N, at most the number of days in the range.
        seed: random seed.
        formats: names from ``FORMATS`` to draw from uniformly; default all.
        start, end: the date range.

    Returns:
        sources: N human-written dates; targets: the same N dates as "YYYY-MM-DD".
    """
    n_samples = check_int("n_samples", n_samples)
    formats = list(FORMATS) if formats is None else [check_choice("format", f, tuple(FORMATS)) for f in formats]
    if not formats:
        raise ValueError(f"formats must name at least one of {list(FORMATS)}, received none")
    first, last = _parse_date(start, "start"), _parse_date(end, "end")
    n_days = (last - first).days + 1
    if n_samples > n_days:
        raise ValueError(f"n_samples must be <= {n_days} distinct days from {first} to {last}, received {n_samples}")
    rng = make_rng(seed)
    offsets = rng.choice(n_days, size=n_samples, replace=False)
    chosen = rng.integers(len(formats), size=n_samples)
    dates = [first + dt.timedelta(days=int(o)) for o in offsets]
    return [FORMATS[formats[k]](d) for d, k in zip(dates, chosen)], [d.isoformat() for d in dates]


def encode_dates(
    sources: Sequence[str], targets: Sequence[str], *, padding: str = "post"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encode (source, ISO target) pairs for a sequence-to-sequence model.

    The source ends with ``<end>`` and is padded with ``<pad>`` (id 0) to ``MAX_SOURCE_CHARS + 1``.
    ``padding="post"`` (the default, what ``rnnlab.seq2seq.Seq2Seq`` expects) puts the padding
    after the characters; ``"pre"`` puts it first.

    Args:
        sources: N human-written dates. targets: the N dates as "YYYY-MM-DD".
        padding: "post" or "pre".

    Returns:
        source_ids: (N, S) int64 with S = MAX_SOURCE_CHARS + 1.
        decoder_inputs: (N, T) int64 with T = 11: ``<start>`` then the 10 ISO characters
            (the decoder's inputs under teacher forcing).
        decoder_targets: (N, T) int64: the 10 ISO characters then ``<end>``.
    """
    source_vocab, target_vocab = date_vocabs()
    if len(sources) != len(targets):
        raise ValueError(f"sources and targets must have the same length, received {len(sources)} and {len(targets)}")
    end = source_vocab["<end>"]
    encoded = [np.append(source_vocab.encode(s), end) for s in sources]
    source_ids = pad_sequences(encoded, max_len=MAX_SOURCE_CHARS + 1, padding=padding)
    iso = np.stack([target_vocab.encode(t) for t in targets]) if len(targets) else np.zeros((0, ISO_LEN), np.int64)
    if iso.shape[1:] != (ISO_LEN,):
        raise ValueError(f"targets must be 'YYYY-MM-DD' strings, received shape {iso.shape}")
    column = np.ones((len(iso), 1), dtype=np.int64)
    decoder_inputs = np.hstack([column * target_vocab["<start>"], iso])
    decoder_targets = np.hstack([iso, column * target_vocab["<end>"]])
    return source_ids, decoder_inputs, decoder_targets


def decode_iso(ids: np.ndarray) -> list[str]:
    """Turn predicted target ids (N, L) back into strings, stopping at the first ``<end>``.

    Args:
        ids: (N, L) target-vocabulary ids, e.g. ``Seq2Seq.greedy_decode(...).ids``.

    Returns:
        N strings; special tokens (``<pad>``, ``<start>``, ...) are left out.
    """
    _, target_vocab = date_vocabs()
    end = target_vocab["<end>"]
    strings = []
    for row in np.asarray(ids):
        stop = np.flatnonzero(row == end)
        strings.append(target_vocab.decode(row[: stop[0]] if stop.size else row, skip_specials=True))
    return strings


@dataclass(frozen=True)
class DateData:
    """Encoded date-translation splits.

    Attributes:
        source_vocab, target_vocab: from ``date_vocabs()``.
        text: ``Splits`` of (sources, targets) lists of strings.
        train, val, test: (source_ids (N, S), decoder_inputs (N, T), decoder_targets (N, T)), int64,
            from ``encode_dates``: S = 29, T = 11, each split with its own N.
    """

    source_vocab: CharVocab
    target_vocab: CharVocab
    text: Splits
    train: tuple[np.ndarray, np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray, np.ndarray]


def date_dataset(
    n_samples: int,
    *,
    seed: int,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    formats: Sequence[str] | None = None,
    padding: str = "post",
) -> DateData:
    """Distinct random dates split into train / val / test (no date in two splits), then encoded.

    ``random_dates`` draws the dates in random order, so consecutive blocks of its output are
    random, disjoint splits: the first ``fractions[0]`` of them train, and so on.

    Args:
        n_samples: N, the number of distinct dates in all three splits together.
        seed: random seed of the dates and their formats.
        fractions: (train, val, test) fractions, each > 0, summing to 1.
        formats: names from ``FORMATS`` to draw from; default all.
        padding: passed to ``encode_dates``.

    Returns:
        a ``DateData``.
    """
    n_train, n_val, _ = split_counts(check_int("n_samples", n_samples, 3), fractions)
    sources, targets = random_dates(n_samples, seed=seed, formats=formats)
    cuts = (slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n_samples))
    text = Splits(*((sources[cut], targets[cut]) for cut in cuts))
    encoded = [encode_dates(s, t, padding=padding) for s, t in text]
    return DateData(*date_vocabs(), text, *encoded)
