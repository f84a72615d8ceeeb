"""Packaging: the in-repo plugin folders `benchmarks/` and `reference_data/` sit at
the top of the checkout (one folder per plugin, as in Brain-Score) but install as
`topobench.benchmarks` and `topobench.reference_data`, so that `pip install .`
claims no generic top-level import name. Metadata lives in pyproject.toml."""
from setuptools import find_packages, setup

MAPPED = {"topobench.benchmarks": "benchmarks", "topobench.reference_data": "reference_data"}

packages = find_packages(include=["topobench", "topobench.*"])
package_dir = {"topobench": "topobench"}
for namespace, folder in MAPPED.items():
    packages.append(namespace)
    package_dir[namespace] = folder
    for sub in find_packages(where=folder):
        packages.append(f"{namespace}.{sub}")
        package_dir[f"{namespace}.{sub}"] = f"{folder}/" + sub.replace(".", "/")

setup(packages=packages, package_dir=package_dir)
