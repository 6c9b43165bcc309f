"""The detail stage: multi-example coarse-to-fine patch synthesis on AE samples (patch banks from training tiles)."""

BANK_FORMAT = "rockzoom-patch-banks-v3"  # the patch-bank file format; v2 added the colour reference, v3 the quilting tiles
