"""scikit-learn estimators over the Rust core (``deepclust._core``).

Each estimator follows scikit-learn's conventions: ``__init__`` only stores its parameters
(so ``get_params``/``set_params``, ``clone`` and ``GridSearchCV`` work), ``fit`` checks the
data with scikit-learn's own validation and sets the fitted attributes with a trailing
underscore, and the work runs in Rust with the GIL released (Ctrl-C stops it after the
current step with ``KeyboardInterrupt``). ``random_state`` takes an int (the seed the command
line's ``--seed`` takes: same int, same labels), a ``RandomState`` or ``None``. ``callback``
receives a dict per progress report; ``verbose`` prints them to stderr.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core

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
]

#: Range of k tried by ``n_clusters="auto"`` unless ``k_range`` says otherwise.
DEFAULT_K_RANGE = (2, 15)

_ESTIMATOR_FILE = "estimator.json"


def _seed(random_state) -> int:
    """The Rust seed: an int is used as it is (as ``--seed``), anything else draws one."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _clusters(value, k_range, name="n_clusters"):
    """An int, or ``(min, max)`` for ``"auto"``."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"{name} must be a positive int or 'auto', got {value!r}")
        lo, hi = k_range if k_range is not None else DEFAULT_K_RANGE
        if not (2 <= lo <= hi):
            raise ValueError(f"k_range must satisfy 2 <= min <= max, got {k_range!r}")
        return (int(lo), int(hi))
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int or 'auto', got {value!r}")
    return int(value)


def _rows(X):
    """C-contiguous float32 rows for the Rust core (a copy only when X is not that already)."""
    return np.ascontiguousarray(X, dtype=np.float32)


def _like(out, X):
    """Float outputs in the input's float type (scikit-learn's dtype-preserving convention)."""
    if getattr(X, "dtype", None) == np.float64:
        return out.astype(np.float64)
    return out


def _jsonable(params):
    out = {}
    for k, v in params.items():
        if isinstance(v, tuple):
            v = list(v)
        try:
            json.dumps(v)
        except TypeError:
            continue  # callbacks, RandomState, fitted estimators: not saved
        out[k] = v
    return out


class _Base(BaseEstimator):
    """What every estimator shares: validation, the seed, progress, save/load, pickle."""

    _fitted_attrs: tuple = ()

    def _validate(self, X, reset, min_samples=1):
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=min_samples,
        )

    def _progress(self):
        return {"callback": self.callback, "verbose": bool(self.verbose)}

    def _set_model(self, model):
        self.model_ = model

    def save(self, path):
        """Writes the fitted model into the folder ``path`` in the library's run format
        (``deepclust.load`` and the command line's loaders read it back), with the
        estimator's parameters in ``estimator.json``."""
        check_is_fitted(self)
        path = Path(path)
        params = _jsonable(self.get_params(deep=False))
        self.model_.save(str(path), json.dumps({"estimator": type(self).__name__, **params}))
        fitted = {a: getattr(self, a) for a in self._fitted_attrs if hasattr(self, a)}
        fitted = {
            k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in fitted.items()
        }
        (path / _ESTIMATOR_FILE).write_text(
            json.dumps(
                {
                    "class": type(self).__name__,
                    "params": params,
                    "fitted": fitted,
                    "n_features_in_": int(self.n_features_in_),
                },
                indent=1,
            )
        )
        return self

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        if "model_" in state:
            state["model_"] = {"__deepclust_run_files__": dict(self.model_.files())}
        return state

    def __setstate__(self, state):
        state = dict(state)
        model = state.get("model_")
        if isinstance(model, dict) and "__deepclust_run_files__" in model:
            state["model_"] = _core.Model.from_files(model["__deepclust_run_files__"])
        super().__setstate__(state)


class _ClusterBase(ClusterMixin, _Base):
    def predict(self, X):
        """The cluster of every row of X."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self.model_.predict(_rows(X))

    def fit_predict(self, X, y=None, **kwargs):
        return self.fit(X, y, **kwargs).labels_


class KMeans(TransformerMixin, _ClusterBase):
    """K-Means: k-means++ seeding, ``n_init`` restarts (the lowest inertia wins), Lloyd
    iterations on GEMM distances; scikit-learn's algorithm and defaults.

    ``n_clusters="auto"`` fits every k of ``k_range`` and keeps the highest silhouette
    (computed on at most 3,000 rows); ``silhouette_scores_`` lists them.
    """

    _fitted_attrs = ("inertia_", "n_iter_", "n_clusters_")

    def __init__(
        self,
        n_clusters=8,
        *,
        n_init=10,
        max_iter=300,
        tol=1e-4,
        k_range=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.k_range = k_range
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def _fit_args(self):
        return dict(n_init=int(self.n_init), max_iter=int(self.max_iter), tol=float(self.tol))

    def fit(self, X, y=None):
        X = self._validate(X, reset=True)
        k = _clusters(self.n_clusters, self.k_range)
        if isinstance(k, int) and k > X.shape[0]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={k}.")
        model, labels, info = _core.kmeans_fit(
            _rows(X), k, seed=_seed(self.random_state), **self._fit_args(), **self._progress()
        )
        self._set_model(model)
        self.labels_ = labels
        self.inertia_ = float(info["inertia"])
        self.n_iter_ = int(info["n_iter"])
        self.silhouette_scores_ = list(info["silhouette"])
        self._after_model()
        return self

    def _after_model(self):
        self.cluster_centers_ = self.model_.centers()
        self.n_clusters_ = self.cluster_centers_.shape[0]

    def transform(self, X):
        """Distance of every row to every centre."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return _like(self.model_.transform(_rows(X)), X)

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def score(self, X, y=None):
        """Minus the inertia of X (higher is better, as scikit-learn's)."""
        d = self.transform(X)
        return -float(np.sum(np.min(d, axis=1).astype(np.float64) ** 2))


class MiniBatchKMeans(KMeans):
    """Mini-batch K-Means (Sculley 2010) for data too large for full passes; ``max_iter``
    counts passes over the data, as scikit-learn's."""

    def __init__(
        self,
        n_clusters=8,
        *,
        batch_size=1024,
        max_iter=100,
        n_init=3,
        k_range=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_clusters = n_clusters
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_init = n_init
        self.k_range = k_range
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def _fit_args(self):
        return dict(
            n_init=int(self.n_init),
            max_iter=300,
            tol=1e-4,
            batch_size=int(self.batch_size),
            max_epochs=int(self.max_iter),
        )


class GaussianMixture(_ClusterBase):
    """A Gaussian mixture with full covariances, fitted by EM from K-Means starts;
    ``n_components="auto"`` keeps the highest silhouette over ``k_range``."""

    _fitted_attrs = ("converged_", "n_iter_", "lower_bound_")

    def __init__(
        self,
        n_components=1,
        *,
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        k_range=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_components = n_components
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.k_range = k_range
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def fit(self, X, y=None):
        X = self._validate(X, reset=True, min_samples=2)
        k = _clusters(self.n_components, self.k_range, "n_components")
        if isinstance(k, int) and k > X.shape[0]:
            raise ValueError(f"Expected n_samples >= n_components but got n_components = {k}, n_samples = {X.shape[0]}")
        model, labels, info = _core.gmm_fit(
            _rows(X),
            k,
            n_init=int(self.n_init),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            reg_covar=float(self.reg_covar),
            seed=_seed(self.random_state),
            **self._progress(),
        )
        self._set_model(model)
        self.labels_ = labels
        self.converged_ = bool(info["converged"])
        self.n_iter_ = int(info["n_iter"])
        self.lower_bound_ = float(info["lower_bound"])
        self.silhouette_scores_ = list(info["silhouette"])
        self._after_model()
        return self

    def _after_model(self):
        m = self.model_.mixture()
        self.weights_ = np.asarray(m["weights"])
        self.means_ = m["means"]
        flat, k, d = m["covariances"]
        self.covariances_ = np.asarray(flat).reshape(k, d, d)
        self.n_components_ = k

    def predict_proba(self, X):
        """Responsibility of every component for every row."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self.model_.predict_proba(_rows(X))


def _ae_args(dims, epochs, batch_size, optimizer, lr, momentum, seed, augment, image_shape, n_features):
    augment_args = None
    if augment:
        if image_shape is None:
            side = int(round(np.sqrt(n_features)))
            if side * side != n_features:
                raise ValueError(
                    f"augment needs images: pass image_shape=(height, width) for {n_features} features"
                )
            image_shape = (side, side)
        h, w = image_shape
        augment_args = (int(h), int(w), 0.1, 10.0)
    dims = [int(d) for d in dims]
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"hidden_dims must be positive widths, got {dims!r}")
    return dict(
        dims=dims,
        epochs=int(epochs),
        batch_size=int(batch_size),
        optimizer=str(optimizer),
        lr=float(lr),
        momentum=float(momentum),
        seed=seed,
        augment=augment_args,
    )


class _AeParams:
    """Turns an estimator's autoencoder parameters into the core's argument."""

    def _ae(self, n_features, seed):
        return _ae_args(
            self.hidden_dims,
            self.pretrain_epochs,
            self.pretrain_batch_size,
            self.pretrain_optimizer,
            self.pretrain_learning_rate,
            0.9,
            seed,
            self.augment,
            self.image_shape,
            n_features,
        )

    def _pretrained(self, n_features):
        ae = self.autoencoder
        if ae is None:
            return None
        if not isinstance(ae, Autoencoder):
            raise ValueError(f"autoencoder must be a fitted deepclust.Autoencoder, got {type(ae).__name__}")
        check_is_fitted(ae)
        if ae.n_features_in_ != n_features:
            raise ValueError(
                f"the autoencoder was fitted on {ae.n_features_in_} features, X has {n_features}"
            )
        return ae.model_


class Autoencoder(TransformerMixin, _Base):
    """A dense autoencoder (default: the DEC architecture d-500-500-2000-10, Adam); ``transform``
    gives the code. ``augment=True`` trains on shifted and rotated images (DEC-DA)."""

    _fitted_attrs = ("loss_curve_",)

    def __init__(
        self,
        hidden_dims=(500, 500, 2000, 10),
        *,
        epochs=200,
        batch_size=256,
        optimizer="adam",
        learning_rate=1e-3,
        momentum=0.9,
        augment=False,
        image_shape=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.augment = augment
        self.image_shape = image_shape
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def fit(self, X, y=None):
        X = self._validate(X, reset=True)
        ae = _ae_args(
            self.hidden_dims,
            self.epochs,
            self.batch_size,
            self.optimizer,
            self.learning_rate,
            self.momentum,
            _seed(self.random_state),
            self.augment,
            self.image_shape,
            X.shape[1],
        )
        self._set_model(_core.autoencoder_fit(_rows(X), ae, **self._progress()))
        self.loss_curve_ = list(self.model_.history())
        return self

    def transform(self, X):
        """The code of every row."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return _like(self.model_.transform(_rows(X)), X)

    def reconstruct(self, X):
        """The network's reconstruction of every row."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return _like(self.model_.reconstruct(_rows(X)), X)


class DEC(TransformerMixin, _AeParams, _ClusterBase):
    """Deep Embedded Clustering (Xie et al. 2016): an autoencoder pretrained (or given as
    ``autoencoder``, a fitted ``deepclust.Autoencoder``), K-Means on its code, then the encoder
    and centres fine-tuned towards the sharpened target distribution. ``transform`` gives the
    fine-tuned code, ``predict_proba`` the soft assignment."""

    _fitted_attrs = ("n_iter_",)
    _gamma = None

    def __init__(
        self,
        n_clusters=10,
        *,
        hidden_dims=(500, 500, 2000, 10),
        pretrain_epochs=200,
        pretrain_batch_size=256,
        pretrain_optimizer="adam",
        pretrain_learning_rate=1e-3,
        autoencoder=None,
        maxiter=20000,
        tol=1e-3,
        update_interval=140,
        learning_rate=0.01,
        batch_size=256,
        alpha=1.0,
        kmeans_n_init=20,
        augment=False,
        image_shape=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_batch_size = pretrain_batch_size
        self.pretrain_optimizer = pretrain_optimizer
        self.pretrain_learning_rate = pretrain_learning_rate
        self.autoencoder = autoencoder
        self.maxiter = maxiter
        self.tol = tol
        self.update_interval = update_interval
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.alpha = alpha
        self.kmeans_n_init = kmeans_n_init
        self.augment = augment
        self.image_shape = image_shape
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def _gamma_value(self):
        return None

    def fit(self, X, y=None):
        X = self._validate(X, reset=True, min_samples=2)
        k = _clusters(self.n_clusters, None)
        if not isinstance(k, int):
            raise ValueError("DEC needs a number of clusters; use N2D for n_clusters='auto'")
        if k > X.shape[0]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={k}.")
        seed = _seed(self.random_state)
        model, labels, info = _core.dec_fit(
            _rows(X),
            k,
            ae=self._ae(X.shape[1], seed),
            pretrained=self._pretrained(X.shape[1]),
            maxiter=int(self.maxiter),
            tol=float(self.tol),
            update_interval=int(self.update_interval),
            lr=float(self.learning_rate),
            batch_size=int(self.batch_size),
            alpha=float(self.alpha),
            gamma=self._gamma_value(),
            kmeans_n_init=int(self.kmeans_n_init),
            seed=seed,
            **self._progress(),
        )
        self._set_model(model)
        self.labels_ = labels
        self.n_iter_ = int(info["n_iter"])
        self.stop_reason_ = info["stop"]
        self._after_model()
        return self

    def _after_model(self):
        self.cluster_centers_ = self.model_.centers()

    def transform(self, X):
        """The fine-tuned code of every row."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return _like(self.model_.transform(_rows(X)), X)

    def predict_proba(self, X):
        """The Student's t soft assignment of every row to every cluster."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return _like(self.model_.predict_proba(_rows(X)), X)


class IDEC(DEC):
    """Improved DEC (Guo et al. 2017): DEC that keeps the reconstruction loss,
    ``MSE + gamma * KL``."""

    def __init__(
        self,
        n_clusters=10,
        *,
        gamma=0.1,
        hidden_dims=(500, 500, 2000, 10),
        pretrain_epochs=200,
        pretrain_batch_size=256,
        pretrain_optimizer="adam",
        pretrain_learning_rate=1e-3,
        autoencoder=None,
        maxiter=20000,
        tol=1e-3,
        update_interval=140,
        learning_rate=0.01,
        batch_size=256,
        alpha=1.0,
        kmeans_n_init=20,
        augment=False,
        image_shape=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        super().__init__(
            n_clusters,
            hidden_dims=hidden_dims,
            pretrain_epochs=pretrain_epochs,
            pretrain_batch_size=pretrain_batch_size,
            pretrain_optimizer=pretrain_optimizer,
            pretrain_learning_rate=pretrain_learning_rate,
            autoencoder=autoencoder,
            maxiter=maxiter,
            tol=tol,
            update_interval=update_interval,
            learning_rate=learning_rate,
            batch_size=batch_size,
            alpha=alpha,
            kmeans_n_init=kmeans_n_init,
            augment=augment,
            image_shape=image_shape,
            random_state=random_state,
            verbose=verbose,
            callback=callback,
        )
        self.gamma = gamma

    def _gamma_value(self):
        gamma = float(self.gamma)
        if not gamma > 0:
            raise ValueError(f"gamma must be positive, got {self.gamma!r}")
        return gamma


class N2D(TransformerMixin, _AeParams, _ClusterBase):
    """N2D (McConville et al. 2020): an autoencoder's code (pretrained, given as
    ``autoencoder``, or with ``use_autoencoder=False`` the rows as given), UMAP of it, then a
    Gaussian mixture on the layout. ``n_clusters="auto"`` keeps the highest silhouette over
    ``k_range``. New rows are placed in the layout as umap-learn's ``transform`` starts them.
    """

    _fitted_attrs = ("n_clusters_",)

    def __init__(
        self,
        n_clusters=10,
        *,
        k_range=None,
        n_neighbors=20,
        umap_dims=None,
        restarts=1,
        gmm_n_init=1,
        use_autoencoder=True,
        hidden_dims=(500, 500, 2000, 10),
        pretrain_epochs=200,
        pretrain_batch_size=256,
        pretrain_optimizer="adam",
        pretrain_learning_rate=1e-3,
        autoencoder=None,
        augment=False,
        image_shape=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.n_neighbors = n_neighbors
        self.umap_dims = umap_dims
        self.restarts = restarts
        self.gmm_n_init = gmm_n_init
        self.use_autoencoder = use_autoencoder
        self.hidden_dims = hidden_dims
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_batch_size = pretrain_batch_size
        self.pretrain_optimizer = pretrain_optimizer
        self.pretrain_learning_rate = pretrain_learning_rate
        self.autoencoder = autoencoder
        self.augment = augment
        self.image_shape = image_shape
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def fit(self, X, y=None):
        X = self._validate(X, reset=True, min_samples=3)
        k = _clusters(self.n_clusters, self.k_range)
        low = k if isinstance(k, int) else k[0]
        if low > X.shape[0]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={low}.")
        seed = _seed(self.random_state)
        pretrained = self._pretrained(X.shape[1])
        ae = self._ae(X.shape[1], seed) if self.use_autoencoder and pretrained is None else None
        model, labels, layout, info = _core.n2d_fit(
            _rows(X),
            k,
            ae=ae,
            pretrained=pretrained,
            n_neighbors=int(min(self.n_neighbors, X.shape[0] - 1)),
            restarts=int(self.restarts),
            gmm_n_init=int(self.gmm_n_init),
            umap_dims=None if self.umap_dims is None else int(self.umap_dims),
            seed=seed,
            **self._progress(),
        )
        self._set_model(model)
        self.labels_ = labels
        self.embedding_ = layout
        self.n_clusters_ = int(info["n_clusters"])
        self.bic_ = list(info["bic"])
        self.silhouette_scores_ = list(info["silhouette"])
        return self

    def transform(self, X):
        """The position of every row in the fitted UMAP layout."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return _like(self.model_.transform(_rows(X)), X)

    def fit_transform(self, X, y=None):
        return _like(self.fit(X).embedding_, np.asarray(X))

    def predict_proba(self, X):
        """The mixture's responsibility for every row, placed in the layout."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self.model_.predict_proba(_rows(X))


class UMAP(TransformerMixin, _Base):
    """UMAP (McInnes et al. 2018) as umap-learn computes it: fuzzy kNN graph, spectral
    start, SGD layout. ``transform`` places new rows as umap-learn's transform starts them
    (membership-weighted mean of their neighbours' positions)."""

    _fitted_attrs = ()

    def __init__(
        self,
        n_components=2,
        *,
        n_neighbors=15,
        min_dist=0.1,
        spread=1.0,
        n_epochs=None,
        learning_rate=1.0,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.spread = spread
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def fit(self, X, y=None):
        X = self._validate(X, reset=True, min_samples=3)
        rows = _rows(X)
        n_neighbors = int(min(self.n_neighbors, X.shape[0] - 1))
        self.embedding_ = _core.umap_fit_transform(
            rows,
            n_components=int(self.n_components),
            n_neighbors=n_neighbors,
            min_dist=float(self.min_dist),
            spread=float(self.spread),
            n_epochs=None if self.n_epochs is None else int(self.n_epochs),
            learning_rate=float(self.learning_rate),
            seed=_seed(self.random_state),
            **self._progress(),
        )
        self._raw_data = rows
        self.n_neighbors_ = n_neighbors
        return self

    def fit_transform(self, X, y=None):
        return _like(self.fit(X).embedding_, np.asarray(X))

    def transform(self, X):
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        placed = _core.umap_place(self._raw_data, self.embedding_, self.n_neighbors_, _rows(X))
        return _like(placed, X)

    def save(self, path):
        """Writes ``embedding.npy``, ``fitted.npy`` and ``estimator.json`` into ``path``."""
        check_is_fitted(self)
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "embedding.npy", self.embedding_)
        np.save(path / "fitted.npy", self._raw_data)
        (path / _ESTIMATOR_FILE).write_text(
            json.dumps(
                {
                    "class": "UMAP",
                    "params": _jsonable(self.get_params(deep=False)),
                    "fitted": {"n_neighbors_": self.n_neighbors_},
                    "n_features_in_": int(self.n_features_in_),
                }
            )
        )
        return self


_CLASSES = {
    c.__name__: c for c in (KMeans, MiniBatchKMeans, GaussianMixture, Autoencoder, DEC, IDEC, N2D, UMAP)
}
_BY_KIND = {
    "kmeans": KMeans,
    "gmm": GaussianMixture,
    "dec": DEC,
    "idec": IDEC,
    "n2d": N2D,
    "autoencoder": Autoencoder,
}


def load(path):
    """The fitted estimator saved in the folder ``path`` (by ``save``, or a run folder of the
    command line: ``kmeans --save-model``, ``dec --out``, ``n2d --save-model``)."""
    path = Path(path)
    meta_file = path / _ESTIMATOR_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else None
    if meta is not None and meta.get("class") == "UMAP":
        est = UMAP(**meta["params"])
        est.embedding_ = np.load(path / "embedding.npy")
        est._raw_data = np.load(path / "fitted.npy")
        est.n_neighbors_ = meta["fitted"]["n_neighbors_"]
        est.n_features_in_ = meta["n_features_in_"]
        return est
    model = _core.Model.load(str(path))
    if meta is not None:
        cls = _CLASSES[meta["class"]]
        est = cls(**meta["params"])
        for k, v in meta.get("fitted", {}).items():
            setattr(est, k, v)
    else:
        # A run folder of the command line: the estimator's defaults, with the model's own
        # number of clusters.
        cls = _BY_KIND.get(model.kind)
        if cls is None:
            raise ValueError(f"{path}: a {model.kind} run has no estimator class")
        est = cls()
        if model.kind != "autoencoder":
            k = int(np.asarray(model.centers()).shape[0])
            est.set_params(**{"n_components" if model.kind == "gmm" else "n_clusters": k})
    est.model_ = model
    est.n_features_in_ = model.n_features
    if hasattr(est, "_after_model"):
        est._after_model()
    return est
