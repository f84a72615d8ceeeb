"""Tests of CIFAR10.engineering-linear_probe: registration, the pinned score of a fixed seeded
model on a small subset (raise the benchmark's version when it changes), chance level for
shuffled labels, and its errors."""
import numpy as np
import pytest

import topobench.nets
from topobench.benchmarks.cifar10_probe.benchmark import CIFAR10LinearProbe, cifar10_stimuli
from topobench.errors import ModelError
from topobench.metrics.linear_probe import _pool_by_channel, linear_probe
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), "test-resnet18-seed0-64px",
                        region_layers, visual_degrees=8.0, image_size=64)


def test_registered_in_the_engineering_family():
    benchmark = benchmark_registry["CIFAR10.engineering-linear_probe"]()
    assert benchmark.identifier == "CIFAR10.engineering-linear_probe"
    assert benchmark.parent == "engineering" and benchmark.family == "engineering"
    assert benchmark.report_only is False and benchmark.version == 1
    assert benchmark.datasets == ("cifar10",)
    assert (benchmark.n_train, benchmark.n_test, benchmark.image_degrees) == (10_000, 2_000, 8.0)
    assert "Krizhevsky" in benchmark.bibtex


def test_pinned_score_of_seeded_untrained_resnet18_on_a_small_subset():
    score = CIFAR10LinearProbe(n_train=300, n_test=100)(_model({"VTC": "layer4.1"}))
    details = score.attrs["details"]
    assert float(score) == pytest.approx(0.19, abs=0.001)  # 19 of 100 test images
    assert score.attrs["raw"] == float(score) and score.attrs["ceiling"] == 1.0
    assert score.attrs["error"] == pytest.approx(np.sqrt(0.19 * 0.81 / 100), abs=1e-6)
    assert details["n_features"] == 512 and details["layer"] == "layer4.1"
    assert details["chance"] == pytest.approx(0.1)
    assert set(details["per_class_accuracy"]) == {"airplane", "automobile", "bird", "cat", "deer", "dog",
                                                  "frog", "horse", "ship", "truck"}
    assert "no ceiling" in details["ceiling_note"]
    # the read-out of the same features fitted on shuffled train labels is at chance
    assert abs(details["shuffled_labels_accuracy"] - 0.1) < 0.08


def test_shuffled_labels_give_chance_on_informative_features():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 100)
    means = rng.normal(0, 1, size=(10, 32))
    features = means[labels] + rng.normal(0, 1, size=(1000, 32))
    test_labels = np.repeat(np.arange(10), 100)
    test_features = means[test_labels] + rng.normal(0, 1, size=(1000, 32))
    fitted = linear_probe(features, labels, test_features, test_labels)
    shuffled = linear_probe(features, rng.permutation(labels), test_features, test_labels)
    assert fitted["accuracy"] > 0.9
    assert abs(shuffled["accuracy"] - 0.1) < 0.04  # 3 binomial standard errors
    assert fitted["error"] == pytest.approx(np.sqrt(fitted["accuracy"] * (1 - fitted["accuracy"]) / 1000))


def test_subsets_are_balanced_seeded_and_disjoint_splits():
    train = cifar10_stimuli("train", 50, seed=0)
    assert len(train) == 50 and train["label"].value_counts().tolist() == [5] * 10
    assert set(train["split"]) == {"train"} and all(p.is_file() for p in train.stimulus_paths.values())
    assert cifar10_stimuli("train", 50, seed=0).content_hash == train.content_hash
    assert cifar10_stimuli("train", 50, seed=1).content_hash != train.content_hash
    test = cifar10_stimuli("test", 20, seed=0)
    assert set(test["filename"].str.split("/").str[0]) == {"test"}


def test_pooling_by_channel():
    values = np.arange(12, dtype=float).reshape(2, 6)
    pooled = _pool_by_channel(values, np.array([1, 0, 1, 0, 2, 2]))
    assert np.allclose(pooled, [[2.0, 1.0, 4.5], [8.0, 7.0, 10.5]])


def test_model_without_vtc_fails_clearly():
    with pytest.raises(ModelError, match="VTC"):
        CIFAR10LinearProbe(n_train=20, n_test=10)(_model({"V1": "layer2.0"}))
