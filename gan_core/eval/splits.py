"""Which real images each metric classifier trains and is tested on, said in words for its model card.

Two classifiers per dataset (gan_core.eval.classifier): the "classifier" and the independent "judge".
MNIST here has only its 10k test split, so both are cut from those 10k images:

    images      even of 0-8999 | odd of 0-8999 | 9000-9999
    classifier  train            train           test
    judge       train            test            train

Each classifier's test images lie outside its own training images, and the two test sets share no
image; the training sets share the 4500 even images. The judge's test images are interleaved, not a
block: MNIST's first 5000 test images come from other writers than its last 5000 (NIST SD-3 and
SD-1), and a judge trained on one half and tested on the other scored clearly lower (benchmarks/RESULTS.md).
Fashion-MNIST has a 60k train and a 10k test split: the classifier trains on all 60k, the judge on
the second half (30000-59999), and both are tested on the 10k test split. The GANs train on every
MNIST image, so on MNIST neither test set is unseen by them.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_core.data.datasets import load_dataset

MNIST_HOLDOUT = 1000  # the classifier's test images: the last 1000 of the one split on disk
JUDGE_TRAIN_PART = slice(30000, 60000)


@dataclass
class ClassifierSplit:
    """Train and test images of one metric classifier, and the sentence that describes them.

    `train_index` and `test_index` say which images of their split were taken ("train" or "test" in
    `train_split` / `test_split`), so tests can check that held-out images really are held out.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    description: str
    source: str
    train_index: torch.Tensor
    test_index: torch.Tensor
    train_split: str = "train"
    test_split: str = "test"

    @classmethod
    def taken(cls, x: torch.Tensor, y: torch.Tensor, train_index: torch.Tensor, test_index: torch.Tensor,
              description: str, source: str) -> ClassifierSplit:
        """Both sets cut from one split's images x, y by index."""
        return cls(x[train_index], y[train_index], x[test_index], y[test_index], description, source,
                   train_index, test_index, "train", "train")


def classifier_split(dataset: str, role: str = "classifier", data_dir: str | None = None) -> ClassifierSplit:
    """The split of `role` ("classifier" or "judge") for mnist, fashion or emoji; honest about what was held out."""
    if role not in ("classifier", "judge"):
        raise ValueError(f"unknown classifier role {role!r}; choose classifier or judge")
    if dataset == "emoji":
        return _emoji_split(role)
    train = load_dataset(dataset, data_dir, split="train")
    x, y = train.images, train.labels
    if train.note:  # only one split on disk (MNIST here): cut both classifiers' sets from it
        n = len(x)
        cut = n - MNIST_HOLDOUT
        if role == "classifier":
            text = (f"{train.note}. Trained on its first {cut} images, tested on the last {MNIST_HOLDOUT} "
                    "(held out). The GANs were trained on all of these images, including the held-out ones.")
            return ClassifierSplit.taken(x, y, torch.arange(cut), torch.arange(cut, n), text, train.source)
        test_idx = torch.arange(1, cut, 2)
        train_idx = torch.cat([torch.arange(0, cut, 2), torch.arange(cut, n)])
        text = (f"{train.note}. Trained on the even-numbered images of 0-{cut - 1} and on {cut}-{n - 1} "
                f"({len(train_idx)} images), tested on the odd-numbered images of 0-{cut - 1} ({len(test_idx)}, "
                f"held out). The classifier was trained on 0-{cut - 1} and tested on {cut}-{n - 1}: the two test "
                "sets share no image, and each lies outside its own classifier's training images (the training "
                f"sets share the even-numbered images of 0-{cut - 1}). The GANs were trained on all {n} images.")
        return ClassifierSplit.taken(x, y, train_idx, test_idx, text, train.source)
    test = load_dataset(dataset, data_dir, split="test")
    if role == "classifier":
        text = f"trained on the {len(x)}-image train split, tested on the {len(test.images)}-image test split"
        return ClassifierSplit(x, y, test.images, test.labels, text, train.source, torch.arange(len(x)),
                               torch.arange(len(test.images)))
    part = JUDGE_TRAIN_PART
    text = (f"trained on images {part.start}-{min(part.stop, len(x)) - 1} of the {len(x)}-image train split "
            f"(the classifier used all of it), tested on the {len(test.images)}-image test split (held out from "
            "both classifiers and from GAN training)")
    return ClassifierSplit(x[part], y[part], test.images, test.labels, text, train.source,
                           torch.arange(len(x))[part], torch.arange(len(test.images)))


def _emoji_split(role: str) -> ClassifierSplit:
    """Emoji: both classifiers are tested on the fixed 10% test split, which the GANs never see; the classifier
    trains on the whole train split, the judge on three quarters of it (every image but each fourth)."""
    train, test = load_dataset("emoji", split="train"), load_dataset("emoji", split="test")
    every = torch.arange(len(train.images))
    train_idx = every if role == "classifier" else every[every % 4 != 3]
    part = "all" if role == "classifier" else "three quarters (all but every fourth image)"
    text = (f"trained on {part} of the {len(every)}-emoji train split ({len(train_idx)} images), tested on the "
            f"{len(test.images)}-emoji test split (a fixed 10% by a hash of each emoji's code points, held out from "
            "both classifiers and from GAN training)")
    return ClassifierSplit(train.images[train_idx], train.labels[train_idx], test.images, test.labels, text,
                           train.source, train_idx, torch.arange(len(test.images)))
