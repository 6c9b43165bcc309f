# Generation, the named targets, the comparison table, the super-resolved pyramid, and `all`.


rule generate:
    input:
        unpack(generate_inputs),
    output:
        samples=directory(paths.generated_dir("{option}", file="samples")),
        sheet=report(
            paths.generated_dir("{option}", file="contact_sheet.png"),
            caption="../report/contact_sheet.rst",
            category="Generated samples",
            labels={"option": "{option}"},
        ),
        provenance=paths.generated_dir("{option}", file="provenance.json"),
    log:
        "logs/generate/{option}.log",
    benchmark:
        paths.runtime_tsv("generate", "{option}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=generate_mem,
        runtime=30,
    params:
        option=lambda w: rc.option(config, w.option).to_param(),
        detail=lambda w: (
            config["detail"]["synthesis"]
            if rc.option(config, w.option).detail
            else None
        ),
        scene=lambda w: (
            rc.scene_draw_param(config)
            if rc.option(config, w.option).start == "scene"
            else None
        ),
        realism=config["realism"],
        generate=config["generate"],
        seed=config["seed"],
    script:
        "../scripts/generate.py"


rule option_page:
    input:
        provenance=rules.generate.output.provenance,
        samples=rules.generate.output.samples,
    output:
        page=report(
            paths.generated_dir("{option}", file="index.html"),
            caption="../report/option_page.rst",
            category="Generated samples",
            labels={"option": "{option}", "what": "page: samples and sheets"},
        ),
    log:
        "logs/generate/{option}-page.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        thumb=256,  # px of the thumbnails written into the page
    script:
        "../scripts/option_page.py"


rule benchmark_table:
    input:
        benchmark_inputs,
    output:
        table=report(
            paths.benchmark_file("table.csv"),
            caption="../report/benchmark_table.rst",
            category="Benchmark",
            labels={"what": "table (csv)"},
        ),
        markdown=paths.benchmark_file("table.md"),
        psnr=report(
            paths.benchmark_file("psnr.png"),
            caption="../report/benchmark_psnr.rst",
            category="Benchmark",
            labels={"what": "PSNR with 95% CI"},
        ),
        spectrum=report(
            paths.benchmark_file("spectrum.png"),
            caption="../report/benchmark_spectrum.rst",
            category="Benchmark",
            labels={"what": "power spectra"},
        ),
        crops=report(
            paths.benchmark_file("crops.png"),
            caption="../report/benchmark_crops.rst",
            category="Benchmark",
            labels={"what": "crops"},
        ),
        machine=paths.benchmark_file("machine.json"),
    log:
        "logs/benchmark.log",
    benchmark:
        paths.runtime_tsv("benchmark", "table")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=8000,
        runtime=60,
    params:
        rows=[row.to_param() for row in rc.benchmark_rows(config)],
        max_images=config["benchmark"]["max_images"],
        seed=config["seed"],
    script:
        "../scripts/benchmark.py"


checkpoint pyramid_shards:
    input:
        index=rules.index_tiles.output.index,
    output:
        shards=paths.pyramid_shards(rc.pyramid_out_zoom(config)),
    log:
        "logs/upscale_pyramid/shards.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        shard_tiles=config["pyramid"]["shard_tiles"],
        max_tiles=config["pyramid"]["max_tiles"],
    script:
        "../scripts/pyramid_shards.py"


rule upscale_pyramid_shard:
    input:
        index=rules.index_tiles.output.index,
        shards=rules.pyramid_shards.output.shards,
        sr=pyramid_sr_input,
    output:
        shard=paths.pyramid_shard(rc.pyramid_out_zoom(config), "{shard}"),
    log:
        "logs/upscale_pyramid/{shard}.log",
    benchmark:
        paths.runtime_tsv("upscale_pyramid", "{shard}")
    wildcard_constraints:
        shard=r"\d+_\d+",
    conda:
        "../../envs/rockzoom.yaml"
    threads: 1
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=3000,
        runtime=60,
    params:
        pyramid=rc.pyramid_param(config),
        tile_dir=tile_dir(),
        out_dir=pyramid_out(),
        zoom=config["tiles"]["zoom"],
        scheme=config["tiles"]["scheme"],
    script:
        "../scripts/upscale_pyramid_shard.py"


rule upscale_pyramid:
    input:
        shards=pyramid_shard_outputs,
        layers=pyramid_layer_summaries(),
    output:
        summary=paths.pyramid_dir(rc.pyramid_out_zoom(config), file="summary.json"),
        page=paths.pyramid_dir(rc.pyramid_out_zoom(config), file="index.html"),
    log:
        "logs/upscale_pyramid/summary.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        tile_dir=tile_dir(),
        zoom=config["tiles"]["zoom"],
        scale=config["pyramid"]["scale"],
        scheme=config["tiles"]["scheme"],
        others=[
            [n, paths.pyramid_layer_dir(rc.pyramid_out_zoom(config), n)]
            for n in rc.pyramid_layer_names(config)
        ],
    script:
        "../scripts/upscale_pyramid.py"


rule upscale_pyramid_layer:
    input:
        index=rules.index_tiles.output.index,
        sr=pyramid_layer_sr_input,
    output:
        summary=paths.pyramid_layer_dir(
            rc.pyramid_out_zoom(config), "{layer}", file="summary.json"
        ),
        page=paths.pyramid_layer_dir(
            rc.pyramid_out_zoom(config), "{layer}", file="index.html"
        ),
    log:
        "logs/upscale_pyramid/layer-{layer}.log",
    benchmark:
        paths.runtime_tsv("upscale_pyramid", "layer-{layer}")
    wildcard_constraints:
        layer=names_regex(rc.pyramid_layer_names(config)),
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=3000,
        runtime=60,
    params:
        pyramid=lambda w: rc.pyramid_layer_param(config, w.layer),
        tile_dir=tile_dir(),
        zoom=config["tiles"]["zoom"],
        scheme=config["tiles"]["scheme"],
    script:
        "../scripts/upscale_pyramid_layer.py"


rule overview_figure:
    input:
        unpack(overview_figure_inputs),
    output:
        overview=paths.figure("overview.png"),
    log:
        "logs/figures/overview.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        n=4,  # real and generated tiles shown
        crop=128,  # px of the real tile shown with its x4
        seed=config["seed"],
    script:
        "../scripts/overview_figure.py"


rule immediate:
    input:
        paths.generated_dir("immediate", file="provenance.json"),
        paths.generated_dir("immediate", file="index.html"),


rule option_a:
    input:
        paths.generated_dir("option_a", file="provenance.json"),
        paths.generated_dir("option_a", file="index.html"),


rule option_b:
    input:
        paths.generated_dir("option_b", file="provenance.json"),
        paths.generated_dir("option_b", file="index.html"),


rule option_c:
    input:
        paths.generated_dir("option_c", file="provenance.json"),
        paths.generated_dir("option_c", file="index.html"),


rule option_t:
    input:
        paths.generated_dir("option_t", file="provenance.json"),
        paths.generated_dir("option_t", file="index.html"),


rule benchmark:
    input:
        rules.benchmark_table.output.markdown,
        rules.realism_table.output.markdown if config["benchmark"]["realism"] else [],


rule pyramid:
    input:
        rules.upscale_pyramid.output.summary,


rule figures:  # opt-in (not in `all`): rewrites the tracked docs/figures/ from this run
    input:
        rules.overview_figure.output.overview,


rule all:
    default_target: True
    input:
        [paths.generated_dir(o, file="provenance.json") for o in config["options"]],
        [paths.generated_dir(o, file="index.html") for o in config["options"]],
        rules.benchmark.input,
        rules.upscale_pyramid.output.summary,
        all_datasets(),
        rules.inspect_tiles.output,
        [paths.ae_eval(ae_arch(), S) for S in config["benchmark"]["ae_sizes"]],
        [c for S in config["benchmark"]["ae_sizes"] for c in ae_sample_checks(S)],
        sr_eval_outputs(),
