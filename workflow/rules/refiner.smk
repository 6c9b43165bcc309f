# Diffusion refinement (Method 4): train_refiner (after bicubic, Lanczos or an SR net) -> refine generated samples.


include: "refiner_common.smk"


rule train_refiner:
    input:
        unpack(refiner_train_inputs),
    output:
        model="results/refiner/{name}-x{k}-h{H}/model.pt",
        metrics="results/refiner/{name}-x{k}-h{H}/metrics.csv",
        curve=report(
            "results/refiner/{name}-x{k}-h{H}/curve.png",
            category="Diffusion refiner",
            subcategory="training",
            labels={"after": "{name}", "scale": "x{k}", "HR": "{H}"},
        ),
    wildcard_constraints:
        name=r"[A-Za-z0-9_]+",
    params:
        net=config["refiner"]["net"],
        prediction=config["refiner"]["prediction"],
        train=config["refiner"]["train"],
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/train_refiner/{name}-x{k}-h{H}.log",
    benchmark:
        runtime_tsv("train_refiner", "{name}-x{k}-h{H}")
    threads: workflow.cores
    resources:
        gpu=config["refiner"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["refiner"]["runtime_min"],
    script:
        "../scripts/train_refiner.py"


rule refine:
    input:
        samples="results/generated/{option}/samples",
        model=lambda w: refiner_for_option(w.option),
    output:
        samples=directory("results/refined/{option}/samples"),
        sheet=report(
            "results/refined/{option}/contact_sheet.png",
            category="Generated samples",
            labels={"option": "{option} + refine"},
        ),
        provenance="results/refined/{option}/provenance.json",
    params:
        sample=config["refiner"]["sample"],
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/refine/{option}.log",
    benchmark:
        runtime_tsv("refine", "{option}")
    threads: workflow.cores
    resources:
        gpu=config["refiner"]["gpus"],
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/refine.py"


rule refiner:
    input:
        default_refiner_model(),
        refined_outputs(),
