"""Training: TrainConfig, the Trainer (one D+G step), the training loop, jobs in a thread or a process, DDP."""
