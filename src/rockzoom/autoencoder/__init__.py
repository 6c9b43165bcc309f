"""The autoencoder stage family: training task, training entry point, evaluation, latents, prior and sampling."""
