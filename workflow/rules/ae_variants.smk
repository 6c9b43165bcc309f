# Autoencoder variants beside the native ViT AE (train_ae): progressive growing and the multi-scale AE.
# Progressive: train_ae_progressive[{name}, s128] -> [s256] -> [s512] (each stage starts from the previous stage's
# model), then export_ae_progressive copies the last stage to results/ae/{name}-s{S}/model.pt, an ordinary "ae"
# checkpoint for eval_ae, extract_latents, fit_prior, sample and the benchmark. Multi-scale: train_ae_multiscale
# writes results/ae/{name}-s{S}/ directly; eval_ae_levels saves its per-level outputs. The names share the {arch}
# namespace with ae.archs, and these rules win over train_ae for their names (ruleorder, wildcard constraints).
# Resumable state: results/ae_progressive/{name}/s{S}.state/ and results/ae/{name}-s{S}.state/ (undeclared).


ruleorder: export_ae_progressive > train_ae_multiscale > train_ae


rule train_ae_progressive:
    input:
        unpack(progressive_stage_inputs),
    output:
        model=paths.progressive_stage_model("{name}", "{S}"),
        metrics=paths.progressive_stage_dir("{name}", "{S}", file="metrics.csv"),
        curve=report(
            paths.progressive_stage_dir("{name}", "{S}", file="curve.png"),
            category="Autoencoder",
            subcategory="progressive training",
            labels={"chain": "{name}", "size": "{S}"},
        ),
    log:
        "logs/train_ae_progressive/{name}-s{S}.log",
    benchmark:
        paths.runtime_tsv("train_ae_progressive", "{name}-s{S}")
    wildcard_constraints:
        name=r"[A-Za-z0-9_]+",
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("ae_variants")
    resources:
        gpu=config["ae_variants"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.S) ** 2 * 3 * 400 // 2**20,
        runtime=config["ae_variants"]["runtime_min"],
    params:
        stage=lambda w: rc.progressive_stage(config, w.name, w.S),
        seed=config["seed"],
    script:
        "../scripts/train_ae_progressive.py"


rule export_ae_progressive:
    input:
        model=paths.progressive_stage_model("{arch}", "{S}"),
    output:
        model=paths.ae_model("{arch}", "{S}"),
    log:
        "logs/export_ae_progressive/{arch}-s{S}.log",
    wildcard_constraints:
        arch=names_regex(rc.progressive_names(config)),
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/export_ae_progressive.py"


rule train_ae_multiscale:
    input:
        summary=paths.dataset_summary("{S}"),
    output:
        model=paths.ae_model("{arch}", "{S}"),
        metrics=paths.ae_dir("{arch}", "{S}", file="metrics.csv"),
        curve=report(
            paths.ae_dir("{arch}", "{S}", file="curve.png"),
            category="Autoencoder",
            subcategory="training",
            labels={"arch": "{arch}", "size": "{S}"},
        ),
    log:
        "logs/train_ae_multiscale/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("train_ae_multiscale", "{arch}-s{S}")
    wildcard_constraints:
        arch=names_regex(rc.multiscale_names(config)),
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("ae_variants")
    resources:
        gpu=config["ae_variants"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.S) ** 2 * 3 * 600 // 2**20,
        runtime=config["ae_variants"]["runtime_min"],
    params:
        model=lambda w: rc.multiscale(config, w.arch),
        seed=config["seed"],
    script:
        "../scripts/train_ae_multiscale.py"


rule eval_ae_levels:
    input:
        model=paths.ae_model("{arch}", "{S}"),
        summary=paths.dataset_summary("{S}"),
    output:
        metrics=paths.ae_levels_dir("{arch}", "{S}", file="levels.json"),
        levels=paths.ae_levels_dir("{arch}", "{S}", file="levels.npz"),
        grid=report(
            paths.ae_levels_dir("{arch}", "{S}", file="levels.png"),
            category="Autoencoder",
            subcategory="multi-scale levels",
            labels={"arch": "{arch}", "size": "{S}"},
        ),
    log:
        "logs/eval_ae_levels/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("eval_ae_levels", "{arch}-s{S}")
    wildcard_constraints:
        arch=names_regex(rc.multiscale_names(config)),
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 200 // 2**20,
        runtime=30,
    params:
        n_saved=config["ae_variants"]["levels_saved"],
        seed=config["seed"],
    script:
        "../scripts/eval_ae_levels.py"


rule compare_ae_variants:
    input:
        ae_variant_inputs,
    output:
        table=paths.ae_variants_dir("{S}", file="comparison.csv"),
        markdown=report(
            paths.ae_variants_dir("{S}", file="comparison.md"),
            category="Autoencoder",
            subcategory="variants",
            labels={"what": "native vs progressive vs multi-scale", "size": "{S}"},
        ),
    log:
        "logs/compare_ae_variants/s{S}.log",
    benchmark:
        paths.runtime_tsv("compare_ae_variants", "s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 300 // 2**20,
        runtime=30,
    params:
        rows=lambda w: rc.ae_variant_rows(config, w.S),
        data_dir=lambda w: paths.dataset_dir(w.S),
        seed=config["seed"],
    script:
        "../scripts/compare_ae_variants.py"


rule ae_variants:
    input:
        ae_variant_products(),
