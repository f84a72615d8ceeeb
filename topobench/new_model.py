"""``topobench new-model NAME``: a working template of a third-party model package.

The route for a model that lives outside topobench (DESIGN.md, "Layout"): an
installable package that declares an entry point in the group
``topobench.models`` whose name is the model's identifier and whose object is a
zero-argument factory returning a ``TopoModel``. topobench's registry finds it
through ``importlib.metadata`` once the package is installed; nothing is
scanned or installed by topobench itself. The template written here::

    NAME/
      pyproject.toml        the entry point (the registration) and package data
      README.md             what to change, and the commands
      MODULE/__init__.py
      MODULE/model.py       build_network() (replace), REGION_LAYERS, build()
      MODULE/test.py        found through the entry point; layers and positions; records

works as written (an untrained seeded ResNet-18) and passes its own test after
``pip install -e NAME``; ``MODULE`` is NAME with ``-`` and ``.`` as ``_``.
"""
from __future__ import annotations

import importlib.util
import keyword
import re
import string
from pathlib import Path

from topobench.errors import TopobenchError

TEMPLATE_FOLDER = Path(__file__).parent / "templates" / "model_package"
#: template file -> where it goes (``{module}`` is the import name).
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "{module}/__init__.py",
    "model.py.tmpl": "{module}/model.py",
    "test.py.tmpl": "{module}/test.py",
}
#: A package's model name: :func:`topobench.naming.check_model_name`, and lower case without '_'.
NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def module_name(name: str) -> str:
    return re.sub(r"[-.]", "_", name)


def check_name(name: str) -> str:
    from topobench.naming import check_model_name
    check_model_name(name)  # the one rule of every model name (no path, no '..', no spaces)
    if not NAME_PATTERN.fullmatch(name):  # a package name asks for more: lower case, no '_'
        raise TopobenchError(f"model name '{name}' is not valid: use lower-case letters, digits, '-' and '.', "
                             f"starting and ending with a letter or digit (e.g. my-resnet50)")
    module = module_name(name)
    if not module.isidentifier() or keyword.iskeyword(module) or module[0].isdigit():
        raise TopobenchError(f"model name '{name}' gives the import name '{module}', which is not a Python "
                             f"identifier; start the name with a letter")
    if importlib.util.find_spec(module) is not None:
        raise TopobenchError(f"the import name '{module}' (from '{name}') is already taken by an installed "
                             f"module; choose another model name")
    from topobench.registry import names
    if name in names("model"):
        raise TopobenchError(f"a model '{name}' is already registered; choose another name")
    return module


def render(name: str) -> dict:
    """relative path -> text of every file of the template for ``name``."""
    from topobench import __version__
    module = check_name(name)
    values = {"name": name, "module": module, "topobench_version": __version__}
    files = {}
    for template, target in FILES.items():
        text = (TEMPLATE_FOLDER / template).read_text()
        files[target.format(module=module)] = string.Template(text).substitute(values)
    return files


def new_model(name: str, out=".") -> Path:
    """Write the template package for ``name`` into ``out/name`` (which must not exist); return it."""
    folder = Path(out) / name
    files = render(name)
    if folder.exists():
        raise TopobenchError(f"{folder} already exists; choose another --out folder or remove it")
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def cmd_new_model(args) -> int:
    folder = new_model(args.name, args.out)
    module = module_name(args.name)
    print(f"wrote {folder}/ (pyproject.toml with the entry point, {module}/model.py, {module}/test.py)\n"
          f"next: pip install -e {folder} && pytest {folder}/{module}/test.py && topobench score {args.name} --all")
    return 0
