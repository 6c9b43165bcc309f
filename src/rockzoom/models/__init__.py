"""Neural networks: one module per architecture family, shared blocks in ``blocks.py``."""
