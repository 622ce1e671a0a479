"""Test error on digits with 10 labels per class (100 labels): the semi-supervised GAN (Salimans et al. 2016,
Section 5) vs the same discriminator trained on the labelled subset only vs scikit-learn's label spreading.

- **supervised only**: the GAN's discriminator (same MLP, noise layers, weight norm, Adam) trained by
  cross-entropy on the 100 labelled images for the same number of steps;
- **label spreading**: ``sklearn.semi_supervised.LabelSpreading`` (kNN kernel, k = 7) on all 1,500 training
  images with 100 labels, predicting the test set;
- **semi-supervised GAN**: ``run_configs/gan_semisupervised_digits.yaml``.

The labelled subset of seed s is the same for all three (``ImageSet.per_class(10, s)``). Target: GAN error
<= 2.5%.

    python benchmarks/semisup_digits.py --seeds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import ROOT, train_config  # noqa: E402

from rlgen.data.images import load_image_set  # noqa: E402
from rlgen.generative.kind_gan import build_networks  # noqa: E402
from rlgen.kinds import load_run_config  # noqa: E402
from rlgen.models.likelihoods import to_unit  # noqa: E402

CONFIG = "gan_semisupervised_digits"


def label_spreading(seed: int, per_class: int) -> float:
    from sklearn.semi_supervised import LabelSpreading

    train, test = load_image_set("digits", "train"), load_image_set("digits", "test")
    labelled = train.per_class(per_class, seed)
    keep = {bytes(img) for img in labelled.images}
    targets = np.array(
        [label if bytes(img) in keep else -1 for img, label in zip(train.images, train.labels, strict=True)]
    )
    model = LabelSpreading(kernel="knn", n_neighbors=7).fit(train.images.reshape(len(train), -1) / 16.0, targets)
    return float((model.predict(test.images.reshape(len(test), -1) / 16.0) != test.labels).mean())


def supervised_only(config, seed: int, steps: int) -> float:  # noqa: ANN001 - the GAN's kind_gan Config
    """The GAN's discriminator (built from the same config) trained on the labelled subset only."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    m = config.model
    train, test = load_image_set("digits", "train"), load_image_set("digits", "test")
    images, labels = train.per_class(m.labels_per_class, seed).tensors()
    x = to_unit(images, train.levels)
    _, d = build_networks(config, train.shape, m.z_dim, 10)
    optimizer = torch.optim.Adam(d.parameters(), lr=config.train.learning_rate, betas=(m.adam_beta1, 0.999))
    for _ in range(steps):
        pick = torch.randint(len(x), (config.train.batch_size,))
        loss = F.cross_entropy(d(x[pick])[0], labels[pick])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test_images, test_labels = test.tensors()
    d.eval()
    with torch.no_grad():
        return float((d(to_unit(test_images, test.levels))[0].argmax(1) != test_labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], help="override for the GAN config")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = load_run_config(ROOT / "run_configs" / f"{CONFIG}.yaml", overrides=args.set)
    per_class = config.model.labels_per_class
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            overrides = [*args.set, f"model.label_seed={seed}"]
            gan = train_config(CONFIG, seed, overrides, Path(tmp))
            start = time.perf_counter()
            supervised = supervised_only(config, seed, gan["steps"])
            supervised_s = time.perf_counter() - start
            start = time.perf_counter()
            spreading = label_spreading(seed, per_class)
            rows.append(
                {
                    "seed": seed,
                    "gan": gan["test_error"],
                    "gan_wall_s": gan["wall_s"],
                    "supervised_only": supervised,
                    "supervised_only_wall_s": supervised_s,
                    "label_spreading": spreading,
                    "label_spreading_wall_s": time.perf_counter() - start,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'method':<22} {'test error (mean ± std)':>24} {'wall/seed':>10}   ({per_class} labels per class)")
    for key in ("supervised_only", "label_spreading", "gan"):
        errors = [100 * r[key] for r in rows]
        wall = statistics.mean(r[f"{key}_wall_s"] for r in rows)
        print(f"{key:<22} {statistics.mean(errors):>15.2f}% ± {statistics.pstdev(errors):.2f}% {wall:>9.1f}s")
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
