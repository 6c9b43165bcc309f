# Helpers for superres.smk (the linter wants functions apart from rules).
wildcard_constraints:
    net=r"[A-Za-z0-9_]+",


def sr_net_config(wildcards):
    nets = config["sr"]["nets"]
    if wildcards.net not in nets:
        raise WorkflowError(
            f"config key sr.nets: no net {wildcards.net!r} (available: {sorted(nets)})"
        )
    return nets[wildcards.net]


def sr_model(net, k, H, gan=False):
    return f"results/{'sr_gan' if gan else 'sr'}/{net}-x{k}-h{H}/model.pt"


def sr_eval_models(wildcards):
    ev = config["sr"]["eval"]
    return [sr_model(n, wildcards.k, wildcards.H) for n in ev["nets"]] + [
        sr_model(n, wildcards.k, wildcards.H, gan=True) for n in ev["gan_nets"]
    ]


def sr_eval_outputs():
    ev = config["sr"]["eval"]
    return expand(
        "results/sr_eval/x{k}-h{H}/{f}",
        k=ev["scales"],
        H=ev["hr_sizes"],
        f=["table.csv", "crops.png"],
    )
