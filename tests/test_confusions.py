"""Why characters are confused (lab/characters/confusions.py) against hand-built images."""
import re

import numpy as np
import pytest

from lab.characters import confusions


def blank():
    return np.zeros((28, 28))


def test_heaviest_region_by_hand():
    w = blank()
    w[20:28, 0:9] = 1.0  # 72 pixels in the bottom left
    w[0:9, 19:28] = 0.5  # 81 half pixels in the top right
    name, share = confusions.heaviest_region(w)
    assert name == "bottom left" and share == pytest.approx(72 / (72 + 40.5))


def test_pair_numbers_from_images_built_by_hand():
    """Two classes of images; the numbers must equal numpy's own correlations computed here."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=(10, 28, 28))
    labels = np.repeat(np.arange(10), 5)
    images = base[labels] + 0.3 * rng.normal(size=(50, 28, 28))
    predicted = labels.copy()
    predicted[[5, 6]] = 2  # two ki (class 1) read as su (class 2)
    weights = rng.normal(size=(10, 28, 28))
    rows = confusions.explain_pairs(images, labels, predicted, [("ki", "su", 2)], weights)
    row = rows[0]
    means = np.stack([images[labels == k].mean(0) for k in range(10)])
    r = np.corrcoef(means[1].ravel(), means[2].ravel())[0, 1]
    assert row["means_r"] == pytest.approx(r)
    all_r = np.corrcoef(means.reshape(10, -1))[np.triu_indices(10, 1)]
    assert row["pairs_less_alike"] == int((all_r < r).sum()) and row["pairs"] == 45
    mis_true = np.mean([np.corrcoef(images[i].ravel(), means[1].ravel())[0, 1] for i in (5, 6)])
    mis_chosen = np.mean([np.corrcoef(images[i].ravel(), means[2].ravel())[0, 1] for i in (5, 6)])
    right_true = np.mean([np.corrcoef(images[i].ravel(), means[1].ravel())[0, 1] for i in (7, 8, 9)])
    assert (row["misread_r_true"], row["misread_r_chosen"], row["right_r_true"]) == pytest.approx(
        (mis_true, mis_chosen, right_true))
    assert row["misread_examples"] == [5, 6] and row["count"] == 2 and row["of"] == 5
    assert set(row["typical_true"]) <= {7, 8, 9} and set(row["typical_chosen"]) <= {10, 11, 12, 13, 14}
    diff = weights[1] - weights[2]
    assert row["weight_for_true"][0] == confusions.heaviest_region(np.clip(diff, 0, None))[0]


def test_sentences_carry_the_rows_numbers():
    row = {"true": "ma", "chosen": "su", "count": 156, "of": 1000, "means_r": 0.8123, "pairs_less_alike": 42,
           "pairs": 45, "misread_r_true": 0.44, "misread_r_chosen": 0.43, "right_r_true": 0.58,
           "weight_for_true": ("bottom centre", 0.24), "weight_for_chosen": ("top right", 0.18)}
    text = confusions.pair_sentences("NetLin", row)[0]
    assert "156 times (15.6% of the 1000 ma's" in text and "correlate at 0.81" in text
    assert "less like the mean ma (r 0.44) than the ma's it reads right (r 0.58)" in text
    assert "about as much like the mean su (r 0.43)" in text
    assert "bottom centre of the picture (24%" in text and "top right (18%)" in text
    row.update(misread_r_true=0.70, misread_r_chosen=0.50)
    text = confusions.pair_sentences("NetLin", row)[0]
    assert "more like the mean ma (r 0.70)" in text and "less like the mean su (r 0.50)" in text
    row.update(misread_r_true=0.57, misread_r_chosen=0.57)
    assert "as much like the mean ma (r 0.57) as the ma's it reads right" in confusions.pair_sentences("x", row)[0]
    assert not re.search(r"speak for", confusions.pair_sentences("NetFull", {**row, "weight_for_true": None})[0])


def test_a_pair_without_misread_images_and_an_empty_class():
    """Tiny test sets: nothing misread, a class with no image; no error, and no sentence about what is missing."""
    rng = np.random.default_rng(1)
    labels = np.array([0, 0, 1, 1, 3])  # no ki... only o, ki, tsu; su (2) has no image
    images = rng.normal(size=(5, 28, 28))
    predicted = labels.copy()
    row = confusions.explain_pairs(images, labels, predicted, [("o", "su", 0)])[0]
    assert row["count"] == 0 and row["misread_r_true"] is None and row["misread_examples"] == []
    assert row["typical_chosen"] == [] and row["means_r"] == 0.0
    text = confusions.pair_sentences("NetLin", row)[0]
    assert "reads o as su 0 times" in text and "misread" not in text


def test_the_regions_are_rows_and_columns_0_to_8_9_to_18_and_19_to_27():
    w = blank()
    w[9, 9] = 1.0  # the first pixel of the middle row and column band
    assert confusions.heaviest_region(w) == ("middle centre", 1.0)
    w = blank()
    w[8, 18:20] = 1.0  # the last row of the top band; one pixel in the centre column band, one in the right
    w[8, 19:22] += 1.0  # ... and three more in the right: 4 of the 5
    assert confusions.heaviest_region(w) == ("top right", pytest.approx(4 / 5))


def test_examples_are_the_first_misread_and_the_most_typical_of_those_read_right():
    """Hand-picked examples: the first four misread ki's in index order; the ki's and su's read right, the most
    like their class's mean first (Pearson r, computed here with numpy); a su misread as ki is no example."""
    rng = np.random.default_rng(3)
    pattern = rng.normal(size=(10, 28, 28))
    labels = np.repeat(np.arange(10), 10)
    noise = np.tile(np.linspace(2.0, 0.2, 10), 10)  # the later images of each class are the less noisy
    images = pattern[labels] + noise[:, None, None] * rng.normal(size=(100, 28, 28))
    predicted = labels.copy()
    predicted[[10, 12, 13, 15, 16, 17]] = 2  # six ki's (class 1) read as su
    predicted[29] = 1  # the clearest su read as ki
    weights = np.zeros((10, 28, 28))
    weights[1, 0:9, 0:9] = 1.0  # w_ki - w_su: positive top left, negative bottom right
    weights[2, 19:28, 19:28] = 2.0
    row = confusions.explain_pairs(images, labels, predicted, [("ki", "su", 6)], weights)[0]
    assert row["misread_examples"] == [10, 12, 13, 15]
    means = np.stack([images[labels == k].mean(0) for k in range(10)])

    def most_typical(indices, k):
        r = [np.corrcoef(images[i].ravel(), means[k].ravel())[0, 1] for i in indices]
        return [indices[j] for j in np.argsort(r)[::-1][:2]]

    assert row["typical_true"] == most_typical([11, 14, 18, 19], 1)
    assert row["typical_chosen"] == most_typical(list(range(20, 29)), 2)
    assert row["weight_for_true"] == ("top left", 1.0) and row["weight_for_chosen"] == ("bottom right", 1.0)


def test_a_misread_image_a_little_more_like_the_chosen_mean_is_about_as_much_like_it():
    row = {"true": "ma", "chosen": "su", "count": 1, "of": 10, "means_r": 0.5, "pairs_less_alike": 1, "pairs": 45,
           "misread_r_true": 0.44, "misread_r_chosen": 0.45, "right_r_true": 0.44}
    text = confusions.pair_sentences("NetFull", row)[0]
    assert "as much like the mean ma (r 0.44) as the ma's it reads right" in text
    assert "about as much like the mean su (r 0.45)" in text
    text = confusions.pair_sentences("NetFull", {**row, "misread_r_chosen": 0.47})[0]
    assert "more like the mean su (r 0.47)" in text
