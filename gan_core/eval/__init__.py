"""Judging a generator: the project classifiers, Fréchet distance and class metrics, nearest neighbours, warnings."""
