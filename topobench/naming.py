"""The one rule for a model name a user gives (``import-tdann --name``, ``score --checkpoint --name``,
``report MODEL``, ``new-model NAME``), checked before any file is touched.

A name becomes a folder (``TOPOBENCH_HOME/models/<name>``, ``TOPOBENCH_HOME/reports/<name>``) and
a key of the results store, so it must be one plain path component: letters, digits, ``.``,
``_`` and ``-``, starting and ending with a letter or digit, at most ``MAX_LENGTH`` characters.
That refuses ``..``, ``a/b``, ``/abs``, ``~x``, the empty name, spaces, NUL and other control
characters. (Upper case and ``_`` are allowed because a checkpoint's default identifier is its
file stem, e.g. ``my_resnet-1a2b3c4d``; ``new-model`` asks for more: see ``topobench.new_model``.)
"""
from __future__ import annotations

import re

from topobench.errors import InputError

MAX_LENGTH = 128
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
RULE = (f"use letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
        f"at most {MAX_LENGTH} characters (e.g. my-resnet50)")


def check_model_name(name, what: str = "model name") -> str:
    """``name`` when it is a valid model name; else :class:`InputError` naming it and the rule."""
    if not isinstance(name, str) or len(name) > MAX_LENGTH or not MODEL_NAME_PATTERN.fullmatch(name):
        shown = repr(name) if isinstance(name, str) else repr(str(name))
        raise InputError(f"{what} {shown} is not valid: {RULE}")
    return name


def safe_name(text: str) -> str:
    """``text`` made into a valid model name (characters outside the rule become ``-``), for
    identifiers topobench derives itself (e.g. from a checkpoint's file name)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("._-")[:MAX_LENGTH].strip("._-")
    return cleaned or "model"
