# ViT autoencoder: train_ae -> eval_ae (test split vs baselines); extract_latents -> fit_prior -> sample (+ checks).
# Resumable training state lives in results/ae/{arch}-s{S}.state/ (undeclared, survives failed jobs).


rule train_ae:
    input:
        summary=paths.dataset_summary("{S}"),
    output:
        model=paths.ae_model("{arch}", "{S}"),
        metrics=paths.ae_dir("{arch}", "{S}") + "/metrics.csv",
        curve=report(
            paths.ae_dir("{arch}", "{S}") + "/curve.png",
            category="Autoencoder",
            subcategory="training",
            labels={"arch": "{arch}", "size": "{S}"},
        ),
    params:
        arch=lambda w: rc.ae_arch(config, w.arch),
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/train_ae/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("train_ae", "{arch}-s{S}")
    threads: train_threads("ae")
    resources:
        gpu=config["ae"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.S) ** 2 * 3 * 400 // 2**20,
        runtime=config["ae"]["runtime_min"],
    script:
        "../scripts/train_ae.py"


rule eval_ae:
    input:
        model=paths.ae_model("{arch}", "{S}"),
        summary=paths.dataset_summary("{S}"),
    output:
        metrics=paths.ae_eval("{arch}", "{S}"),
        grid=report(
            paths.ae_dir("{arch}", "{S}") + "/eval/test_grid.png",
            caption="../report/ae_eval.rst",
            category="Autoencoder",
            subcategory="reconstruction",
            labels={"arch": "{arch}", "size": "{S}"},
        ),
    params:
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/eval_ae/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("eval_ae", "{arch}-s{S}")
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 200 // 2**20,
        runtime=30,
    script:
        "../scripts/eval_ae.py"


rule extract_latents:
    input:
        model=paths.ae_model("{arch}", "{S}"),
        summary=paths.dataset_summary("{S}"),
    output:
        train=paths.latents_dir("{arch}", "{S}") + "/train.npy",
        val=paths.latents_dir("{arch}", "{S}") + "/val.npy",
        test=paths.latents_dir("{arch}", "{S}") + "/test.npy",
        summary=paths.latents_dir("{arch}", "{S}") + "/summary.json",
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/extract_latents/{arch}-s{S}.log",
    benchmark:
        paths.runtime_tsv("extract_latents", "{arch}-s{S}")
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 100 // 2**20,
        runtime=30,
    script:
        "../scripts/extract_latents.py"


rule fit_prior:
    input:
        train=rules.extract_latents.output.train,
    output:
        prior=paths.ae_prior("{arch}", "{S}"),
        summary=paths.latents_dir("{arch}", "{S}") + "/prior.json",
    params:
        prior=config["prior"],
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/fit_prior/{arch}-s{S}.log",
    resources:
        mem_mb=2000,
        runtime=10,
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
    params:
        sample=ae_sample_settings(),
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/sample/{arch}-s{S}-{sampler}.log",
    benchmark:
        paths.runtime_tsv("sample", "{arch}-s{S}-{sampler}")
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 100 // 2**20,
        runtime=10,
    script:
        "../scripts/sample_latents.py"
