"""Training data sets of the functional engine: scikit-learn's bundled digits (1,797 real 8×8
images, no download) as spike trains (:class:`RateDataset`), and framed event recordings
(:class:`FrameDataset`).

Split: ``train_test_split(test_size=450, random_state=0, stratify=labels)`` -> 1,347 train /
450 test, fixed.  Encoding: Bernoulli rate coding, pixel intensity p = value/16 in [0, 1], each
of the T steps emits a spike with probability p independently (``rng.random() < p``).  The
training loop draws fresh spikes for every mini-batch from the run's seeded generator; the
test set is encoded once from ``default_rng(test_seed)`` so every run sees the same test spikes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RateDataset:
    """Intensities in [0, 1]: ``x_train [N, *shape]``, labels ``[N]``; encoded on the fly."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    T: int
    test_seed: int = 0

    def encode(self, p: np.ndarray, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
        """``[B, *shape]`` intensities -> spikes ``[T, B, *shape]``."""
        return (rng.random((self.T,) + p.shape) < p[None]).astype(dtype)

    def test_spikes(self, dtype=np.float32) -> np.ndarray:
        return self.encode(self.x_test, np.random.default_rng(self.test_seed), dtype)


@dataclass
class FrameDataset:
    """Framed event recordings, already spikes (or counts): ``x_train [N, T, *shape]``, labels
    ``[N]``; :meth:`encode` only puts time first (the same interface as :class:`RateDataset`)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def encode(self, x: np.ndarray, rng: np.random.Generator | None = None, dtype=np.float32) -> np.ndarray:
        """``[B, T, *shape]`` frames -> ``[T, B, *shape]`` (``rng`` unused: nothing is drawn)."""
        return np.ascontiguousarray(np.moveaxis(x, 0, 1), dtype=dtype)

    def test_spikes(self, dtype=np.float32) -> np.ndarray:
        return self.encode(self.x_test, None, dtype)


def load_digits_spikes(T: int = 8, test_seed: int = 0) -> RateDataset:
    """The digits dataset as a :class:`RateDataset` with input shape ``(64,)``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float64)
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=450, random_state=0,
                                          stratify=d.target)
    return RateDataset(xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), T, test_seed)
