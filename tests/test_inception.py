"""The real Inception score and FID with a local weights file (never downloaded): the network's layout, the
weights file's checks, the score's formula, and ``rlgen evaluate --inception-weights`` on a GAN run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import CONFIGS, assert_user_error, run_cli
from scipy import linalg

from rlgen.errors import RlgenError
from rlgen.generative.inception_metrics import inception_score
from rlgen.generative.sample_quality import frechet_distance
from rlgen.models.inception import CLASSES, FEATURES, FidInceptionV3, InceptionE, _same_avg_pool, load_inception


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """Random weights in the port's layout, saved as its file is (a plain state dict)."""
    torch.manual_seed(0)
    network = FidInceptionV3()
    for module in network.modules():  # spread the batch-norm statistics so activations are not trivial
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 2.0)
            module.running_mean.normal_(0, 0.1)
    path = tmp_path_factory.mktemp("inception") / "pt_inception.pth"
    torch.save(network.state_dict(), path)
    return path


def test_network_gives_pool3_features_and_1008_logits_for_images_of_any_size(weights_file):
    network = load_inception(weights_file)
    with torch.no_grad():
        features, logits = network(torch.rand(2, 3, 28, 28) * 2 - 1)
    assert features.shape == (2, FEATURES) and logits.shape == (2, CLASSES)
    assert torch.isfinite(features).all() and (features >= 0).all()  # a mean of ReLU outputs
    network.fc.bias.data.fill_(100.0)  # the improved-GAN code scores pool3 @ W without the bias
    with torch.no_grad():
        pool3, score_logits = network(torch.zeros(1, 3, 8, 8))
    assert torch.allclose(score_logits, pool3 @ network.fc.weight.T)


def test_the_graph_s_pools_leave_padding_out_and_the_last_block_pools_by_max():
    """TF's SAME average pool divides by the pixels inside the image (a constant stays constant at the
    border); torchvision's default would divide by 9 and darken the border."""
    constant = torch.full((1, 1, 5, 5), 3.0)
    assert torch.allclose(_same_avg_pool(constant), constant)
    assert InceptionE(8, max_pool=True).max_pool and not InceptionE(8, max_pool=False).max_pool
    network = FidInceptionV3()
    assert network.Mixed_7c.max_pool and not network.Mixed_7b.max_pool


def test_weights_load_exactly_and_without_batch_counters(weights_file, tmp_path):
    saved = torch.load(weights_file, weights_only=True)
    trimmed = {k: v for k, v in saved.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "trimmed.pth"
    torch.save(trimmed, path)
    loaded = load_inception(path)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in trimmed.items())
    assert not loaded.training


def test_a_missing_foreign_or_unsafe_weights_file_is_one_clear_error(weights_file, tmp_path):
    with pytest.raises(RlgenError, match="not found"):
        load_inception(tmp_path / "nope.pth")
    foreign = tmp_path / "foreign.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), foreign)
    with pytest.raises(RlgenError, match="does not hold the FID Inception weights"):
        load_inception(foreign)
    reshaped = torch.load(weights_file, weights_only=True)
    reshaped["fc.weight"] = torch.zeros(1000, FEATURES)  # torchvision's ImageNet head, not the graph's
    torch.save(reshaped, tmp_path / "reshaped.pth")
    with pytest.raises(RlgenError, match="1 reshaped"):
        load_inception(tmp_path / "reshaped.pth")
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"net": torch.nn.Linear(3, 2)}, unsafe)  # a pickled module: weights_only refuses to run it
    with pytest.raises(RlgenError, match="cannot read Inception weights"):
        load_inception(unsafe)
    (tmp_path / "corrupt.pth").write_bytes(b"not a torch file")
    with pytest.raises(RlgenError, match="cannot read Inception weights"):
        load_inception(tmp_path / "corrupt.pth")


def test_inception_score_is_the_class_count_for_confident_even_predictions_and_one_for_identical_ones():
    """Salimans et al. 2016, Section 4: exp(E KL(p(y|x) || p(y))), per split of the samples."""
    even = torch.eye(10).double().repeat(10, 1)  # each split of 10 rows holds every class once
    assert inception_score(even) == pytest.approx((10.0, 0.0))
    same = torch.softmax(torch.randn(1, 10), 1).repeat(50, 1).double()
    assert inception_score(same) == pytest.approx((1.0, 0.0))
    half = torch.cat([torch.eye(2).repeat(5, 1), torch.full((10, 2), 0.5)]).double()
    mean, spread = inception_score(half, splits=2)  # one split confident (2), one uniform over 2 classes (1)
    assert mean == pytest.approx(1.5) and spread == pytest.approx(0.5)


def test_frechet_distance_matches_the_matrix_square_root_formula_and_is_zero_for_the_same_set():
    """Heusel et al. 2017: ||mu_a - mu_b||^2 + Tr(A + B - 2 (A B)^(1/2)), here via symmetric eigenvalues."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 6)), rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 0.5
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    reference = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a + cov_b - 2 * linalg.sqrtm(cov_a @ cov_b).real)
    assert frechet_distance(a, b) == pytest.approx(reference, rel=1e-9)
    dead = np.concatenate([a, np.zeros((400, 3))], 1)  # dead ReLU features: singular covariances are fine
    assert frechet_distance(dead, dead) == pytest.approx(0.0, abs=1e-9)


def test_evaluate_with_inception_weights_adds_the_scores_and_refuses_what_it_cannot_score(weights_file, tmp_path):
    run = tmp_path / "gan"
    result = run_cli("train", str(CONFIGS / "gan_dcgan_digits.yaml"), "--debug", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    result = run_cli("evaluate", str(run), "--inception-weights", str(weights_file), "--inception-samples", "10")
    assert result.returncode == 0, result.stderr
    scores = json.loads((run / "evaluations" / "final_inception10.json").read_text())
    assert 1.0 <= scores["inception_score"] <= CLASSES and scores["fid"] >= 0 and scores["inception_samples"] == 10
    assert scores["fid_reference_images"] == 10 and scores["inception_weights"] == str(weights_file)
    assert "inception_score" in result.stdout and "classifier_score" in scores
    assert_user_error(run_cli("evaluate", str(run), "--inception-weights", str(tmp_path / "missing.pth")),
                      "missing.pth not found")  # fmt: skip
    assert_user_error(run_cli("evaluate", str(run), "--inception-weights", str(weights_file),
                              "--inception-samples", "9"), "at least 10")  # fmt: skip
    result = run_cli("evaluate", str(run), "--inception-samples", "0")
    assert result.returncode == 2 and "--inception-samples: must be >= 1" in result.stderr
    policy = tmp_path / "policy.zip"
    policy.write_bytes(b"")
    assert_user_error(run_cli("evaluate", str(policy), "--inception-weights", str(weights_file)), "not a .zip")
