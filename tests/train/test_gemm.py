"""oneDNN matrix products equal aten's (fp32 summation order aside), in the products, a routed model and the fused loss."""

import pytest
import torch

from train.gemm import matmul_nt, matmul_tn, onednn_available, resolve_cpu_matmul, route_linears
from train.loss import linear_cross_entropy
from train.model import build_model

needs_onednn = pytest.mark.skipif(not onednn_available(), reason="this torch build has no oneDNN linear op")
TINY = {"n_layer": 2, "d_model": 64, "n_head": 2, "seq_len": 64}


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item())


@needs_onednn
@pytest.mark.parametrize("m, k, n", [(300, 24, 50), (50, 24, 300), (1, 8, 3), (257, 193, 65)])
def test_products_equal_aten(m, k, n):
    g = torch.Generator().manual_seed(m * k + n)
    a, b = torch.randn(m, k, generator=g), torch.randn(n, k, generator=g)
    assert _close(matmul_nt(a, b, onednn=True), a @ b.T)
    assert _close(matmul_nt(a, b.T.contiguous().T, onednn=True), a @ b.T)  # a transposed b is read in place
    c = torch.randn(m, n, generator=g)
    tn = matmul_tn(a, c, onednn=True)  # k <= n and k > n take different copies
    assert tn.shape == (k, n) and _close(tn, a.T @ c)
    assert _close(matmul_tn(c, a, onednn=True), c.T @ a)


@needs_onednn
def test_routed_model_matches_aten_forward_and_gradients():
    ids = torch.randint(0, 97, (3, 40), generator=torch.Generator().manual_seed(0))
    results = []
    for backend in ("aten", "onednn"):
        model = route_linears(build_model(TINY, 97, seed=5), backend)
        out = model(ids, labels=ids)
        out.loss.backward()
        results.append((out.logits.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}))
    (logits_a, grads_a), (logits_o, grads_o) = results
    assert _close(logits_o, logits_a)
    assert grads_a.keys() == grads_o.keys() and all(_close(grads_o[k], grads_a[k]) for k in grads_a)


@needs_onednn
def test_routing_is_reversible_and_leaves_the_state_dict_alone():
    model = build_model(TINY, 97, seed=5)
    keys = list(model.state_dict())
    route_linears(route_linears(model, "onednn"), "onednn")  # idempotent
    assert list(model.state_dict()) == keys
    assert all("forward" in m.__dict__ for m in model.modules() if isinstance(m, torch.nn.Linear))
    route_linears(model, "aten")
    assert not any("forward" in m.__dict__ for m in model.modules())


@needs_onednn
def test_fused_loss_on_onednn_matches_aten():
    g = torch.Generator().manual_seed(1)
    hidden = torch.randn(300, 24, generator=g, requires_grad=True)
    weight = torch.randn(50, 24, generator=g, requires_grad=True)
    targets = torch.randint(0, 50, (300,), generator=g)
    grads = []
    for onednn in (False, True):
        loss = linear_cross_entropy(hidden, weight, targets, chunk=64, onednn=onednn)
        loss.backward()
        grads.append((loss.item(), hidden.grad.clone(), weight.grad.clone()))
        hidden.grad, weight.grad = None, None
    assert grads[1][0] == pytest.approx(grads[0][0], rel=1e-5)
    assert _close(grads[1][1], grads[0][1]) and _close(grads[1][2], grads[0][2])


def test_backend_choice():
    assert resolve_cpu_matmul("aten") == "aten"
    assert resolve_cpu_matmul("auto") in ("onednn", "aten")
    if not onednn_available():
        with pytest.raises(RuntimeError, match="oneDNN"):
            resolve_cpu_matmul("onednn")
