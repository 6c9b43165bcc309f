# Generation, the named targets, the comparison table, the super-resolved pyramid, and `all`.


rule generate:
    input:
        unpack(generate_inputs),
    output:
        samples=directory("results/generated/{option}/samples"),
        sheet=report(
            "results/generated/{option}/contact_sheet.png",
            caption="../report/contact_sheet.rst",
            category="Generated samples",
            labels={"option": "{option}"},
        ),
        provenance="results/generated/{option}/provenance.json",
    params:
        option=lambda w: option_config(w.option),
        generate=config["generate"],
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/generate/{option}.log",
    benchmark:
        runtime_tsv("generate", "{option}")
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/generate.py"


rule benchmark_table:
    input:
        benchmark_inputs,
    output:
        table=report(
            "results/benchmark/table.csv",
            caption="../report/benchmark_table.rst",
            category="Benchmark",
            labels={"what": "table (csv)"},
        ),
        markdown="results/benchmark/table.md",
        psnr=report(
            "results/benchmark/psnr.png",
            caption="../report/benchmark_psnr.rst",
            category="Benchmark",
            labels={"what": "PSNR with 95% CI"},
        ),
        spectrum=report(
            "results/benchmark/spectrum.png",
            caption="../report/benchmark_spectrum.rst",
            category="Benchmark",
            labels={"what": "power spectra"},
        ),
        crops=report(
            "results/benchmark/crops.png",
            caption="../report/benchmark_crops.rst",
            category="Benchmark",
            labels={"what": "crops"},
        ),
        machine="results/benchmark/machine.json",
    params:
        rows=benchmark_rows(),
        max_images=config["benchmark"]["max_images"],
        seed=config["seed"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/benchmark.log",
    benchmark:
        runtime_tsv("benchmark", "table")
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/benchmark.py"


rule upscale_pyramid:
    input:
        index="results/tiles/index.csv",
        sr=pyramid_sr_input,
    output:
        tiles=directory(f"results/pyramid/z{pyramid_out_zoom()}"),
    params:
        pyramid=config["pyramid"],
        tile_dir=tile_dir(),
        zoom=config["tiles"]["zoom"],
        scheme=config["tiles"]["scheme"],
    conda:
        "../../envs/rockzoom.yaml"
    log:
        "logs/upscale_pyramid.log",
    benchmark:
        runtime_tsv("upscale_pyramid", "z{}".format(pyramid_out_zoom()))
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=3000,
        runtime=60,
    script:
        "../scripts/upscale_pyramid.py"


rule immediate:
    input:
        "results/generated/immediate/provenance.json",


rule option_a:
    input:
        "results/generated/option_a/provenance.json",


rule option_b:
    input:
        "results/generated/option_b/provenance.json",


rule option_c:
    input:
        "results/generated/option_c/provenance.json",


rule benchmark:
    input:
        "results/benchmark/table.md",


rule pyramid:
    input:
        f"results/pyramid/z{pyramid_out_zoom()}",


rule all:
    input:
        expand("results/generated/{option}/provenance.json", option=config["options"]),
        "results/benchmark/table.md",
        f"results/pyramid/z{pyramid_out_zoom()}",
        all_datasets(),
        [ae_eval(S) for S in config["benchmark"]["ae_sizes"]],
        [c for S in config["benchmark"]["ae_sizes"] for c in ae_sample_checks(S)],
        sr_eval_outputs(),
    default_target: True
