"""Bundled model plugins: one folder each (``__init__.py`` registers a factory in
``topobench.registry.model_registry``, ``model.py`` builds it, ``test.py`` tests it)."""
