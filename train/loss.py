"""Next-token cross-entropy fused with the LM head, in row chunks, so the full logits never exist.

A tied LM head over a 4k-16k vocabulary makes the logits (tokens x vocab, fp32) the largest tensors
of a compact model's step: 64 MB per 4,096 tokens at vocab 4,096, written, soft-maxed, read back and
differentiated. Computing logits, log-sum-exp and their gradient one chunk of rows at a time keeps
each chunk in cache, and the gradients with respect to the hidden states and the head's weight are
accumulated in the same pass (as Liger-Kernel's fused linear cross-entropy and torchtune's chunked loss
do). Same mean loss and gradients as ``cross_entropy(hidden @ weight.T, targets)`` up to float
summation order; every target must be a real token (packed windows have no padding).
"""

from __future__ import annotations

import torch

from train.gemm import matmul_nt, matmul_tn

CHUNK_ROWS = 512  # measured on 2 cores: 256-1024 are equally fast; 512 keeps a chunk's logits at 8 MB for vocab 4k


class _LinearCrossEntropy(torch.autograd.Function):
    """Forward computes the loss and, in the same pass, its gradients (saved for backward)."""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int, onednn: bool) -> torch.Tensor:  # type: ignore[override]
        n = hidden.shape[0]
        grad_hidden = torch.empty_like(hidden)
        grad_weight_t = weight.new_zeros(weight.shape[1], weight.shape[0])  # (d, vocab): row-major for oneDNN
        total = hidden.new_zeros(())
        rows = torch.arange(min(chunk, n), device=hidden.device)
        for start in range(0, n, chunk):
            h, t = hidden[start : start + chunk], targets[start : start + chunk]
            logits = matmul_nt(h, weight, onednn)
            lse = torch.logsumexp(logits, dim=1)
            total += lse.sum() - logits.gather(1, t[:, None]).sum()
            probs = logits.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
            probs[rows[: len(t)], t] -= 1.0  # d(sum of losses)/d(logits) = softmax - one-hot
            grad_hidden[start : start + chunk] = matmul_nt(probs, weight.T, onednn)
            grad_weight_t += matmul_tn(h, probs, onednn)
        ctx.save_for_backward(grad_hidden.div_(n), grad_weight_t.T.contiguous().div_(n))
        return total / n

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None, None]:  # type: ignore[override]
        grad_hidden, grad_weight = ctx.saved_tensors
        return grad_hidden * grad_loss, grad_weight * grad_loss, None, None, None


def linear_cross_entropy(
    hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int = CHUNK_ROWS, onednn: bool = False,
) -> torch.Tensor:
    """Mean cross-entropy of ``hidden @ weight.T`` (rows x vocab logits) against ``targets``.

    ``hidden``: (rows, d) fp32; ``weight``: (vocab, d), the LM head (tied to the embeddings here);
    ``targets``: (rows,) token ids, all valid; ``onednn``: the products through oneDNN (``train.gemm``).
    """
    if targets.min() < 0:
        raise ValueError("linear_cross_entropy needs every target to be a token id (no ignore_index)")
    return _LinearCrossEntropy.apply(hidden, weight, targets, chunk, onednn)
