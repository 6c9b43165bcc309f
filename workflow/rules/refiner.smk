# Diffusion refinement (Method 4): train_refiner (after bicubic, Lanczos or an SR net) -> refine generated samples.


rule train_refiner:
    input:
        unpack(refiner_train_inputs),
    output:
        model=paths.refiner_model("{name}", "{k}", "{H}"),
        metrics=paths.refiner_dir("{name}", "{k}", "{H}", file="metrics.csv"),
        curve=report(
            paths.refiner_dir("{name}", "{k}", "{H}", file="curve.png"),
            category="Diffusion refiner",
            subcategory="training",
            labels={"after": "{name}", "scale": "x{k}", "HR": "{H}"},
        ),
    log:
        "logs/train_refiner/{name}-x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("train_refiner", "{name}-x{k}-h{H}")
    wildcard_constraints:
        name=r"[A-Za-z0-9_]+",
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("refiner")
    resources:
        gpu=config["refiner"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["refiner"]["runtime_min"],
    params:
        net=config["refiner"]["net"],
        prediction=config["refiner"]["prediction"],
        train=rc.stage_settings(config, "refiner.train"),
        seed=config["seed"],
    script:
        "../scripts/train_refiner.py"


rule refine:
    input:
        samples=rules.generate.output.samples,
        model=lambda w: rc.refiner_for_option(config, w.option),
    output:
        samples=directory(paths.refined_dir("{option}", file="samples")),
        sheet=report(
            paths.refined_dir("{option}", file="contact_sheet.png"),
            category="Generated samples",
            labels={"option": "{option} + refine"},
        ),
        provenance=paths.refined_dir("{option}", file="provenance.json"),
    log:
        "logs/refine/{option}.log",
    benchmark:
        paths.runtime_tsv("refine", "{option}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["refiner"]["gpus"],
        mem_mb=4000,
        runtime=60,
    params:
        sample=config["refiner"]["sample"],
        seed=config["seed"],
    script:
        "../scripts/refine.py"


rule refiner:
    input:
        rc.default_refiner_model(config),
        refined_outputs(),
