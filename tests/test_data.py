"""rnnlab.data: shapes, dtypes, seeds, disjoint splits, no look-ahead, and the documented errors."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from rnnlab import data
from rnnlab.data import dates, images, sentiment

# name -> a call that takes only the seed; the generators whose output must depend on it.
SEEDED = {
    "event_order_task": lambda seed: data.event_order_task(16, 12, seed=seed),
    "adding_problem": lambda seed: data.adding_problem(16, 12, seed=seed),
    "copy_task": lambda seed: data.copy_task(16, 5, seed=seed),
    "echo_task": lambda seed: data.echo_task(16, 12, 3, seed=seed),
    "sine_waves": lambda seed: data.sine_waves(16, 12, seed=seed, noise=0.1),
    "sentiment_sentences": lambda seed: data.sentiment_sentences(16, seed=seed),
    "contrast_pairs": lambda seed: data.contrast_pairs(8, seed=seed),
    "random_dates": lambda seed: data.random_dates(16, seed=seed),
    "moving_digit_videos": lambda seed: data.moving_digit_videos(8, seed=seed, n_frames=3),
    "random_split": lambda seed: data.random_split(np.arange(20), seed=seed),
}


def flatten(output) -> list:
    """Nested tuples/lists of arrays and strings -> a flat list, for equality checks."""
    if isinstance(output, (tuple, list)) and not isinstance(output, str):
        return [leaf for part in output for leaf in flatten(part)]
    return [output]


def same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(flatten(a), flatten(b), strict=True))


# ------------------------------------------------------------------------------ seeds


@pytest.mark.parametrize("name", SEEDED)
def test_same_seed_same_data_different_seed_different_data(name):
    make = SEEDED[name]
    assert same(make(0), make(0))
    assert not same(make(0), make(1))


@pytest.mark.parametrize("bad_seed", [1.0, "0", None, True])
@pytest.mark.parametrize("name", SEEDED)
def test_seed_of_wrong_type_raises_type_error_naming_it(name, bad_seed):
    with pytest.raises(TypeError, match="seed"):
        SEEDED[name](bad_seed)


def test_negative_seed_raises_value_error():
    with pytest.raises(ValueError, match="seed must be an int >= 0, received -1"):
        data.adding_problem(4, 4, seed=-1)


def test_import_is_light():
    heavy = ("torch", "sklearn", "pandas", "vega_datasets")
    code = f"import sys, rnnlab.data; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------ synthetic


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.adding_problem(-1, 10, seed=0), "n_samples must be an int >= 1, received -1"),
        (lambda: data.adding_problem(10, 1, seed=0), "seq_len must be an int >= 2, received 1"),
        (lambda: data.event_order_task(10, 0, seed=0), "seq_len"),
        (lambda: data.copy_task(10, 0, seed=0), "delay must be an int >= 1, received 0"),
        (lambda: data.echo_task(10, 3, 3, seed=0), "seq_len must be an int >= 4, received 3"),
        (lambda: data.sine_waves(10, 5, seed=0, noise=-0.1), "noise"),
        (lambda: data.sine_waves(10, 5, seed=0, period_range=(20.0, 10.0)), "low <= high"),
    ],
)
def test_synthetic_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_lengths_must_be_ints():
    with pytest.raises(TypeError, match=r"n_samples must be an int, received float 10\.0"):
        data.copy_task(10.0, 5, seed=0)


def test_event_order_task_is_at_chance_for_a_time_average_and_solved_by_order():
    x, y = data.event_order_task(500, 15, seed=0)
    assert x.shape == (500, 15, 3) and x.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [250, 250]
    # The time average of the event channels is 1/T for every sample: it cannot tell the classes apart.
    np.testing.assert_allclose(x[:, :, :2].mean(axis=1), 1 / 15, rtol=1e-6)
    # Remembering which channel fired first solves it.
    a_first = x[:, :, 0].argmax(axis=1) < x[:, :, 1].argmax(axis=1)
    np.testing.assert_array_equal(a_first.astype(np.int64), y)


def test_adding_problem_structure_and_baseline():
    n, t = 20_000, 30
    x, y = data.adding_problem(n, t, seed=0)
    assert x.shape == (n, t, 2) and x.dtype == np.float32
    assert y.shape == (n, 1) and y.dtype == np.float32
    markers = x[:, :, 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, : t // 2].sum(axis=1) == 1).all()  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert abs(np.mean((y - 1.0) ** 2) - data.ADDING_BASELINE_MSE) < 0.005


def test_copy_task_layout_and_baseline_loss():
    delay, n_copy = 7, 10
    x, y = data.copy_task(50, delay, seed=0)
    assert x.shape == y.shape == (50, delay + 20) and x.dtype == y.dtype == np.int64
    symbols = x[:, :n_copy]
    assert symbols.min() >= 1 and symbols.max() <= 8
    assert (x[:, n_copy:n_copy + delay - 1] == 0).all() and (x[:, n_copy + delay - 1] == 9).all()
    assert (x[:, -n_copy:] == 0).all()
    assert (y[:, : delay + n_copy] == 0).all()
    np.testing.assert_array_equal(y[:, -n_copy:], symbols)
    # The memoryless strategy: certain blank, then uniform over the 8 symbols.
    log_probs = np.where(y == 0, 0.0, -np.log(1 / 8))
    assert math.isclose(log_probs.mean(), data.copy_baseline_loss(delay), rel_tol=1e-12)
    assert math.isclose(data.copy_baseline_loss(100), 10 * math.log(8) / 120)


def test_copy_task_with_fewer_symbols():
    x, y = data.copy_task(3, 4, seed=0, n_copy=2)
    assert x.shape == (3, 8)
    np.testing.assert_array_equal(y[:, -2:], x[:, :2])


def test_echo_task_targets_are_delayed_inputs():
    x, y = data.echo_task(20, 10, 3, seed=0, n_symbols=5)
    assert x.shape == y.shape == (20, 10) and x.dtype == y.dtype == np.int64
    assert x.min() >= 1 and x.max() <= 5
    assert (y[:, :3] == 0).all()
    np.testing.assert_array_equal(y[:, 3:], x[:, :-3])


def test_sine_waves_shapes_and_clean_target():
    x, y = data.sine_waves(64, 20, seed=0)
    assert x.shape == (64, 20, 1) and y.shape == (64, 1) and x.dtype == y.dtype == np.float32
    assert np.abs(x).max() <= 1.0 and np.abs(y).max() <= 1.0
    noisy, clean_target = data.sine_waves(64, 20, seed=0, noise=0.5)
    np.testing.assert_array_equal(clean_target, y)  # the noise goes on the inputs only
    assert np.std(noisy - x) > 0.3


# ------------------------------------------------------------------------------ vocab and splits


def test_vocab_encode_decode_and_unknown_characters():
    vocab = data.char_vocab()
    assert len(vocab) == 97 and vocab["<unk>"] == 0
    ids = vocab.encode("Hi!\n")
    assert ids.dtype == np.int64 and ids.shape == (4,)
    assert vocab.decode(ids) == "Hi!\n"
    assert vocab.encode("é").tolist() == [0]
    assert vocab.decode(vocab.encode("a°b")) == "a<unk>b"
    assert vocab.decode(vocab.encode("a°b"), skip_specials=True) == "ab"
    strict = data.CharVocab("ab", specials=(), unknown=None)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        strict.encode("abc")


def test_word_vocab_tokenizes_commas():
    vocab = data.WordVocab(["good", "not", "bad", ","], specials=("<pad>", "<unk>"))
    assert vocab.tokenize("Good, not bad") == ["good", ",", "not", "bad"]
    assert vocab.decode(vocab.encode("good , not awful")) == "good , not <unk>"


def test_pad_sequences_and_one_hot():
    seqs = [np.array([1, 2, 3]), np.array([4])]
    np.testing.assert_array_equal(data.pad_sequences(seqs), [[1, 2, 3], [0, 0, 4]])
    np.testing.assert_array_equal(data.pad_sequences(seqs, padding="post", max_len=4), [[1, 2, 3, 0], [4, 0, 0, 0]])
    with pytest.raises(ValueError, match="max_len must be >= the longest sequence"):
        data.pad_sequences(seqs, max_len=2)
    with pytest.raises(ValueError, match="expected one of \\['pre', 'post'\\], received 'middle'"):
        data.pad_sequences(seqs, padding="middle")
    encoded = data.one_hot(np.array([[0, 2]]), 3)
    assert encoded.shape == (1, 2, 3) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded[0], [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="ids must lie in"):
        data.one_hot(np.array([3]), 3)


def test_random_split_is_disjoint_covering_and_stratified():
    labels = np.repeat([0, 1], [80, 20])
    (train_i, train_y), (val_i, val_y), (test_i, test_y) = data.random_split(
        np.arange(100), labels, seed=0, fractions=(0.6, 0.2, 0.2), stratify=labels
    )
    assert sorted(np.concatenate([train_i, val_i, test_i]).tolist()) == list(range(100))
    assert (len(train_i), len(val_i), len(test_i)) == (60, 20, 20)
    assert train_y.mean() == val_y.mean() == test_y.mean() == 0.2


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.8, 0.1, 0.2), (1.0, 0.0, 0.0), (0.9, -0.1, 0.2)])
def test_bad_fractions_raise_value_error(fractions):
    with pytest.raises(ValueError, match="fractions must be 3 numbers > 0 summing to 1"):
        data.split_counts(100, fractions)


# ------------------------------------------------------------------------------ text


def test_corpus_is_offline_english_and_mostly_in_the_alphabet():
    corpus = data.load_corpus()
    assert len(corpus) > 100_000 and "statement" in corpus
    unknown = np.count_nonzero(data.char_vocab().encode(corpus) == 0)
    assert unknown < 100
    assert data.load_corpus(max_chars=50) == corpus[:50]


def test_split_text_is_contiguous():
    piece = "abcdefghijklmnopqrstuvwxyz" * 4
    train, val, test = data.split_text(piece, (0.5, 0.25, 0.25))
    assert train + val + test == piece
    assert (len(train), len(val), len(test)) == (52, 26, 26)


def test_next_char_windows_targets_are_inputs_shifted_by_one():
    ids = np.arange(20)
    inputs, targets = data.next_char_windows(ids, 5)
    assert inputs.shape == targets.shape == (3, 5) and inputs.dtype == np.int64
    np.testing.assert_array_equal(inputs[1], [5, 6, 7, 8, 9])
    np.testing.assert_array_equal(targets, inputs + 1)
    overlapping, _ = data.next_char_windows(ids, 5, stride=2)
    assert overlapping.shape == (8, 5)
    with pytest.raises(ValueError, match="at least seq_len \\+ 1 = 21 tokens, received 20"):
        data.next_char_windows(ids, 20)


def test_char_dataset_splits_and_vocab():
    char_data = data.char_dataset(32, max_chars=20_000)
    assert "".join(char_data.text) == data.load_corpus(20_000)
    for inputs, targets in (char_data.train, char_data.val, char_data.test):
        assert inputs.shape[1] == 32 and inputs.shape == targets.shape
        assert inputs.max() < len(char_data.vocab)


# ------------------------------------------------------------------------------ sentiment


def test_sentences_are_distinct_and_follow_the_rule():
    sentences, labels = data.sentiment_sentences(2000, seed=0)
    assert len(set(sentences)) == 2000 and labels.shape == (2000,) and labels.dtype == np.int64
    assert [data.rule_label(s) for s in sentences] == labels.tolist()
    assert 0.4 < labels.mean() < 0.6
    vocab = data.sentiment_vocab()
    ids = data.encode_sentences(sentences, vocab)
    assert ids.shape == (2000, sentiment.MAX_LEN) and ids.dtype == np.int64
    assert not (ids == vocab["<unk>"]).any()
    assert (ids[:, -1] != 0).all()  # "pre" padding: the last column is each sentence's last word


def test_negation_flips_the_label():
    assert data.rule_label("the film was good") == 1
    assert data.rule_label("the film was not good") == 0
    assert data.rule_label("the film was never boring") == 1
    assert data.rule_label("the film was good , not bad") == 1
    assert data.rule_label("the film was bad , not good") == 0
    assert data.rule_label("the film was not bad but really dull") == 0
    assert data.rule_label("the film was not bad although really dull") == 1
    with pytest.raises(ValueError, match="sentiment grammar"):
        data.rule_label("the film was")


def test_contrast_pairs_defeat_any_bag_of_words_model():
    from sklearn.linear_model import LogisticRegression

    first, second, first_labels, second_labels = data.contrast_pairs(200, seed=0)
    assert all(Counter(a.split()) == Counter(b.split()) for a, b in zip(first, second))
    np.testing.assert_array_equal(second_labels, 1 - first_labels)
    assert [data.rule_label(s) for s in second] == second_labels.tolist()
    vocab = data.sentiment_vocab()
    bags = [data.bag_of_words(data.encode_sentences(s, vocab), len(vocab)) for s in (first, second)]
    np.testing.assert_array_equal(bags[0], bags[1])
    # Any classifier of the bags predicts the same for both sentences of a pair: exactly one is right.
    train = data.sentiment_dataset(1000, seed=1).train
    model = LogisticRegression(max_iter=500).fit(data.bag_of_words(train[0], len(vocab)), train[1])
    correct = (model.predict(bags[0]) == first_labels).sum() + (model.predict(bags[1]) == second_labels).sum()
    assert correct == 200


def test_sentiment_dataset_splits_do_not_overlap():
    sentiment_data = data.sentiment_dataset(500, seed=0)
    train, val, test = (set(s) for s in sentiment_data.sentences)
    assert len(train) + len(val) + len(test) == 500
    assert not (train & val or train & test or val & test)
    for (x, y), sentences in zip((sentiment_data.train, sentiment_data.val, sentiment_data.test),
                                 sentiment_data.sentences):
        assert x.shape == (len(sentences), sentiment.MAX_LEN) and y.shape == (len(sentences),)
    with pytest.raises(ValueError, match="unknown kind: expected one of"):
        data.sentiment_sentences(10, seed=0, kinds=("sarcasm",))


# ------------------------------------------------------------------------------ dates


def test_every_format_renders_its_own_name():
    example = dt.date(2026, 11, 26)
    for name in dates.FORMATS:
        assert data.format_date(example, name) == name


def test_max_source_length_matches_the_formats():
    alphabet, longest = dates._source_alphabet_and_length()
    assert longest == dates.MAX_SOURCE_CHARS
    source_vocab, target_vocab = data.date_vocabs()
    assert all(ch in source_vocab for ch in alphabet + "年月日星期")
    assert len(target_vocab) == 4 + 11


def test_date_dataset_encoding_and_disjoint_splits():
    date_data = data.date_dataset(600, seed=0)
    split_dates = [set(targets) for _, targets in date_data.text]
    assert sum(map(len, split_dates)) == 600
    assert not (split_dates[0] & split_dates[1] or split_dates[0] & split_dates[2] or split_dates[1] & split_dates[2])
    source_ids, decoder_inputs, decoder_targets = date_data.train
    sources, targets = date_data.text.train
    assert source_ids.shape == (len(sources), dates.MAX_SOURCE_CHARS + 1) and source_ids.dtype == np.int64
    assert decoder_inputs.shape == decoder_targets.shape == (len(sources), 11)
    assert (decoder_inputs[:, 0] == date_data.target_vocab["<start>"]).all()
    assert (decoder_targets[:, -1] == date_data.target_vocab["<end>"]).all()
    np.testing.assert_array_equal(decoder_inputs[:, 1:], decoder_targets[:, :-1])
    assert data.decode_iso(decoder_targets) == targets
    assert date_data.source_vocab.decode(source_ids[0], skip_specials=True) == sources[0]
    assert (source_ids == date_data.source_vocab["<unk>"]).sum() == 0
    assert all(dt.date.fromisoformat(t) for t in targets)


def test_dates_bad_arguments():
    with pytest.raises(ValueError, match="unknown format: expected one of"):
        data.random_dates(5, seed=0, formats=["26/11/2026"])
    with pytest.raises(ValueError, match="start must be a date or an ISO string"):
        data.random_dates(5, seed=0, start="yesterday")
    with pytest.raises(ValueError, match="n_samples must be <= 3 distinct days"):
        data.random_dates(5, seed=0, start="2026-01-01", end="2026-01-03")
    sources, targets = data.random_dates(3, seed=0, formats=["2026年11月26日"], start="2026-01-01", end="2026-01-03")
    assert sorted(targets) == ["2026-01-01", "2026-01-02", "2026-01-03"] and all("年" in s for s in sources)


# ------------------------------------------------------------------------------ images


def test_digits_sequences_are_rows_in_stratified_disjoint_splits():
    splits = data.digits_sequences(seed=0)
    sizes = [len(y) for _, y in splits]
    assert sum(sizes) == 1797
    seen = set()
    for x, y in splits:
        assert x.shape[1:] == (8, 8) and x.dtype == np.float32 and y.dtype == np.int64
        assert x.min() == 0.0 and x.max() <= 1.0
        assert np.abs(np.bincount(y, minlength=10) / len(y) - 0.1).max() < 0.02
        rows = {image.tobytes() for image in x}
        assert not rows & seen  # the 1797 images are distinct, so no image is in two splits
        seen |= rows


def test_moving_digits_frame_t_plus_one_is_frame_t_moved():
    x, y = data.moving_digit_videos(40, seed=0, n_frames=5, canvas_size=12, n_directions=8)
    assert x.shape == (40, 5, 12, 12) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [5] * 8
    steps = list(images.DIRECTIONS.values())
    for video, label in zip(x, y):
        for t in range(4):
            np.testing.assert_array_equal(np.roll(video[t], steps[label], axis=(0, 1)), video[t + 1])
    flat, _ = data.moving_digit_videos(40, seed=0, n_frames=5, canvas_size=12, n_directions=8, flatten=True)
    np.testing.assert_array_equal(flat, x.reshape(40, 5, 144))


def test_one_moving_digit_frame_says_nothing_about_the_direction():
    from sklearn.linear_model import LogisticRegression

    x, y = data.moving_digit_videos(1600, seed=0, n_frames=4, canvas_size=12)
    frames = x[:, 2].reshape(len(x), -1)
    model = LogisticRegression(max_iter=200).fit(frames[:1200], y[:1200])
    assert model.score(frames[1200:], y[1200:]) < 0.35  # chance is 0.25


def test_moving_digits_bad_arguments():
    with pytest.raises(ValueError, match="canvas_size must be an int >= 8, received 6"):
        data.moving_digit_videos(4, seed=0, canvas_size=6)
    with pytest.raises(ValueError, match="unknown n_directions: expected one of \\[4, 8\\], received 3"):
        data.moving_digit_videos(4, seed=0, n_directions=3)


# ------------------------------------------------------------------------------ series


def test_load_stock_and_weather():
    stock_dates, prices = data.load_stock("IBM")
    assert prices.shape == stock_dates.shape == (123,) and prices.dtype == np.float32
    assert (np.diff(stock_dates) > np.timedelta64(0, "D")).all()
    assert len(data.load_stock("GOOG")[1]) == 68
    weather_dates, temp = data.load_weather("temp_max")
    assert temp.shape == (1461,) and weather_dates[0] == np.datetime64("2012-01-01")
    _, both = data.load_weather(["temp_max", "wind"])
    assert both.shape == (1461, 2) and both.dtype == np.float32
    with pytest.raises(ValueError, match=r"unknown symbol: expected one of \['AAPL'.*received 'TSLA'"):
        data.load_stock("TSLA")
    with pytest.raises(ValueError, match="unknown weather variable"):
        data.load_weather("humidity")


def test_make_windows_targets_follow_their_inputs():
    values = np.arange(30, dtype=np.float32).reshape(15, 2)
    x, y = data.make_windows(values, 4, horizon=2, target_columns=[1])
    assert x.shape == (10, 4, 2) and y.shape == (10, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[3], values[3:7])
    np.testing.assert_array_equal(y[3], values[8, [1]])
    with pytest.raises(ValueError, match="too short for window=14, horizon=2"):
        data.make_windows(values, 14, horizon=2)
    with pytest.raises(ValueError, match="window must be an int >= 1, received -3"):
        data.make_windows(values, -3)


def test_series_dataset_has_no_look_ahead():
    _, prices = data.load_stock("AAPL")
    window = 6
    series_data = data.series_dataset(prices, window, fractions=(0.6, 0.2, 0.2))
    index = series_data.target_index
    n_train = data.split_counts(len(prices), (0.6, 0.2, 0.2))[0]
    # The target of the last training window precedes the first validation and test targets.
    assert index.train.max() < index.val.min() <= index.val.max() < index.test.min()
    assert index.train.max() == n_train - 1 and index.test.max() == len(prices) - 1
    # The scaler's statistics come from the training period only.
    np.testing.assert_allclose(series_data.scaler.mean, [prices[:n_train].mean()], rtol=1e-5)
    np.testing.assert_allclose(series_data.scaler.std, [prices[:n_train].std()], rtol=1e-5)
    x_train, y_train = series_data.train
    scaled = series_data.scaler.transform(prices[:, None])
    np.testing.assert_allclose(y_train[:, 0], scaled[index.train, 0])
    np.testing.assert_allclose(x_train[-1, :, 0], scaled[index.train[-1] - window:index.train[-1], 0])
    restored = series_data.scaler.inverse_transform(series_data.test[1])
    np.testing.assert_allclose(restored[:, 0], prices[index.test], rtol=1e-5)


def test_persistence_forecast_and_walk_forward():
    _, temp = data.load_weather("temp_max")
    series_data = data.series_dataset(temp, 7)
    x, y = series_data.test
    forecast = data.persistence_forecast(x)
    np.testing.assert_array_equal(forecast, x[:, -1])
    assert forecast.shape == y.shape
    assert np.mean((forecast - y) ** 2) < np.var(y)  # yesterday beats the mean on daily temperature
    for train_index, test_index in data.walk_forward_splits(100, n_splits=4):
        assert train_index.max() < test_index.min()


def test_chronological_split_and_scaler_errors():
    train, val, test = data.chronological_split(np.arange(10), (0.6, 0.2, 0.2))
    assert train.tolist() == list(range(6)) and val.tolist() == [6, 7] and test.tolist() == [8, 9]
    with pytest.raises(ValueError, match="fitted"):
        data.Scaler().transform(np.ones(3))
    with pytest.raises(ValueError, match="leaves no training window"):
        data.series_dataset(np.arange(20.0), 14)


def test_seasonal_climatology_recovers_a_yearly_cycle_from_the_past_only():
    from rnnlab.data import seasonal_climatology, seasonal_harmonics

    dates = np.arange(np.datetime64("2012-01-01"), np.datetime64("2016-01-01"))
    features = seasonal_harmonics(dates, 2)
    assert features.shape == (len(dates), 4)
    truth = 10 + 8 * features[:, 1] - 2 * features[:, 2]
    split = 3 * 365
    forecast = seasonal_climatology(dates[:split], truth[:split], dates[split:])
    np.testing.assert_allclose(forecast, truth[split:], atol=1e-9)
    with pytest.raises(ValueError, match="shape of train_dates"):
        seasonal_climatology(dates[:10], truth[:9], dates)
    with pytest.raises(TypeError, match="datetime64"):
        seasonal_harmonics(np.arange(5))


def test_seasonal_harmonics_are_the_day_of_year_circle_and_climatology_is_least_squares():
    # 6.5 uses seasonal_harmonics(dates, 1) as its calendar features and seasonal_climatology as its
    # climatology baseline; both must equal the formulas its text states.
    from sklearn.linear_model import LinearRegression

    from rnnlab.data import seasonal_climatology, seasonal_harmonics

    dates, temp = data.load_weather("temp_max")
    day = (dates - dates.astype("datetime64[Y]")).astype(int)  # 0 on 1 January
    angle = 2 * np.pi * day / 365.25
    circle = seasonal_harmonics(dates, 1)
    np.testing.assert_allclose(circle, np.stack([np.sin(angle), np.cos(angle)], axis=1), atol=1e-12)
    np.testing.assert_allclose(circle[0], [0.0, 1.0], atol=1e-12)  # 2012-01-01
    design = seasonal_harmonics(dates, 2)
    np.testing.assert_allclose(design[:, 2:], np.stack([np.sin(2 * angle), np.cos(2 * angle)], axis=1), atol=1e-12)
    origin = 730  # two years of training days
    sklearn_fit = LinearRegression().fit(design[:origin], temp[:origin]).predict(design[origin:])
    np.testing.assert_allclose(seasonal_climatology(dates[:origin], temp[:origin], dates[origin:]), sklearn_fit,
                               rtol=1e-8, atol=1e-8)


def test_swap_phrases_gives_the_contrast_partner_and_is_its_own_inverse():
    from rnnlab.data.sentiment import swap_phrases

    sentences, labels = data.sentiment_sentences(300, seed=5, kinds=("but", "although", "correction"))
    for sentence, label in zip(sentences, labels):
        partner = swap_phrases(sentence)
        assert sorted(partner.split()) == sorted(sentence.split())  # the same words ...
        assert data.rule_label(partner) == 1 - label  # ... the opposite label
        assert swap_phrases(partner) == sentence
    with pytest.raises(ValueError, match="'but', 'although' or 'correction' sentence"):
        swap_phrases("the film was not good")


# ------------------------------------------------------------------------------ dates: padding and splits


def test_date_sources_are_padded_at_the_end_by_default():
    sources, targets = data.random_dates(20, seed=3)
    end = data.date_vocabs()[0]["<end>"]
    source_ids, _, _ = data.encode_dates(sources, targets)
    lengths = np.array([len(s) + 1 for s in sources])  # the characters and <end>
    assert ((source_ids != 0) == (np.arange(source_ids.shape[1]) < lengths[:, None])).all()
    assert (source_ids[np.arange(20), lengths - 1] == end).all()
    pre, _, _ = data.encode_dates(sources, targets, padding="pre")
    assert (pre[:, -1] == end).all()


def test_date_dataset_splits_are_consecutive_blocks_of_the_random_draw():
    date_data = data.date_dataset(100, seed=5, fractions=(0.6, 0.2, 0.2))
    sources, targets = data.random_dates(100, seed=5)
    assert [len(t) for _, t in date_data.text] == [60, 20, 20]
    assert date_data.text.train == (sources[:60], targets[:60])
    assert date_data.text.test == (sources[80:], targets[80:])
    assert data.date_dataset(100, seed=5, fractions=(0.6, 0.2, 0.2)).text == date_data.text
    with pytest.raises(ValueError, match="n_samples must be an int >= 3"):
        data.date_dataset(2, seed=0)


def test_date_dataset_does_not_import_scikit_learn():
    code = "import sys; from rnnlab.data import date_dataset; date_dataset(30, seed=0); print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_copy_task_recalls_each_symbol_delay_plus_n_copy_steps_later_and_baseline_is_over_t():
    # 6.6 states both: a symbol shown at step i is the target at step i + delay + n_copy, and the
    # memoryless loss is n_copy ln 8 / T with T = delay + 2 n_copy the sequence length.
    delay, n_copy = 6, 3
    x, y = data.copy_task(5, delay, seed=1, n_copy=n_copy)
    length = x.shape[1]
    assert length == delay + 2 * n_copy
    assert (x[:, n_copy:n_copy + delay - 1] == 0).all() and (x[:, n_copy + delay - 1] == 9).all()
    for i in range(n_copy):
        np.testing.assert_array_equal(y[:, i + delay + n_copy], x[:, i])
    assert math.isclose(data.copy_baseline_loss(delay, n_copy), n_copy * math.log(8) / length)
