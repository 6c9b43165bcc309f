"""The autoencoder stage family: training task, training entry point, evaluation, latents, prior and sampling."""

SAMPLERS = ("gaussian", "gmm", "slerp", "perturb")  # the samplers of autoencoder.sampling (torch-free: Snakefile, CLI)
