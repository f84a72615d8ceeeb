"""File templates that ``topobench`` commands write (``topobench new-model``: ``model_package/``).

Templates are ``*.tmpl`` files (so that no test runner collects them), filled in
with :class:`string.Template` (``${name}``, ``${module}``, ...).
"""
