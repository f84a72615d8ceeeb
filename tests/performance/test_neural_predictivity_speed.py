"""The cross-validated ridge of one session against one plain least-squares fit of the same size.

Session 210325 (640 images, 50 neurons) with 999 features (the size of the
projected features): 10 outer folds, each with a per-neuron penalty chosen
from 17 by a 5-fold inner CV, against a single ``numpy.linalg.lstsq`` on all
640 images. Reported as a ratio (absolute times on CI are noise); one BLAS
thread.
"""
import time

import numpy as np
from threadpoolctl import threadpool_limits

from topobench.metrics.neural_predictivity import neural_predictivity


def test_ridge_cv_against_one_least_squares_fit(benchmark, data_host):
    from topobench.reference_data.cowley2023 import cowley2023_assembly, cowley2023_stimuli

    stimuli = cowley2023_stimuli("210325")
    responses = cowley2023_assembly("210325", stimuli).values
    features = np.random.default_rng(0).normal(size=(len(stimuli), 999))
    groups = stimuli["image_group"].to_numpy()
    with threadpool_limits(limits=1):
        design = np.concatenate([features, np.ones((len(features), 1))], axis=1)
        lstsq_times = []
        for _ in range(3):
            start = time.perf_counter()
            np.linalg.lstsq(design, responses, rcond=None)
            lstsq_times.append(time.perf_counter() - start)
        ridge_times = []

        def ridge():
            start = time.perf_counter()
            result = neural_predictivity(features, responses, groups, method="ridge", seed=0)
            ridge_times.append(time.perf_counter() - start)
            return result

        result = benchmark.pedantic(ridge, rounds=1, iterations=1)
    ratio = ridge_times[-1] / min(lstsq_times)
    benchmark.extra_info["lstsq_s"] = min(lstsq_times)
    benchmark.extra_info["ridge_cv_s"] = ridge_times[-1]
    benchmark.extra_info["ratio_ridge_cv_over_lstsq"] = ratio
    print(f"ridge CV {ridge_times[-1]:.2f} s, one lstsq {min(lstsq_times):.3f} s, ratio {ratio:.1f}x")
    assert result.r.shape == (50,)
    # 10 outer fits with 17 penalties x 5 inner folds each cost about what 10 to 30 least-squares fits do
    assert ratio < 100
