# Helpers for refiner.smk (the linter wants functions apart from rules).


CLASSICAL_UPSCALERS = ("bicubic", "lanczos")


def refiner_model(name, k, H):
    """Refiner trained after upscaler `name` (bicubic, lanczos or an SR net) at x`k` on HR mosaics s`H`."""
    return f"results/refiner/{name}-x{k}-h{H}/model.pt"


def refiner_train_inputs(wildcards):
    inputs = {"summary": dataset_summary(wildcards.H)}
    if wildcards.name not in CLASSICAL_UPSCALERS:
        if wildcards.name not in config["sr"]["nets"]:
            raise WorkflowError(
                f"refiner {wildcards.name!r}: not bicubic/lanczos nor a key of sr.nets ({sorted(config['sr']['nets'])})"
            )
        inputs["sr"] = sr_model(wildcards.name, wildcards.k, wildcards.H)
    return inputs


def refiner_for_option(name):
    """The refiner matching a generation option's upscaler (an SR option uses the SR net's own HR size)."""
    opt = option_config(name)
    if opt["upscale"] == "none" or opt["scale"] == 1:
        raise WorkflowError(f"refiner.refine_options: option {name!r} does not upscale; nothing to refine")
    if opt["upscale"] == "sr":
        return refiner_model(opt["sr_net"], opt["scale"], opt["sr_hr"])
    return refiner_model(opt["upscale"], opt["scale"], config["refiner"]["hr_size"])


def refined_outputs():
    return [f"results/refined/{o}/provenance.json" for o in config["refiner"]["refine_options"]]


def default_refiner_model():
    r = config["refiner"]
    return refiner_model(r["upscaler"], r["scale"], r["hr_size"])
