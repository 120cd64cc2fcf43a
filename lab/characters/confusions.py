"""Why characters are confused: the most-confused pairs of a net, measured on the test images.

For a pair (true t, chosen c) it measures
- how alike the two characters are on average: the Pearson correlation of
  their mean test images, and how many of the 45 pairs of characters are
  less alike;
- whether the misread t's are atypical: the mean correlation of the misread
  images with the mean t and with the mean c, against that of the t's the
  net reads right with the mean t;
- for NetLin, the pixels that decide between t and c: the difference of the
  two classes' weight images w_t - w_c (positive pixels speak for t), and
  which of the picture's 3x3 regions holds most of its positive and of its
  negative part.
``pair_sentences`` writes these numbers as sentences.
"""
import numpy as np

from lab.characters import kmnist

TYPICAL = 2  # correctly read examples of each class shown beside the misread ones
MISREAD = 4  # misread examples shown per pair
SAME = 0.02  # correlations closer than this count as "about as much"


def _corr_with(images, template):
    """Pearson correlation of each flattened image with a template image."""
    if len(images) == 0:
        return np.zeros(0)
    x = images.reshape(len(images), -1)
    x = x - x.mean(1, keepdims=True)
    t = template.ravel() - template.mean()
    denom = np.linalg.norm(x, axis=1) * np.linalg.norm(t)
    return (x @ t) / np.where(denom > 0, denom, 1.0)


BANDS = ((0, 9), (9, 19), (19, 28))  # rows (and columns) of the top, middle and bottom (left, centre, right)
ROWS, COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")


def heaviest_region(weights):
    """Of the 3x3 regions of a non-negative 28x28 image, the one holding most of its mass: (name, share)."""
    total = weights.sum()
    if total <= 0:
        return None
    shares = np.array([[weights[r0:r1, c0:c1].sum() / total for c0, c1 in BANDS] for r0, r1 in BANDS])
    r, c = np.unravel_index(np.argmax(shares), shares.shape)
    return f"{ROWS[r]} {COLUMNS[c]}", float(shares[r, c])


def class_means(images, labels):
    """The mean test image of each class (10, 28, 28)."""
    empty = np.zeros(images.shape[1:])
    return np.stack([images[labels == k].mean(0) if (labels == k).any() else empty
                     for k in range(len(kmnist.CLASSES))])


def mean_correlations(means):
    """10x10 Pearson correlations between the classes' mean images."""
    flat = means.reshape(len(means), -1)
    flat = flat - flat.mean(1, keepdims=True)
    size = np.linalg.norm(flat, axis=1)
    size = np.where(size > 0, size, 1.0)  # a class without images (or a blank mean) correlates 0 with every other
    unit = flat / size[:, None]
    return unit @ unit.T


def explain_pair(images, labels, predicted, means, corr, pair, weights=None):
    """The measurements for one confused pair (true name, chosen name, count) as a dict of plain values."""
    t, c = kmnist.CLASSES.index(pair[0]), kmnist.CLASSES.index(pair[1])
    misread = np.nonzero((labels == t) & (predicted == c))[0]
    right = np.nonzero((labels == t) & (predicted == t))[0]
    right_c = np.nonzero((labels == c) & (predicted == c))[0]
    upper = corr[np.triu_indices(len(corr), 1)]
    own = _corr_with(images[misread], means[t])
    out = {"true": pair[0], "chosen": pair[1], "count": int(pair[2]), "of": int((labels == t).sum()),
           "means_r": float(corr[t, c]), "pairs_less_alike": int((upper < corr[t, c]).sum()), "pairs": len(upper),
           "misread_r_true": float(own.mean()) if len(misread) else None,
           "misread_r_chosen": float(_corr_with(images[misread], means[c]).mean()) if len(misread) else None,
           "right_r_true": float(_corr_with(images[right], means[t]).mean()) if len(right) else None,
           "misread_examples": misread[:MISREAD].tolist(),
           "typical_true": right[np.argsort(-_corr_with(images[right], means[t]))[:TYPICAL]].tolist(),
           "typical_chosen": right_c[np.argsort(-_corr_with(images[right_c], means[c]))[:TYPICAL]].tolist()}
    if weights is not None:
        diff = weights[t] - weights[c]
        out["weight_for_true"] = heaviest_region(np.clip(diff, 0, None))
        out["weight_for_chosen"] = heaviest_region(np.clip(-diff, 0, None))
    return out


def explain_pairs(images, labels, predicted, pairs, weights=None):
    """Every confused pair's measurements; images (N, 28, 28) numpy, weights (10, 28, 28) for NetLin."""
    means = class_means(images, labels)
    corr = mean_correlations(means)
    return [explain_pair(images, labels, predicted, means, corr, pair, weights) for pair in pairs]


def linear_weights(model):
    """NetLin's weight images (10, 28, 28), or None for another net."""
    layer = getattr(model, "out", None)
    if type(model).__name__ != "NetLin" or layer is None:
        return None
    return layer.weight.detach().cpu().numpy().reshape(-1, 28, 28)


def pair_sentences(net, row):
    """Sentences for one pair, every number taken from ``row``."""
    t, c = row["true"], row["chosen"]
    share = f"{row['count'] / row['of']:.1%}" if row["of"] else "none"
    out = [f"{net} reads {t} as {c} {row['count']} times ({share} of the {row['of']} "
           f"{t}'s in the test set). The two characters' mean images correlate at {row['means_r']:.2f}: more alike "
           f"than {row['pairs_less_alike']} of the {row['pairs']} pairs of characters."]
    if None not in (row["right_r_true"], row["misread_r_true"], row["misread_r_chosen"]):
        mine, theirs, usual = row["misread_r_true"], row["misread_r_chosen"], row["right_r_true"]
        typical = ("less like the mean" if mine < usual - SAME else "as much like the mean" if mine <= usual + SAME
                   else "more like the mean")
        lean = ("more like the mean" if theirs > mine + SAME else "about as much like the mean"
                if theirs >= mine - SAME else "less like the mean")
        than = "as" if typical.startswith("as much") else "than"
        out.append(f"The misread {t}'s look {typical} {t} (r {mine:.2f}) {than} the {t}'s it reads right (r "
                   f"{usual:.2f}), and {lean} {c} (r {theirs:.2f}).")
    if row.get("weight_for_true") and row.get("weight_for_chosen"):
        (where_t, share_t), (where_c, share_c) = row["weight_for_true"], row["weight_for_chosen"]
        out.append(f"In {net}'s weights, the pixels that speak for {t} over {c} lie most in the {where_t} of the "
                   f"picture ({share_t:.0%} of their weight, of 9 regions), those that speak for {c} in the {where_c} "
                   f"({share_c:.0%}).")
    return [" ".join(out)]
