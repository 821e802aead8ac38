"""fp32 matrix products on CPU through oneDNN instead of aten's BLAS (MKL), for the linear layers and the LM head.

PyTorch's x86 CPU build runs ``torch.mm`` and ``nn.Linear`` through MKL's sgemm, and MKL takes its
AVX-512 kernels only on Intel CPUs: on an AMD EPYC with AVX-512 (this project's machines) a
4096x192x512 product runs at ~200 GFLOP/s on 2 cores, the same shape through oneDNN's brgemm at
~480. The oneDNN call here (``mkldnn::_linear_pointwise``, the op Inductor's CPU backend emits) is
plain IEEE fp32 with no reduced-precision math: results differ from aten's only in summation order.
``use_cpu_matmul`` picks the backend and routes a model's ``nn.Linear`` layers through it, forward and
backward; the fused loss uses ``matmul_nt``/``matmul_tn`` for the tied LM head.
"""

from __future__ import annotations

import platform
from typing import Literal

import torch

from train.config import CpuMatmul


def onednn_available() -> bool:
    """Whether this torch build has the oneDNN linear op (x86-64 and aarch64 builds with mkldnn)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        torch.ops.mkldnn._linear_pointwise  # noqa: B018 - resolving the op is the check
    except (AttributeError, RuntimeError):
        return False
    return True


def resolve_cpu_matmul(choice: CpuMatmul) -> Literal["onednn", "aten"]:
    """'auto' -> oneDNN on x86-64 when available (never slower there in our measurements), else aten."""
    if choice == "onednn" and not onednn_available():
        raise RuntimeError("cpu_matmul='onednn' but this torch build has no oneDNN linear op; use 'aten'")
    if choice == "auto":
        return "onednn" if platform.machine() in ("x86_64", "AMD64") and onednn_available() else "aten"
    return choice


def _on_onednn(onednn: bool, a: torch.Tensor, b: torch.Tensor) -> bool:
    return onednn and a.dtype == torch.float32 and b.dtype == torch.float32 and a.device.type == "cpu"


def matmul_nt(a: torch.Tensor, b: torch.Tensor, onednn: bool) -> torch.Tensor:
    """``a @ b.T`` for 2-D ``a`` (m, k) and ``b`` (n, k); oneDNN for fp32 when asked.

    oneDNN reads a transposed ``b`` in place but is slow on a transposed ``a``: pass ``a`` row-major.
    """
    if _on_onednn(onednn, a, b):
        return torch.ops.mkldnn._linear_pointwise(a, b, None, "none", [], "")
    return a @ b.T


def matmul_tn(a: torch.Tensor, b: torch.Tensor, onednn: bool) -> torch.Tensor:
    """``a.T @ b`` for row-major ``a`` (m, n) and ``b`` (m, k): a weight gradient (may be a transposed view).

    On oneDNN the narrower operand is copied to row-major transposed form (see ``matmul_nt``), which
    costs less than oneDNN's own handling of a transposed input.
    """
    if not _on_onednn(onednn, a, b):
        return a.T @ b
    if a.shape[1] <= b.shape[1]:
        return matmul_nt(a.T.contiguous(), b.T, onednn)
    return matmul_nt(b.T.contiguous(), a.T, onednn).T


class _Linear(torch.autograd.Function):
    """y = x W^T (+ b) with all three products (y, dx, dW) through ``matmul_nt``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:  # type: ignore[override]
        rows = x.reshape(-1, x.shape[-1])
        ctx.save_for_backward(rows, weight)
        ctx.has_bias = bias is not None
        out = matmul_nt(rows, weight, onednn=True)
        if bias is not None:
            out += bias
        return out.view(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:  # type: ignore[override]
        rows, weight = ctx.saved_tensors
        grad_rows = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = matmul_nt(grad_rows, weight.T, onednn=True).view(*grad_out.shape[:-1], weight.shape[1])
        if ctx.needs_input_grad[1]:
            grad_w = matmul_tn(grad_rows, rows, onednn=True)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_rows.sum(0)
        return grad_x, grad_w, grad_b


def _onednn_forward(module: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if x.dtype != torch.float32 or x.device.type != "cpu":
        return torch.nn.functional.linear(x, module.weight, module.bias)
    return _Linear.apply(x, module.weight, module.bias)


def route_linears(model: torch.nn.Module, backend: Literal["onednn", "aten"]) -> torch.nn.Module:
    """Run every ``nn.Linear`` of ``model`` through ``backend`` (idempotent; weights and state_dict unchanged)."""
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            if backend == "onednn":
                module.forward = _onednn_forward.__get__(module)  # type: ignore[method-assign]
            else:
                module.__dict__.pop("forward", None)
    return model


def use_cpu_matmul(model: torch.nn.Module, choice: CpuMatmul) -> bool:
    """Resolve ``choice`` and route ``model``'s linear layers accordingly; True when that is oneDNN."""
    backend = resolve_cpu_matmul(choice)
    route_linears(model, backend)
    return backend == "onednn"
