"""The modeled clusters: the priced network's size and cost, the clocks they make, their names in specs."""
from __future__ import annotations

import pytest

from lsgdsim.clock import Lognormal, Network, TwoLevel
from lsgdsim.clock.clusters import BATCH, CLUSTERS, cluster_clock, cnn7
from lsgdsim.spec import RunSpec


def test_cnn7_has_the_parameters_counted_by_hand():
    # conv 3→64 5×5, 64→128 5×5, 128→64 3×3, Linear(256, 256), Linear(256, 10), with biases
    by_hand = (64 * (3 * 25 + 1) + 128 * (64 * 25 + 1) + 64 * (128 * 9 + 1) + 256 * 257 + 10 * 257)
    assert cnn7().params == by_hand == 351_946
    assert cnn7().nbytes() == 4 * 351_946


def test_cnn7_size_and_cost_equal_pytorch():
    """The layer-by-layer count against PyTorch's own model: parameters, and the multiply–adds of each
    convolution and linear layer read from the shapes PyTorch computes (forward hooks)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 64, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(128, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(256, 256),
                        nn.Dropout(0.5), nn.Linear(256, 10))
    macs = []

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            macs.append(output[0].numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1])
        elif isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)
    for m in net:
        m.register_forward_hook(count)
    net(torch.zeros(1, 3, 28, 28))
    assert cnn7().params == sum(p.numel() for p in net.parameters())
    assert cnn7().forward_macs == sum(macs)


def test_a_step_costs_the_minibatch_flops_at_the_sustained_rate():
    paper = CLUSTERS["paper"]
    assert cnn7().step_flops() == 6 * cnn7().forward_macs * BATCH
    assert paper.step_seconds(cnn7()) == pytest.approx(12.468e9 / (8.87e12 * 0.35), rel=1e-4)   # ≈ 4.0 ms


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_one_node_up_to_four_workers_then_whole_nodes(name):
    cluster = CLUSTERS[name]
    small, big = cluster_clock(name, 4), cluster_clock(name, 16)
    assert small.network == cluster.intra and isinstance(small.network, Network)
    assert isinstance(big.network, TwoLevel) and (big.network.nodes, big.network.per_node) == (4, 4)
    assert (big.network.intra, big.network.inter) == (cluster.intra, cluster.inter)
    assert small.model_bytes == big.model_bytes == cnn7().nbytes()
    assert small.compute == Lognormal(median=cluster.step_seconds(cnn7()), sigma=0.1)


def test_the_modern_network_is_faster_than_the_papers_everywhere():
    paper, modern = CLUSTERS["paper"], CLUSTERS["modern"]
    for link in ("intra", "inter"):
        assert getattr(modern, link).bandwidth > getattr(paper, link).bandwidth
        assert getattr(modern, link).latency <= getattr(paper, link).latency
    assert paper.inter.bandwidth < paper.intra.bandwidth           # Ethernet is the slow level


@pytest.mark.parametrize("name, workers, match", [("cloud", 4, "cluster name"), ("paper", 6, "workers"),
                                                  ("paper", 0, "workers")])
def test_bad_cluster_or_workers_name_the_parameter(name, workers, match):
    with pytest.raises(ValueError, match=match):
        cluster_clock(name, workers)


def test_a_spec_names_a_cluster_and_stores_its_table():
    spec = RunSpec.from_dict({"clock": "paper", "workers": 16, "steps": 20, "period": 4})
    assert spec.clock == cluster_clock("paper", 16).describe()
    assert RunSpec.from_dict(spec.to_flat()) == spec
    res = spec.run()
    assert res.sim_time[-1] > 20 * 0.9 * CLUSTERS["paper"].step_seconds(cnn7())
    with pytest.raises(ValueError, match="clock: workers must be"):
        RunSpec.from_dict({"clock": "paper", "workers": 6})


def test_the_cli_takes_a_cluster_name(capsys):
    from lsgdsim.cli import main
    assert main(["run", "--clock", "modern", "--workers", "8", "--steps", "20", "--no-save"]) == 0
    assert "simulated_time_s" in capsys.readouterr().out
    assert main(["run", "--clock", "cloud", "--no-save"]) == 2
    assert "must be a .toml or .json file or a cluster (paper, modern)" in capsys.readouterr().err
