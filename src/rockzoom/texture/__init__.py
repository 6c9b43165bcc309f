"""The detail stage: multi-example coarse-to-fine patch synthesis on AE samples (patch banks from training tiles)."""
