# Learned super-resolution: train_sr (PSNR model) -> finetune_sr_gan (optional texture model) -> eval_sr (test split).


rule train_sr:
    input:
        summary=dataset_summary("{H}"),
    output:
        model="results/sr/{net}-x{k}-h{H}/model.pt",
        metrics="results/sr/{net}-x{k}-h{H}/metrics.csv",
        curve=report(
            "results/sr/{net}-x{k}-h{H}/curve.png",
            category="Super-resolution",
            subcategory="training",
            labels={"net": "{net}", "scale": "x{k}", "HR": "{H}"},
        ),
    log:
        "logs/train_sr/{net}-x{k}-h{H}.log",
    benchmark:
        runtime_tsv("train_sr", "{net}-x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["sr"]["runtime_min"],
    params:
        net=sr_net_config,
        train=config["sr"]["train"],
        seed=config["seed"],
    script:
        "../scripts/train_sr.py"


rule finetune_sr_gan:
    input:
        summary=dataset_summary("{H}"),
        psnr_model="results/sr/{net}-x{k}-h{H}/model.pt",
    output:
        model="results/sr_gan/{net}-x{k}-h{H}/model.pt",
        metrics="results/sr_gan/{net}-x{k}-h{H}/metrics.csv",
        curve=report(
            "results/sr_gan/{net}-x{k}-h{H}/curve.png",
            category="Super-resolution",
            subcategory="GAN fine-tuning",
            labels={"net": "{net}+gan", "scale": "x{k}", "HR": "{H}"},
        ),
    log:
        "logs/finetune_sr_gan/{net}-x{k}-h{H}.log",
    benchmark:
        runtime_tsv("finetune_sr_gan", "{net}-x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["sr"]["runtime_min"],
    params:
        gan=config["sr"]["gan"],
        seed=config["seed"],
    script:
        "../scripts/finetune_sr_gan.py"


rule eval_sr:
    input:
        summary=dataset_summary("{H}"),
        models=sr_eval_models,
    output:
        table=report(
            "results/sr_eval/x{k}-h{H}/table.csv",
            category="Super-resolution",
            subcategory="evaluation",
            labels={"table": "x{k} from HR {H}"},
        ),
        crops=report(
            "results/sr_eval/x{k}-h{H}/crops.png",
            category="Super-resolution",
            subcategory="evaluation",
            labels={"figure": "crops x{k} from HR {H}"},
        ),
    log:
        "logs/eval_sr/x{k}-h{H}.log",
    benchmark:
        runtime_tsv("eval_sr", "x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 400 // 2**20,
        runtime=30,
    params:
        max_images=config["sr"]["eval"]["max_images"],
        seed=config["seed"],
    script:
        "../scripts/eval_sr.py"


rule superres:
    input:
        sr_eval_outputs(),
