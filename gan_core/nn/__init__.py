"""Neural networks: the generator/discriminator registry (models), the GAN objectives (losses), DiffAugment."""
