# Helpers for autoencoder.smk (the linter wants functions apart from rules).
wildcard_constraints:
    arch=r"[A-Za-z0-9_]+",
    sampler=r"gaussian|gmm|slerp|perturb",


def ae_arch_config(wildcards):
    archs = config["ae"]["archs"]
    if wildcards.arch not in archs:
        raise WorkflowError(f"config key ae.archs: no arch {wildcards.arch!r} (available: {sorted(archs)})")
    return archs[wildcards.arch]


def ae_sample_settings():
    """The sample section minus the list of samplers (that list only chooses targets)."""
    return {k: v for k, v in config["sample"].items() if k != "samplers"}


def ae_model(S, arch=None):
    return f"results/ae/{arch or config['ae']['arch']}-s{S}/model.pt"


def ae_eval(S, arch=None):
    return f"results/ae/{arch or config['ae']['arch']}-s{S}/eval/test_metrics.json"


def ae_prior(S, arch=None):
    return f"results/latents/{arch or config['ae']['arch']}-s{S}/prior.pt"


def ae_sample_checks(S, arch=None):
    arch = arch or config["ae"]["arch"]
    return expand("results/samples/{arch}-s{S}/{sampler}.json", arch=arch, S=S, sampler=config["sample"]["samplers"])


def ae_products(S, arch=None):
    """Everything the autoencoder family makes for one tile size: model, test evaluation, prior, checked samples."""
    return [ae_model(S, arch), ae_eval(S, arch), ae_prior(S, arch), *ae_sample_checks(S, arch)]
