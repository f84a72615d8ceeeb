"""Projected features: a PCA fitted on imagenet_sample through batch-wise activations,
a sparse sketch for large layers, cached projections and features."""
import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import topobench.nets
from topobench.errors import ModelError
from topobench.features import (FittedProjection, ProjectionSpec, fit_projection, imagenet_sample_stimuli,
                                projected_features, sparse_sketch)
from topobench.model_interface import PytorchModel

SPEC = ProjectionSpec(n_fit_images=120)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield


def _model(region_layers=None):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-32px",
                        region_layers=region_layers or {"V4": "layer3.1"}, visual_degrees=8.0, image_size=32)


@pytest.fixture(scope="module")
def stimuli():
    import os
    if not os.environ.get("TOPOBENCH_DATA_URL"):
        pytest.fail("no data host: set TOPOBENCH_DATA_URL", pytrace=False)
    from topobench.reference_data.cowley2023 import cowley2023_stimuli
    from topobench.stimuli.base import subset
    full = cowley2023_stimuli("210325")
    return subset(full, np.arange(len(full)) < 40)


def test_sparse_sketch_is_seeded_sparse_and_keeps_norms():
    sketch = sparse_sketch(10_000, 512, seed=0)
    assert sketch.shape == (10_000, 512)
    assert sketch.nnz == pytest.approx(np.sqrt(10_000) * 512, rel=0.05)
    assert (sketch != sparse_sketch(10_000, 512, seed=0)).nnz == 0
    assert (sketch != sparse_sketch(10_000, 512, seed=1)).nnz > 0
    x = np.random.default_rng(0).normal(size=(20, 10_000)).astype(np.float32)
    ratio = np.linalg.norm(x @ sketch, axis=1) / np.linalg.norm(x, axis=1)
    assert np.all(np.abs(ratio - 1) < 0.15)


def test_imagenet_fit_set_is_square_and_seeded(data_host):
    fit = imagenet_sample_stimuli(n_images=30, seed=0)
    assert len(fit) == 30 and fit["stimulus_id"].is_unique
    assert list(fit["stimulus_id"]) == list(imagenet_sample_stimuli(n_images=30, seed=0)["stimulus_id"])
    from PIL import Image
    with Image.open(fit.get_stimulus(fit["stimulus_id"][0])) as image:
        assert image.size == (144, 144)


def test_projection_is_the_pca_of_the_fit_images(data_host):
    model = _model()
    projection = fit_projection(model, "layer3.1", SPEC, progress=False, cache=False)
    fit = imagenet_sample_stimuli(SPEC.fit_degrees, SPEC.n_fit_images, SPEC.seed)
    activations = model.activations(fit, "layer3.1", progress=False).astype(np.float64)
    assert not projection.sketched and projection.n_units == 256 * 2 * 2
    assert projection.n_components == 119  # the rank of 120 centred images
    centred = activations - activations.mean(axis=0)
    _, s, Vt = np.linalg.svd(centred, full_matrices=False)
    assert np.allclose(np.abs(projection.components[:10]), np.abs(Vt[:10]), atol=1e-4)
    assert np.allclose(projection.explained_variance[:10], s[:10] ** 2 / 119, rtol=1e-4)
    # projected features of the fit images are their principal-component scores
    scores = projection.transform(activations.astype(np.float32))
    assert np.allclose(np.abs(scores[:, :5]), np.abs(centred @ Vt[:5].T), atol=1e-3 * s[0])


def test_large_layers_are_sketched_batch_by_batch(stimuli):
    spec = ProjectionSpec(n_fit_images=120, sketch_dim=256)
    model = _model()
    features, projection = projected_features(model, stimuli, "V4", spec, progress=False)
    assert projection.sketched and projection.components.shape == (119, 256)
    assert features.shape == (40, 119) and features.dtype == np.float32
    direct = model.activations(stimuli, "layer3.1", progress=False)
    assert np.allclose(features, projection.transform(direct), atol=1e-4)


def test_features_and_projection_are_cached(stimuli, tmp_path):
    model = _model()
    first, projection = projected_features(model, stimuli, "V4", SPEC, progress=False)

    def no_forward_pass(*args, **kwargs):
        raise AssertionError("a cached projection and cached features need no forward pass")

    cached_model = _model()
    cached_model.iter_activations = no_forward_pass
    again, _ = projected_features(cached_model, stimuli, "V4", SPEC, progress=False)
    assert np.array_equal(first, again)
    other, _ = projected_features(model, stimuli, "V4", ProjectionSpec(n_fit_images=100), progress=False)
    assert other.shape == (40, 99)  # another projection is not served from the cache
    projection.save(tmp_path / "p.npz")
    loaded = FittedProjection.load(tmp_path / "p.npz")
    assert loaded.spec == SPEC and np.array_equal(loaded.components, projection.components)
    assert loaded.fit_hash == projection.fit_hash


def test_model_without_the_region_fails(stimuli):
    with pytest.raises(ModelError, match="V4"):
        projected_features(_model({"V1": "layer2.0"}), stimuli, "V4", SPEC, progress=False)
