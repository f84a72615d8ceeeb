"""Linear probe: how well a linear read-out of a layer classifies images.

Features (:func:`channel_mean_features`): each channel of the layer averaged
over its spatial positions (a ResNet's global average pool; for a ResNet-18
whose layer is ``layer4.1`` these are exactly the pooled 512-d features that
SimCLR's linear evaluation reads). Averaging keeps the probe's size independent
of the input resolution (512 features at 64 or 224 px) and the features of
12,000 images small enough to cache.

Classifier (:func:`linear_probe`): features standardised with the training
images' mean and standard deviation, then multinomial logistic regression
(scikit-learn, L2 penalty ``C``, L-BFGS), fitted on the training images only
and scored on the held-out test images. The error is the binomial standard
error of the test accuracy.
"""
from __future__ import annotations

import numpy as np

#: L2 inverse penalty of the logistic regression, on standardised features.
C = 1.0
MAX_ITER = 2000


def _pool_by_channel(values: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """(n, units) -> (n, channels): mean over the units of each channel."""
    labels, inverse = np.unique(np.asarray(channels), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(inverse[order])) + 1]
    sums = np.add.reduceat(np.asarray(values, dtype=np.float64)[:, order], starts, axis=1)
    return (sums / np.bincount(inverse)[None, :]).astype(np.float32)


def channel_mean_features(model, stimuli, region: str, progress: bool = True) -> np.ndarray:
    """(n_stimuli, channels) float32: the region's layer averaged over space, per channel.

    A :class:`topobench.model_interface.PytorchModel` is read batch by batch and
    the pooled features are cached (``topobench.activation_cache``, keyed like
    the model's own activations with the layer named ``<layer>|channel_mean``);
    any other model is recorded with ``model.record`` and pooled by its
    ``channel`` coordinate.
    """
    layer = model.layer(region) if hasattr(model, "layer") else model.regions[region]
    if not (hasattr(model, "iter_activations") and hasattr(model, "layer_shape")):
        assembly = model.record(stimuli, region)
        return _pool_by_channel(assembly.values, assembly["channel"].values)
    from topobench.activation_cache import ActivationCache
    cache = ActivationCache() if getattr(model, "cache", False) else None
    key = None
    if cache is not None:
        key = cache.key(model.weights_sha256, stimuli.content_hash, model.preprocessing, f"{layer}|channel_mean")
        cached = cache.load(key)
        if cached is not None:
            return cached
    channels, height, width = model.layer_shape(layer)
    chunks = [values.reshape(len(values), channels, height * width).mean(axis=2)
              for _, values in model.iter_activations(stimuli, layer, progress)]
    features = np.concatenate(chunks).astype(np.float32)
    if cache is not None:
        cache.save(key, features, {"model": model.identifier, "stimuli": stimuli.identifier,
                                   "layer": layer, "reduction": "channel_mean"})
    return features


def linear_probe(train_features, train_labels, test_features, test_labels, C: float = C,
                 max_iter: int = MAX_ITER) -> dict:
    """Fit on the training set, score on the test set (see the module docstring).

    Returns ``accuracy`` (test), ``error`` (binomial standard error),
    ``train_accuracy``, ``chance`` (1 / number of classes), ``per_class_accuracy``
    (class -> test accuracy), ``n_train``, ``n_test``, ``n_features``, ``converged``.
    """
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    train_features = np.asarray(train_features, dtype=np.float64)
    test_features = np.asarray(test_features, dtype=np.float64)
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    classifier = LogisticRegression(C=float(C), max_iter=int(max_iter))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        classifier.fit((train_features - mean) / std, train_labels)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    predicted = classifier.predict((test_features - mean) / std)
    correct = predicted == test_labels
    accuracy = float(correct.mean())
    classes = np.unique(np.concatenate([train_labels, test_labels]))
    return {
        "accuracy": accuracy,
        "error": float(np.sqrt(accuracy * (1 - accuracy) / len(test_labels))),
        "train_accuracy": float(classifier.score((train_features - mean) / std, train_labels)),
        "chance": 1.0 / len(classes),
        "per_class_accuracy": {str(c): float(correct[test_labels == c].mean()) for c in classes
                               if np.any(test_labels == c)},
        "n_train": int(len(train_labels)), "n_test": int(len(test_labels)),
        "n_features": int(train_features.shape[1]), "C": float(C), "converged": converged,
    }
