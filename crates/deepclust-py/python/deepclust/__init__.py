"""deepclust: unsupervised deep clustering with scikit-learn estimators over a Rust core.

    >>> import deepclust
    >>> km = deepclust.KMeans(n_clusters=10, random_state=0).fit(X)
    >>> deepclust.nmi(y, km.labels_)

Estimators: ``KMeans``, ``MiniBatchKMeans``, ``GaussianMixture``, ``Autoencoder``, ``DEC``,
``IDEC``, ``N2D``, ``UMAP``; ``load(path)`` reads a saved one back. Metrics: ``nmi``,
``acc``, ``ari``. The photo organizer: ``organize(photos, out, by=[...], dry_run=True)``.
"""

from __future__ import annotations

import json
from os import PathLike
from typing import Callable, Iterable, Optional, Union

import numpy as np

from . import _core
from ._estimators import (
    DEC,
    IDEC,
    N2D,
    UMAP,
    Autoencoder,
    GaussianMixture,
    KMeans,
    MiniBatchKMeans,
    load,
)

__version__ = _core.__version__

__all__ = [
    "KMeans",
    "MiniBatchKMeans",
    "GaussianMixture",
    "Autoencoder",
    "DEC",
    "IDEC",
    "N2D",
    "UMAP",
    "load",
    "nmi",
    "acc",
    "ari",
    "organize",
]


def _labels(name, labels):
    a = np.asarray(labels)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.dtype.kind not in "iub":
        if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            # Any hashable labels (strings, ...): their codes.
            _, a = np.unique(a, return_inverse=True)
    return a.astype(np.int64).tolist()


def nmi(labels_true, labels_pred) -> float:
    """Normalized mutual information (arithmetic normalisation, scikit-learn's default)."""
    return _core.nmi(_labels("labels_true", labels_true), _labels("labels_pred", labels_pred))


def acc(labels_true, labels_pred) -> float:
    """Clustering accuracy: the share of rows right under the best one-to-one matching of
    clusters to classes (Hungarian algorithm)."""
    return _core.acc(_labels("labels_true", labels_true), _labels("labels_pred", labels_pred))


def ari(labels_true, labels_pred) -> float:
    """Adjusted Rand index."""
    return _core.ari(_labels("labels_true", labels_true), _labels("labels_pred", labels_pred))


def organize(
    photos: Union[str, PathLike],
    out: Union[str, PathLike],
    by: Iterable[str] = ("date",),
    dry_run: bool = True,
    *,
    link: str = "symlink",
    seed: int = 7,
    n_albums: Optional[int] = None,
    embedding: str = "auto",
    models: Iterable[Union[str, PathLike]] = (),
    duplicates: bool = False,
    html: bool = True,
    verbose: bool = False,
    callback: Optional[Callable[[dict], None]] = None,
) -> dict:
    """Organizes the photo folder ``photos`` into ``out`` by ``date``, ``event``, ``place``,
    ``content`` and ``people`` (links or copies; an original is never modified, moved or
    deleted). With ``dry_run`` (the default) nothing is written and the returned report's
    ``plan`` lists every link that would be made, with its reason.

    Returns the report as a dict: photos, skipped files with reasons, content albums,
    persons, links made or failed, and ``plan``.
    """
    text = _core.organize(
        str(photos),
        str(out),
        [str(b) for b in by],
        bool(dry_run),
        str(link),
        int(seed),
        None if n_albums is None else int(n_albums),
        str(embedding),
        [str(m) for m in models],
        bool(duplicates),
        bool(html),
        callback=callback,
        verbose=bool(verbose),
    )
    return json.loads(text)
