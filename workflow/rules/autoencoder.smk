# ViT autoencoder: train_ae -> eval_ae (test split vs baselines); extract_latents -> fit_prior -> sample (+ checks).
# Resumable training state lives in results/ae/{arch}-s{S}.state/ (undeclared, survives failed jobs).


rule train_ae:
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
        "logs/train_ae/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("train_ae", "{arch}-s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: train_threads("ae")
    resources:
        gpu=config["ae"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.S) ** 2 * 3 * 400 // 2**20,
        runtime=config["ae"]["runtime_min"],
    params:
        arch=lambda w: rc.ae_arch(config, w.arch),
        seed=config["seed"],
    script:
        "../scripts/train_ae.py"


rule eval_ae:
    input:
        model=paths.ae_model("{arch}", "{S}"),
        summary=paths.dataset_summary("{S}"),
    output:
        metrics=paths.ae_eval("{arch}", "{S}"),
        grid=report(
            paths.ae_dir("{arch}", "{S}", file="eval/test_grid.png"),
            caption="../report/ae_eval.rst",
            category="Autoencoder",
            subcategory="reconstruction",
            labels={"arch": "{arch}", "size": "{S}"},
        ),
    log:
        "logs/eval_ae/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("eval_ae", "{arch}-s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 200 // 2**20,
        runtime=30,
    params:
        seed=config["seed"],
    script:
        "../scripts/eval_ae.py"


rule extract_latents:
    input:
        model=paths.ae_model("{arch}", "{S}"),
        summary=paths.dataset_summary("{S}"),
    output:
        train=paths.latents_dir("{arch}", "{S}", file="train.npy"),
        val=paths.latents_dir("{arch}", "{S}", file="val.npy"),
        test=paths.latents_dir("{arch}", "{S}", file="test.npy"),
        summary=paths.latents_dir("{arch}", "{S}", file="summary.json"),
    log:
        "logs/extract_latents/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("extract_latents", "{arch}-s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 100 // 2**20,
        runtime=30,
    script:
        "../scripts/extract_latents.py"


rule fit_prior:
    input:
        train=rules.extract_latents.output.train,
        train_masks=paths.dataset_dir("{S}", "train_masks.npy"),
    output:
        prior=paths.ae_prior("{arch}", "{S}"),
        summary=paths.latents_dir("{arch}", "{S}", file="prior.json"),
    log:
        "logs/fit_prior/{arch}-s{S}.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        prior=config["prior"],
        seed=config["seed"],
    script:
        "../scripts/fit_prior.py"


rule sample:
    input:
        model=paths.ae_model("{arch}", "{S}"),
        prior=rules.fit_prior.output.prior,
        test_latents=rules.extract_latents.output.test,
    output:
        images=paths.sample_file("{arch}", "{S}", "{sampler}", "npy"),
        grid=report(
            paths.sample_file("{arch}", "{S}", "{sampler}", "png"),
            category="Autoencoder",
            subcategory="samples",
            labels={"arch": "{arch}", "size": "{S}", "sampler": "{sampler}"},
        ),
        checks=paths.sample_file("{arch}", "{S}", "{sampler}"),
    log:
        "logs/sample/{arch}-s{S}-{sampler}.log",
    benchmark:
        paths.runtime_tsv("sample", "{arch}-s{S}-{sampler}")
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 100 // 2**20,
        runtime=10,
    params:
        sample=ae_sample_settings(),
        seed=config["seed"],
    script:
        "../scripts/sample_latents.py"
