"""The fused, chunked LM head + cross-entropy equals the plain one (loss and both gradients)."""

import pytest
import torch

from train.loss import linear_cross_entropy


@pytest.mark.parametrize("rows, chunk", [(300, 64), (300, 512), (64, 64), (1, 8)])
def test_loss_and_gradients_equal_the_plain_computation(rows, chunk):
    g = torch.Generator().manual_seed(rows + chunk)
    hidden = torch.randn(rows, 24, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(50, 24, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 50, (rows,), generator=g)

    fused = linear_cross_entropy(hidden, weight, targets, chunk=chunk)
    (2.5 * fused).backward()  # a non-unit upstream gradient must scale both gradients
    fused_grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad, weight.grad = None, None
    plain = torch.nn.functional.cross_entropy(hidden @ weight.T, targets)
    (2.5 * plain).backward()

    assert fused.item() == pytest.approx(plain.item(), rel=1e-12)
    assert torch.allclose(fused_grads[0], hidden.grad, rtol=1e-10, atol=1e-12)
    assert torch.allclose(fused_grads[1], weight.grad, rtol=1e-10, atol=1e-12)


def test_padding_targets_are_refused():
    with pytest.raises(ValueError, match="ignore_index"):
        linear_cross_entropy(torch.randn(4, 8), torch.randn(10, 8), torch.tensor([1, 2, -100, 3]))
