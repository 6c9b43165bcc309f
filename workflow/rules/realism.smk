# The detail stage (patch banks, detail on AE samples) and the realism table of `benchmark`.


rule build_patch_banks:
    input:
        summary=paths.dataset_summary("{S}"),
    output:
        banks=paths.patch_banks("{S}"),
    log:
        "logs/build_patch_banks/s{S}.log",
    benchmark:
        paths.runtime_tsv("build_patch_banks", "s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=lambda w: banks_mem_mb(config["detail"], int(w.S)),
        runtime=20,
    params:
        banks=config["detail"]["banks"],
        seed=config["seed"],
        bank_format=BANK_FORMAT,  # a new file format rebuilds the banks
    script:
        "../scripts/build_patch_banks.py"


rule detail_samples:
    input:
        samples=paths.sample_file("{arch}", "{S}", "{sampler}", "npy"),
        banks=rules.build_patch_banks.output.banks,
    output:
        images=paths.detail_samples("{arch}", "{S}", "{sampler}"),
    log:
        "logs/detail_samples/{arch}-s{S}-{sampler}.log",
    benchmark:
        paths.runtime_tsv("detail_samples", "{arch}-s{S}-{sampler}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=lambda w: detail_mem_mb(config["detail"], int(w.S)),
        runtime=60,
    params:
        synthesis=config["detail"]["synthesis"],
        seed=config["seed"],
    script:
        "../scripts/detail_samples.py"


# The realism table in three parts, each a job of its own (they need not wait for each other: the power checks
# only pick each row's headline, which the table sets when it puts them together).
rule realism_ground:
    input:
        ground=paths.dataset_summary(rc.JUDGE_GROUND_SIZE),  # the judges' real 256 px tiles
    output:
        rows=paths.benchmark_file("realism/ground.csv"),
        power=paths.benchmark_file("realism/power.json"),
    log:
        "logs/realism/ground.log",
    benchmark:
        paths.runtime_tsv("benchmark", "realism-ground")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        part="ground",
        rows=[],
        realism=config["realism"],
        seed=config["seed"],
    script:
        "../scripts/realism_part.py"


rule realism_generators:
    input:
        rc.realism_generator_inputs(config),
        ground=paths.dataset_summary(rc.JUDGE_GROUND_SIZE),
    output:
        rows=paths.benchmark_file("realism/generators.csv"),
    log:
        "logs/realism/generators.log",
    benchmark:
        paths.runtime_tsv("benchmark", "realism-generators")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        part="generators",
        rows=rc.realism_generator_rows(config),
        realism=config["realism"],
        seed=config["seed"],
    script:
        "../scripts/realism_part.py"


rule realism_upscalers:
    input:
        rc.realism_upscaler_inputs(config),
        ground=paths.dataset_summary(rc.JUDGE_GROUND_SIZE),
    output:
        rows=paths.benchmark_file("realism/upscalers.csv"),
    log:
        "logs/realism/upscalers.log",
    benchmark:
        paths.runtime_tsv("benchmark", "realism-upscalers")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        part="upscalers",
        rows=[row.to_param() for row in rc.realism_upscaler_rows(config)],
        realism=config["realism"],
        seed=config["seed"],
    script:
        "../scripts/realism_part.py"


rule realism_table:
    input:
        parts=[
            rules.realism_ground.output.rows,
            rules.realism_generators.output.rows,
            rules.realism_upscalers.output.rows,
        ],
        power=rules.realism_ground.output.power,
    output:
        table=report(
            paths.benchmark_file("realism.csv"),
            caption="../report/realism_table.rst",
            category="Benchmark",
            labels={"what": "realism table (csv)"},
        ),
        markdown=paths.benchmark_file("realism.md"),
        plot=report(
            paths.benchmark_file("perception_distortion.png"),
            caption="../report/perception_distortion.rst",
            category="Benchmark",
            labels={"what": "perception-distortion"},
        ),
    log:
        "logs/realism_table.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/realism_table.py"
