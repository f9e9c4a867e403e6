"""gan_core: a small PyTorch GAN engine for exploring, teaching and live-training GANs.

The top level re-exports the engine's core, what the app, the command line, the tests and the
benchmarks share:
    TrainConfig, Trainer, DivergedError, LIVE_HPARAMS          training
    TrainingLoop, Budget                                       the one training loop and its budget
    TrainingJob, WorkerJob, JobState, JobStatus, TrainerView   jobs (in a thread, in a process) and their records
    build_models, MODEL_NAMES, CONDITIONAL_MODELS,
    get_loss, LOSS_NAMES                                       models and objectives
    load_dataset, Dataset, DataNotFoundError,
    TOY_DATASETS, IMAGE_DATASETS                               data
    save_checkpoint, load_checkpoint, load_checkpoint_bytes,
    resolve_checkpoint, list_pretrained, GAN, CheckpointError,
    PRETRAINED_DIR                                             checkpoints
    sample_latents, truncate, lerp, slerp, interpolate,
    class_labels                                               latent tools
    pick_device, default_num_threads                           device

Each page's own computation is imported from its subpackage, not from here: teach/ (presets,
the Learn lesson, the playground's toy views, Apply's synthetic-data experiment), eval/
(diagnostics, metrics, neighbours), explore/ (directions, class blend), io/ (images, upload
safety, ONNX export). The command line is gan_core.cli (`python -m gan_core` or `gan`).
"""
from gan_core.data.datasets import IMAGE_DATASETS, TOY_DATASETS, DataNotFoundError, Dataset, load_dataset
from gan_core.device import default_num_threads, pick_device
from gan_core.explore.latent import class_labels, interpolate, lerp, sample_latents, slerp, truncate
from gan_core.io.checkpoint import (
                         GAN,
                         PRETRAINED_DIR,
                         CheckpointError,
                         list_pretrained,
                         load_checkpoint,
                         load_checkpoint_bytes,
                         resolve_checkpoint,
                         save_checkpoint,
)
from gan_core.nn.losses import LOSS_NAMES, get_loss
from gan_core.nn.models import CONDITIONAL_MODELS, MODEL_NAMES, build_models
from gan_core.train.config import TrainConfig
from gan_core.train.job import TrainingJob
from gan_core.train.loop import Budget, DivergedError, TrainingLoop
from gan_core.train.records import JobState, JobStatus, TrainerView
from gan_core.train.trainer import LIVE_HPARAMS, Trainer
from gan_core.train.worker import WorkerJob

__all__ = [
    "GAN", "PRETRAINED_DIR", "CheckpointError", "list_pretrained", "load_checkpoint", "load_checkpoint_bytes",
    "resolve_checkpoint", "save_checkpoint", "TrainConfig", "IMAGE_DATASETS", "TOY_DATASETS", "Dataset",
    "DataNotFoundError", "load_dataset", "pick_device", "default_num_threads", "JobState", "JobStatus",
    "TrainerView", "TrainingJob", "class_labels", "interpolate", "lerp",
    "sample_latents", "slerp", "truncate", "LOSS_NAMES", "get_loss", "CONDITIONAL_MODELS", "MODEL_NAMES",
    "build_models", "Budget", "DivergedError", "TrainingLoop", "LIVE_HPARAMS", "Trainer", "WorkerJob",
]
