# Diffusion refinement (Method 4): train_refiner (after bicubic, Lanczos or an SR net) -> refine generated samples.


rule train_refiner:
    input:
        unpack(refiner_train_inputs),
    output:
        model=paths.refiner_model("{name}", "{k}", "{H}"),
        metrics=paths.refiner_dir("{name}", "{k}", "{H}") + "/metrics.csv",
        curve=report(
            paths.refiner_dir("{name}", "{k}", "{H}") + "/curve.png",
            category="Diffusion refiner",
            subcategory="training",
            labels={"after": "{name}", "scale": "x{k}", "HR": "{H}"},
        ),
    wildcard_constraints:
        name=r"[A-Za-z0-9_]+",
    params:
        net=config["refiner"]["net"],
        prediction=config["refiner"]["prediction"],
        train=rc.stage_settings(config, "refiner.train"),
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/train_refiner/{name}-x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("train_refiner", "{name}-x{k}-h{H}")
    threads: train_threads("refiner")
    resources:
        gpu=config["refiner"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["refiner"]["runtime_min"],
    script:
        "../scripts/train_refiner.py"


rule refine:
    input:
        samples=rules.generate.output.samples,
        model=lambda w: rc.refiner_for_option(config, w.option),
    output:
        samples=directory(paths.refined_dir("{option}") + "/samples"),
        sheet=report(
            paths.refined_dir("{option}") + "/contact_sheet.png",
            category="Generated samples",
            labels={"option": "{option} + refine"},
        ),
        provenance=paths.refined_dir("{option}") + "/provenance.json",
    params:
        sample=config["refiner"]["sample"],
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/refine/{option}.log",
    benchmark:
        paths.runtime_tsv("refine", "{option}")
    threads: workflow.cores
    resources:
        gpu=config["refiner"]["gpus"],
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/refine.py"


rule refiner:
    input:
        rc.default_refiner_model(config),
        refined_outputs(),
