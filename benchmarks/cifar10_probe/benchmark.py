"""Linear probe on CIFAR-10: does a topographic model pay for its maps in task performance?

Images. ``n_train`` images of the CIFAR-10 *train* split and ``n_test`` of the
*test* split (Krizhevsky 2009, from the data host), the same number from each
of the ten classes, drawn with ``seed`` (10,000 and 2,000 by default). The
bundled TDANN models trained on the train split, never on the test split.
Each 32 px image is shown spanning ``image_degrees`` of visual angle (default 8
degrees: TDANN's field, declared by every bundled model, so that the image fills
their input as it did in training); a model with another field sees it
accordingly (Brain-Score's placement, ``topobench.preprocessing``).

Read-out (``topobench.metrics.linear_probe``). Features: the model's committed
VTC layer, each channel averaged over space (for a ResNet-18 committing
``layer4.1``: the penultimate, globally pooled 512-d features). Classifier:
multinomial logistic regression (L2, ``C`` on standardised features), fitted on
the train images only; scored on the test images.

Score. Test accuracy (chance 0.1). There is no ceiling (no brain data, and
human accuracy on 32 px CIFAR-10 is not a defined reference): ``ceiling`` is 1,
so score = raw = accuracy. ``error``: binomial standard error. ``details`` also
keep the accuracy of the same read-out fitted on shuffled train labels (a
chance-level control) and the per-class accuracies. Family ``engineering``:
shown beside the brain benchmarks, part of no brain aggregate.
"""
from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd

from topobench.benchmark_base import Comparison, TopoBenchmark
from topobench.costs import CHANNEL_MEAN, Cost, Fit
from topobench.metrics.linear_probe import C as DEFAULT_C
from topobench.metrics.linear_probe import channel_mean_features, linear_probe

IDENTIFIER = "CIFAR10.engineering-linear_probe"
REGION = "VTC"
VERSION = 1
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

BIBTEX = """@techreport{krizhevsky2009learning,
  title={Learning multiple layers of features from tiny images},
  author={Krizhevsky, Alex},
  institution={University of Toronto},
  year={2009},
  url={https://www.cs.toronto.edu/~kriz/learning-features-2009-TR.pdf}
}"""


def cifar10_stimuli(split: str, n_images: int, seed: int, degrees: float = 8.0):
    """``n_images`` CIFAR-10 images of ``split`` ('train' or 'test'), equally many per class, seeded.

    The chosen JPEGs are extracted once under ``TOPOBENCH_HOME/stimuli/cifar10/``.
    """
    from topobench.data_client import fetch, topobench_home
    from topobench.stimuli.base import make_stimulus_set

    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    archive = fetch("cifar10", "cifar10_images.zip")
    folder = topobench_home() / "stimuli" / "cifar10"
    per_class = int(n_images) // len(CLASSES)
    if per_class < 1:
        raise ValueError(f"n_images must be at least {len(CLASSES)} (one per class)")
    rng = np.random.default_rng([int(seed), 0 if split == "train" else 1])
    with zipfile.ZipFile(archive) as handle:
        members = sorted(n for n in handle.namelist() if n.startswith(f"{split}/") and not n.endswith("/"))
        by_class = {name: [m for m in members if m.split("/")[1] == name] for name in CLASSES}
        chosen = []
        for label, name in enumerate(CLASSES):
            if per_class > len(by_class[name]):
                raise ValueError(f"CIFAR-10 {split} has {len(by_class[name])} images of {name}, "
                                 f"fewer than the {per_class} asked for")
            picks = sorted(rng.choice(len(by_class[name]), size=per_class, replace=False))
            chosen += [(by_class[name][i], name, label) for i in picks]
        for member, _, _ in chosen:
            if not (folder / member).is_file():
                handle.extract(member, folder)
    table = pd.DataFrame({
        "stimulus_id": [f"cifar10-{m.replace('/', '-').removesuffix('.jpg')}" for m, _, _ in chosen],
        "split": split, "label": [name for _, name, _ in chosen], "label_index": [i for _, _, i in chosen],
        "filename": [m for m, _, _ in chosen], "degrees": float(degrees)})
    paths = dict(zip(table["stimulus_id"], (folder / m for m, _, _ in chosen)))
    return make_stimulus_set(table, paths, f"Krizhevsky2009.CIFAR10-{split}-{len(table)}-seed{int(seed)}")


