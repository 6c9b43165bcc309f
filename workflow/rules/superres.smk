# Learned super-resolution: train_sr (PSNR model) -> finetune_sr_gan (optional GAN model) and finetune_sr_perceptual
# (sr_model kind: perceptual) -> eval_sr (test split).


rule train_sr:
    input:
        summary=paths.dataset_summary("{H}"),
        index=paths.TILE_INDEX,
    output:
        model=paths.sr_model("{net}", "{k}", "{H}"),
        metrics=paths.sr_dir("{net}", "{k}", "{H}", file="metrics.csv"),
        curve=report(
            paths.sr_dir("{net}", "{k}", "{H}", file="curve.png"),
            category="Super-resolution",
            subcategory="training",
            labels={"net": "{net}", "scale": "x{k}", "HR": "{H}"},
        ),
    log:
        "logs/train_sr/{net}-x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("train_sr", "{net}-x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("sr")
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["sr"]["runtime_min"],
    params:
        net=lambda w: rc.sr_net(config, w.net),
        train=lambda w: rc.sr_train_settings(config, w.net),
        seed=config["seed"],
    script:
        "../scripts/train_sr.py"


rule finetune_sr_gan:
    input:
        summary=paths.dataset_summary("{H}"),
        index=paths.TILE_INDEX,
        psnr_model=rules.train_sr.output.model,
    output:
        model=paths.sr_model("{net}", "{k}", "{H}", gan=True),
        metrics=paths.sr_dir("{net}", "{k}", "{H}", gan=True, file="metrics.csv"),
        curve=report(
            paths.sr_dir("{net}", "{k}", "{H}", gan=True, file="curve.png"),
            category="Super-resolution",
            subcategory="GAN fine-tuning",
            labels={"net": "{net}+gan", "scale": "x{k}", "HR": "{H}"},
        ),
    log:
        "logs/finetune_sr_gan/{net}-x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("finetune_sr_gan", "{net}-x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("sr")
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["sr"]["runtime_min"],
    params:
        gan=rc.sr_gan_settings(config),
        seed=config["seed"],
    script:
        "../scripts/finetune_sr_gan.py"


rule finetune_sr_perceptual:
    input:
        summary=paths.dataset_summary("{H}"),
        index=paths.TILE_INDEX,
        psnr_model=rules.train_sr.output.model,
    output:
        model=paths.sr_perceptual_model("{net}", "{k}", "{H}"),
        metrics=paths.sr_perceptual_dir("{net}", "{k}", "{H}", file="metrics.csv"),
        curve=report(
            paths.sr_perceptual_dir("{net}", "{k}", "{H}", file="curve.png"),
            category="Super-resolution",
            subcategory="perceptual fine-tuning",
            labels={"net": "{net}+perceptual", "scale": "x{k}", "HR": "{H}"},
        ),
    log:
        "logs/finetune_sr_perceptual/{net}-x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("finetune_sr_perceptual", "{net}-x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("sr")
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 200 // 2**20,
        runtime=config["sr"]["runtime_min"],
    params:
        settings=rc.sr_perceptual_settings(config),
        seed=config["seed"],
    script:
        "../scripts/finetune_sr_perceptual.py"


rule eval_sr:
    input:
        summary=paths.dataset_summary("{H}"),
        index=paths.TILE_INDEX,
        models=sr_eval_models,
    output:
        table=report(
            paths.sr_eval_dir("{k}", "{H}", file="table.csv"),
            category="Super-resolution",
            subcategory="evaluation",
            labels={"table": "x{k} from HR {H}"},
        ),
        crops=report(
            paths.sr_eval_dir("{k}", "{H}", file="crops.png"),
            category="Super-resolution",
            subcategory="evaluation",
            labels={"figure": "crops x{k} from HR {H}"},
        ),
    log:
        "logs/eval_sr/x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("eval_sr", "x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.H) ** 2 * 3 * 400 // 2**20,
        runtime=30,
    params:
        max_images=config["sr"]["eval"]["max_images"],
        lr_sources=config["sr"]["eval"]["lr_sources"],
        self_ensemble=config["sr"]["eval"]["self_ensemble"],
        seed=config["seed"],
    script:
        "../scripts/eval_sr.py"


rule superres:
    input:
        sr_eval_outputs(),


rule build_sr_exemplar:
    input:
        summary=paths.dataset_summary("{H}"),
        psnr_model=rules.train_sr.output.model,
    output:
        model=paths.sr_exemplar_model("{net}", "{k}", "{H}"),
    log:
        "logs/build_sr_exemplar/{net}-x{k}-h{H}.log",
    benchmark:
        paths.runtime_tsv("build_sr_exemplar", "{net}-x{k}-h{H}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: 1
    resources:
        mem_mb=lambda w: 1000 + exemplar_mem_mb(config["sr"]["exemplar"]) // 8,  # the canvas, not its levels
    params:
        settings=config["sr"]["exemplar"],
    script:
        "../scripts/build_sr_exemplar.py"
