"""Scene generation: new ground from pieces of the training ground, kept whole (see docs/architecture.md)."""
