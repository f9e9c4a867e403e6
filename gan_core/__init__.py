"""gan_core: a small PyTorch GAN engine for exploring, teaching and live-training GANs.

Public API (the app and the command line use only these):
    TrainConfig, Trainer, TrainingJob, DivergedError          training
    WorkerJob                                                 a TrainingJob in its own process
    build_models, MODEL_NAMES, get_loss, LOSS_NAMES           models and objectives
    load_dataset, Dataset, TOY_DATASETS, IMAGE_DATASETS       data
    save_checkpoint, load_checkpoint, resolve_checkpoint,
    list_pretrained, GAN, CheckpointError                     checkpoints
    sample_latents, truncate, lerp, slerp, interpolate,
    class_labels                                              latent tools
    pick_device                                               device
"""
from gan_core.data.datasets import IMAGE_DATASETS, TOY_DATASETS, DataNotFoundError, Dataset, load_dataset
from gan_core.device import pick_device
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
from gan_core.train.job import JobState, TrainingJob
from gan_core.train.trainer import DivergedError, Trainer
from gan_core.train.worker import WorkerJob

__all__ = [
    "GAN", "PRETRAINED_DIR", "CheckpointError", "list_pretrained", "load_checkpoint", "load_checkpoint_bytes",
    "resolve_checkpoint", "save_checkpoint", "TrainConfig", "IMAGE_DATASETS", "TOY_DATASETS", "Dataset",
    "DataNotFoundError", "load_dataset", "pick_device", "JobState", "TrainingJob", "class_labels", "interpolate",
    "lerp", "sample_latents", "slerp", "truncate", "LOSS_NAMES", "get_loss", "CONDITIONAL_MODELS", "MODEL_NAMES",
    "build_models", "DivergedError", "Trainer", "WorkerJob",
]
