from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed large buffers go back to the system, not kept in the heap (docs/scale.md)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rockzoom.data.store import atomic_save  # noqa: E402
from rockzoom.texture.patch_synthesis import PatchBanks  # noqa: E402
from rockzoom.texture.stage import add_detail  # noqa: E402

torch.set_num_threads(snakemake.threads)
images = add_detail(np.load(snakemake.input.samples), PatchBanks.load(snakemake.input.banks),
                    seed=snakemake.params.seed, synthesis=snakemake.params.synthesis)
atomic_save(snakemake.output.images, images)
