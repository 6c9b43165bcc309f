"""CLI verbs, one module each (see rockzoom.cli)."""
