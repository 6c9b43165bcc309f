"""Neural networks: one module per architecture family, shared blocks in ``blocks.py``, one registry per family in
``registry.py``. Every module of this package is imported here, so a net registered in a new module is usable at once."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
