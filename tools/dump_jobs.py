"""Dump every planned job (rule, wildcards, params, output, threads, resources subset) of a dry run to JSON.
usage: dump_jobs.py REPO OUT.json  -> runs a matrix of (configs, target)."""
import json, logging, sys, tempfile
from pathlib import Path

REPO = Path(sys.argv[1]).resolve()
OUT = Path(sys.argv[2])
TARGETS = ["all", "option_a", "option_c", "benchmark", "superres", "pyramid", "ae_variants", "refiner"]
CONFIGS = {
    "default": ["config/config.yaml"],
    "test": ["config/config.yaml", "config/test.yaml"],
    "gpu": ["config/config.yaml", "config/gpu.yaml"],
}


def norm(v):
    if isinstance(v, dict):
        return {str(k): norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    if hasattr(v, "to_dict"):
        return norm(v.to_dict())
    import dataclasses
    if dataclasses.is_dataclass(v):
        return norm(dataclasses.asdict(v))
    return repr(v)


def dump(configfiles, target, cores=2):
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings
    with tempfile.TemporaryDirectory() as wd, SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=cores),
                          config_settings=ConfigSettings(configfiles=[REPO / c for c in configfiles]),
                          snakefile=REPO / "Snakefile", workdir=Path(wd))
        from snakemake.workflow import Workflow
        captured = []
        orig = Workflow._build_dag

        def build(self):
            orig(self)
            captured.extend(self.dag.needrun_jobs())
        Workflow._build_dag = build
        try:
            dag_api = wf.dag(dag_settings=DAGSettings(targets={target}))
            dag_api.execute_workflow(executor="dryrun")
        finally:
            Workflow._build_dag = orig
        jobs = []
        for job in captured:
            params = {k: norm(v) for k, v in job.params.items()}
            jobs.append(dict(rule=job.rule.name, wildcards=dict(job.wildcards.items()), params=params, params_repr={k: repr(v) for k, v in job.params.items()},
                             output=sorted(map(str, job.output)), input=sorted(map(str, job.input)),
                             threads=job.threads,
                             resources={k: v for k, v in job.resources.items() if k in ("gpu", "mem_mb", "runtime")}))
        jobs.sort(key=lambda j: (j["rule"], j["output"]))
        return jobs


result = {}
for cname, files in CONFIGS.items():
    for t in TARGETS:
        for cores in (2, 8):
            try:
                result[f"{cname}/{t}/c{cores}"] = dump(files, t, cores)
            except Exception as e:
                result[f"{cname}/{t}/c{cores}"] = f"ERROR {type(e).__name__}: {e}"
OUT.write_text(json.dumps(result, indent=1, sort_keys=True))
print({k: (len(v) if isinstance(v, list) else v) for k, v in result.items()})
