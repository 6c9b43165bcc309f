"""Scene generation: new tiles and larger scenes made of whole pieces of the training ground (rockzoom.scene.generator).

Plain Python here (no torch), so the Snakefile can import the model format."""

MODEL_FORMAT = "rockzoom-scene-model-v1"  # the scene model file format; a new one refits the model
