# ViT autoencoder: train_ae -> eval_ae (test split vs baselines); extract_latents -> fit_prior -> sample (+ checks).
# Resumable training state lives in results/ae/{arch}-s{S}.state/ (undeclared, survives failed jobs).


rule train_ae:
    input:
        summary=dataset_summary("{S}"),
    output:
        model="results/ae/{arch}-s{S}/model.pt",
        metrics="results/ae/{arch}-s{S}/metrics.csv",
        curve=report(
            "results/ae/{arch}-s{S}/curve.png",
            category="Autoencoder",
            subcategory="training",
            labels={"arch": "{arch}", "size": "{S}"},
        ),
    params:
        arch=ae_arch_config,
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/train_ae/{arch}-s{S}.log",
    benchmark:
        runtime_tsv("train_ae", "{arch}-s{S}")
    threads: workflow.cores
    resources:
        gpu=config["ae"]["gpus"],
        mem_mb=lambda w: 3000 + int(w.S) ** 2 * 3 * 400 // 2**20,
        runtime=config["ae"]["runtime_min"],
    script:
        "../scripts/train_ae.py"


rule eval_ae:
    input:
        model="results/ae/{arch}-s{S}/model.pt",
        summary=dataset_summary("{S}"),
    output:
        metrics="results/ae/{arch}-s{S}/eval/test_metrics.json",
        grid=report(
            "results/ae/{arch}-s{S}/eval/test_grid.png",
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
        runtime_tsv("eval_ae", "{arch}-s{S}")
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 200 // 2**20,
        runtime=30,
    script:
        "../scripts/eval_ae.py"


rule extract_latents:
    input:
        model="results/ae/{arch}-s{S}/model.pt",
        summary=dataset_summary("{S}"),
    output:
        train="results/latents/{arch}-s{S}/train.npy",
        val="results/latents/{arch}-s{S}/val.npy",
        test="results/latents/{arch}-s{S}/test.npy",
        summary="results/latents/{arch}-s{S}/summary.json",
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/extract_latents/{arch}-s{S}.log",
    benchmark:
        runtime_tsv("extract_latents", "{arch}-s{S}")
    threads: workflow.cores
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 100 // 2**20,
        runtime=30,
    script:
        "../scripts/extract_latents.py"


rule fit_prior:
    input:
        train="results/latents/{arch}-s{S}/train.npy",
    output:
        prior="results/latents/{arch}-s{S}/prior.pt",
        summary="results/latents/{arch}-s{S}/prior.json",
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
        model="results/ae/{arch}-s{S}/model.pt",
        prior="results/latents/{arch}-s{S}/prior.pt",
        test_latents="results/latents/{arch}-s{S}/test.npy",
    output:
        images="results/samples/{arch}-s{S}/{sampler}.npy",
        grid=report(
            "results/samples/{arch}-s{S}/{sampler}.png",
            category="Autoencoder",
            subcategory="samples",
            labels={"arch": "{arch}", "size": "{S}", "sampler": "{sampler}"},
        ),
        checks="results/samples/{arch}-s{S}/{sampler}.json",
    params:
        sample=ae_sample_settings(),
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/sample/{arch}-s{S}-{sampler}.log",
    benchmark:
        runtime_tsv("sample", "{arch}-s{S}-{sampler}")
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 100 // 2**20,
        runtime=10,
    script:
        "../scripts/sample_latents.py"
