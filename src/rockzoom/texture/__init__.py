"""The detail stage: multi-example coarse-to-fine patch synthesis on AE samples (patch banks from training tiles)."""

BANK_FORMAT = "rockzoom-patch-banks-v2"  # the patch-bank file format; v2 holds the colour reference