class CIFAR10LinearProbe(TopoBenchmark):
    """Test accuracy of a linear read-out of the VTC layer on CIFAR-10 (engineering)."""

    identifier = IDENTIFIER
    version = VERSION
    region = REGION
    parent = "engineering"
    bibtex = BIBTEX
    datasets = ("cifar10",)
    family = "engineering"
    report_only = False  # scored, but its family is part of no brain aggregate
    no_controls_reason = "an engineering benchmark: the accuracy of a read-out on a task, not a map"
    cost = Cost(images=12_000, stimuli="CIFAR-10: 10,000 train and 2,000 test images, 32 px", region=REGION,
                features=CHANNEL_MEAN, copies=4.0, fixed_seconds=5.5,
                fit=Fit("multinomial logistic regression (L-BFGS, 10 classes), fitted twice: the probe and its "
                        "shuffled-label control", "linear", repeats=2 * 10 * 100, samples=10_000))

    def __init__(self, n_train: int = 10_000, n_test: int = 2_000, image_degrees: float = 8.0,
                 C: float = DEFAULT_C, seed: int = 0, shuffle_train_labels: bool = False):
        super().__init__()
        self.n_train, self.n_test = int(n_train), int(n_test)
        self.image_degrees = float(image_degrees)
        self.C = float(C)
        self.seed = int(seed)
        self.shuffle_train_labels = bool(shuffle_train_labels)

    @property
    def ceiling(self):
        """1: no reference (no brain data, no defined human accuracy on 32 px CIFAR-10)."""
        return 1.0

    def make_stimuli(self):
        """(train, test) stimulus sets."""
        return (cifar10_stimuli("train", self.n_train, self.seed, self.image_degrees),
                cifar10_stimuli("test", self.n_test, self.seed, self.image_degrees))

    def record(self, model, stimuli):
        """Channel-mean VTC features of the train and the test images."""
        return tuple(channel_mean_features(model, images, REGION) for images in stimuli)

    def measure(self, recording, model, layer):
        """(train features, test features, details of the model)."""
        train_x, test_x = recording
        return train_x, test_x, {"layer": layer, "model_visual_degrees": getattr(model, "visual_degrees",
                                                                                 float("nan"))}

    def compare(self, measurement) -> Comparison:
        """The read-out fitted on the train images, scored on the test images."""
        train_x, test_x, model_details = measurement
        train, test = self.stimuli
        train_y, test_y = train["label_index"].to_numpy(), test["label_index"].to_numpy()
        shuffled_y = np.random.default_rng([self.seed, 2]).permutation(train_y)
        result = linear_probe(train_x, shuffled_y if self.shuffle_train_labels else train_y, test_x, test_y,
                              C=self.C)
        control = linear_probe(train_x, shuffled_y, test_x, test_y, C=self.C)
        details = {
            "layer": model_details["layer"],
            "features": "committed VTC layer, each channel averaged over space",
            "classifier": "multinomial logistic regression (scikit-learn, L2, L-BFGS) on features standardised "
                          "with the train images' mean and std",
            "C": self.C,
            "image_degrees": self.image_degrees,
            "image_placement": f"each 32 px image spans {self.image_degrees:g} degrees of the model's "
                               f"{model_details['model_visual_degrees']:g}-degree field",
            "n_train": self.n_train, "n_test": self.n_test, "seed": self.seed,
            "train_stimuli": train.identifier, "test_stimuli": test.identifier,
            "test_accuracy": result["accuracy"],
            "train_accuracy": result["train_accuracy"],
            "chance": result["chance"],
            "per_class_accuracy": {CLASSES[int(k)]: v for k, v in result["per_class_accuracy"].items()},
            "n_features": result["n_features"],
            "converged": result["converged"],
            "shuffled_labels_accuracy": control["accuracy"],
            "train_labels_shuffled": self.shuffle_train_labels,
            "ceiling_note": "no ceiling: engineering benchmark, score = test accuracy (ceiling 1)",
        }
        return Comparison(result["accuracy"], result["error"], details)
