"""Training data: toy 2-D samplers, MNIST/Fashion-MNIST (IDX files, one lookup order), folders of images."""
