"""Image side length per dataset name, known without loading the data (for config checks)."""

IMAGE_SIDES = {"digits": 8, "mnist": 28, "cifar10": 32}
