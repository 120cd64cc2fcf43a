"""The pairs figure (lab/characters/pair_plots.py) against images and weights built by hand.

The figure is caught before it is saved and its pictures read back: each
cell must show the hand-known picture, the difference cells must be red where
the true character is darker (larger) and blue where the chosen one is, with
a colour scale centred on 0, and the misread examples must carry red frames.
"""
import numpy as np
import pytest

from lab.characters import pair_plots

T, C = 1, 2  # ki read as su


@pytest.fixture
def drawn(monkeypatch, tmp_path):
    """Draw one pair's row (ki -> su) of hand-built images and weights; gives (figure, images, weights)."""
    images = np.zeros((12, 28, 28))
    labels = np.repeat(np.arange(6), 2)  # two images each of o, ki, su, tsu, na, ha
    images[labels == T, 0:9, 0:9] = 1.0  # every ki: ink in the top left only
    images[labels == C, 19:28, 19:28] = 0.5  # every su: fainter ink in the bottom right only
    images[2, 14, 14] = 0.5  # the first ki also has a dot in the middle: mean ki there 0.25
    for i in range(len(images)):
        images[i, 27, i] += 0.01 * (i + 1)  # a mark that tells every image apart
    weights = np.zeros((10, 28, 28))
    weights[T, 0, 0], weights[C, 27, 27] = 3.0, 2.0  # w_ki - w_su: +3 top left, -2 bottom right
    caught = {}
    monkeypatch.setattr(pair_plots, "save_figure", lambda fig, path, **kw: caught.setdefault("fig", fig) and path)
    row = {"true": "ki", "chosen": "su", "misread_examples": [3, 2], "typical_true": [2], "typical_chosen": [5]}
    pair_plots.plot_pairs(images, labels, [row], "lin", str(tmp_path / "pairs.jpg"), weights)
    yield caught["fig"], images, weights
    pair_plots.pyplot().close(caught["fig"])  # not saved, so not closed by save_figure


def cells(fig):
    """The figure's axes in order, each as (its picture or None, its title, its AxesImage or None)."""
    out = []
    for ax in fig.axes:
        shown = ax.get_images()
        out.append((np.asarray(shown[0].get_array()) if shown else None, ax.get_title(), shown[0] if shown else None,
                    ax))
    return out


def test_each_cell_shows_its_picture(drawn):
    fig, images, weights = drawn
    drawn_cells = cells(fig)
    mean_t = np.zeros((28, 28))
    mean_t[0:9, 0:9] = 1.0
    mean_t[14, 14] = 0.25
    mean_t[27, 2], mean_t[27, 3] = 0.03 / 2, 0.04 / 2
    mean_c = np.zeros((28, 28))
    mean_c[19:28, 19:28] = 0.5
    mean_c[27, 4], mean_c[27, 5] = 0.05 / 2, 0.06 / 2
    expected = [(mean_t, "mean ki"), (mean_c, "mean su"), (mean_t - mean_c, "ki - su"),
                (weights[T] - weights[C], "w ki - w su"), (images[3], "ki -> su"), (images[2], "ki -> su"),
                (images[2], "ki (right)"), (images[5], "su (right)")]
    assert len(drawn_cells) == len(expected)  # 3 + the weights + 2 misread + 1 + 1 examples: no empty cell
    for (picture, title, _, _), (want, want_title) in zip(drawn_cells, expected):
        assert title == want_title
        np.testing.assert_allclose(picture, want, atol=1e-12)


def red_minus_blue(image, value):
    r, _, b, _ = image.to_rgba(np.array([[value]]))[0, 0]
    return r - b


def test_differences_are_red_where_the_true_character_is_darker(drawn):
    fig = drawn[0]
    for _, title, image, _ in cells(fig)[2:4]:  # the mean difference and the weight difference
        low, high = image.get_clim()
        assert low == pytest.approx(-high) and high > 0, title  # white at 0: the scale is centred
        assert red_minus_blue(image, high) > 0.2, title  # larger in the true character: red
        assert red_minus_blue(image, low) < -0.2, title  # larger in the chosen one: blue
    # the mean difference: +1 in the top left (ki's ink), -0.5 in the bottom right (su's): the scale is +-1
    image = cells(fig)[2][2]
    assert image.get_clim() == pytest.approx((-1.0, 1.0))
    assert red_minus_blue(image, image.get_array()[4, 4]) > 0.2
    assert red_minus_blue(image, image.get_array()[23, 23]) < -0.2
    weights_image = cells(fig)[3][2]
    assert weights_image.get_clim() == pytest.approx((-3.0, 3.0))
    assert red_minus_blue(weights_image, weights_image.get_array()[0, 0]) > 0.2


def test_misread_examples_have_red_frames_and_the_others_none(drawn):
    fig = drawn[0]
    for index, (_, title, _, ax) in enumerate(cells(fig)):
        colours = {tuple(np.round(spine.get_edgecolor(), 3)) for spine in ax.spines.values()}
        if index in (4, 5):
            assert colours == {(1.0, 0.0, 0.0, 1.0)} and ax.title.get_color() == "red", title
        else:
            assert (1.0, 0.0, 0.0, 1.0) not in colours, title
