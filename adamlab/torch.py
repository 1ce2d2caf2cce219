"""The course's optimizers as ``torch.optim.Optimizer`` subclasses, drop-ins for torch.optim's.

Each class takes the same arguments, in the same order and with the same defaults, as the torch.optim class
of the same name (torch 2.13), raises the same ``ValueError`` messages, keeps the same state keys with the
same types (``state_dict`` loads both ways), and follows the same trajectory: within rounding, since a few
products are associated differently.

Two code paths compute each update:

* ``foreach=False``: a readable per-tensor loop whose lines are the algorithm box, in the paper's order and
  with its symbols (``m``, ``v``, ``m_hat``, ``v_hat``, ``t``), like :mod:`adamlab.numpy`;
* ``foreach=None`` (the default) or ``True``: the same update with ``torch._foreach_*`` over all the tensors
  of a parameter group, grouped by device and dtype, with the bias corrections folded into per-tensor
  scalars so that no step makes more passes over memory than it needs. On the CPU the tensors are walked
  in blocks of about a megabyte per tensor list, so that the five to seven passes an update makes hit the
  cache instead of main memory; on an accelerator one launch covers the whole group.

Both paths are tested equal to each other and to torch.optim. Nothing in ``step`` reads a device tensor on
the host: ``step`` (and NAdam's ``mu_product``) live on the CPU, as in torch.optim, and the bias corrections
are computed from them in Python.

``fused=True`` (Adam, AMSGrad and AdamW) runs :mod:`adamlab.fused`'s Triton kernel on CUDA devices: one pass
over memory per step, with ``step`` kept on the device. Refused with a ``ValueError`` naming the option:
``fused=True`` elsewhere (or without triton or a CUDA device), ``capturable=True``, ``differentiable=True``;
sparse gradients and complex parameters raise a ``RuntimeError``.

``import adamlab`` does not import this module (torch is heavy): ``import adamlab.torch``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor
from torch.optim.optimizer import Optimizer, ParamsT, _get_scalar_dtype, _get_value

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AMSGrad",
    "AdamW",
    "NAdam",
    "Adamax",
    "RAdam",
]

# CPU blocks of ~1 MiB per tensor list: the update's five to seven passes over a block's parameters,
# gradients, state and temporary then hit the cache instead of main memory (on a 2-core EPYC a 10M-parameter
# Adam step drops from 12-18 ms, torch's foreach and for-loop paths, to 7-8 ms), and there are few enough
# blocks that the Python overhead stays small.
_CPU_BLOCK_BYTES = 1 << 20


def _hyper(x: float | Tensor) -> float:
    """A hyperparameter as a Python number (torch.optim also accepts 1-element tensors for ``lr``).

    A tensor is read with ``float()``; keep such an ``lr`` on the CPU, or the read waits for the device.
    """
    return float(x) if isinstance(x, Tensor) else x


def _blocks(tensorlists: list[list[Tensor]]) -> Iterator[tuple[list[list[Tensor]], list[int]]]:
    """Split parallel tensor lists into blocks for the ``torch._foreach_*`` ops.

    Tensors are grouped by device and dtype (a foreach op needs one of each). On an accelerator a group is
    one block: one kernel launch per op. On the CPU, where a foreach op is a loop over its tensors, a block
    holds ~_CPU_BLOCK_BYTES per list: small tensors are gathered, large contiguous ones are cut into flat
    views. Yields the block's lists and, for each of its tensors, the index into the input lists (where the
    per-tensor scalars are).
    """
    grouped = Optimizer._group_tensors_by_device_and_dtype(tensorlists, with_indices=True)
    for (device, dtype), (lists, indices) in grouped.items():
        if device is None or device.type != "cpu":
            yield lists, list(indices)
            continue
        limit = max(_CPU_BLOCK_BYTES // dtype.itemsize, 1)
        block: list[list[Tensor]] = [[] for _ in lists]
        where: list[int] = []
        size = 0
        for k, i in enumerate(indices):
            tensors = [tl[k] for tl in lists]
            n = tensors[0].numel()
            if n > limit and all(t.is_contiguous() for t in tensors):
                pieces = [t.view(-1).split(limit) for t in tensors]
                for j in range(len(pieces[0])):
                    yield [[piece[j]] for piece in pieces], [i]
                continue
            for b, t in zip(block, tensors, strict=True):
                b.append(t)
            where.append(i)
            size += n
            if size >= limit:
                yield block, where
                block, where, size = [[] for _ in lists], [], 0
        if where:
            yield block, where


def _foreach_grads(
    params: list[Tensor], grads: list[Tensor], maximize: bool, weight_decay: float
) -> tuple[list[Tensor], bool]:
    """g ← ∇f, negated if maximize, + λθ: for a block. Also says whether the list is ours (not ``.grad``)."""
    owned = False
    if maximize:
        grads, owned = torch._foreach_neg(grads), True
    if weight_decay != 0:
        if owned:
            torch._foreach_add_(grads, params, alpha=weight_decay)
        else:
            grads, owned = torch._foreach_add(grads, params, alpha=weight_decay), True
    return grads, owned


def _pick(values: list[float], idx: list[int]) -> list[float]:
    return [values[i] for i in idx]


class _Optimizer(Optimizer):
    """The protocol shared by the classes below; each class adds its state and its two update paths.

    Subclasses define ``_init_state(p, group, state)``, ``_update_one(group, p, grad, state)`` (the readable
    per-tensor path) and ``_update_many(group, params, grads, states)`` (the multi-tensor path).
    """

    _torch_call = ""  # how to ask torch.optim for what this class refuses, e.g. "torch.optim.Adam({})"
    _fusable = False  # whether fused=True runs adamlab.fused's Triton kernel (Adam, AMSGrad, AdamW)

    def __init__(
        self,
        params: ParamsT,
        defaults: dict[str, Any],
    ) -> None:
        for option in ("fused", "capturable", "differentiable"):
            self._refuse(option, defaults.get(option))
        if defaults.get("fused") and defaults.get("foreach"):
            raise ValueError("`fused` and `foreach` cannot be `True` together.")
        super().__init__(params, defaults)
        self.register_load_state_dict_post_hook(_scalars_to_cpu)
        if defaults.get("fused"):
            from adamlab import fused

            for group in self.param_groups:
                for p in group["params"]:
                    ok, why = fused.available(p.device)
                    if not ok:
                        raise ValueError(f"adamlab.torch.{type(self).__name__}(fused=True): {why}")

    def _refuse(self, option: str, value: Any) -> None:
        if option == "fused" and self._fusable:
            return
        if value:
            name = type(self).__name__
            raise ValueError(
                f"adamlab.torch.{name} does not implement {option}=True; "
                f"use {self._torch_call.format(f'{option}=True')}"
            )

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        raise NotImplementedError

    def _state_of(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:  # lazy: the state takes the parameter's device, dtype and layout at step 1
            self._init_state(p, group, state)
        return state

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        name = type(self).__name__
        for group in self.param_groups:
            # add_param_group and load_state_dict can bring in options the constructor refuses
            for option in ("fused", "capturable", "differentiable"):
                self._refuse(option, group.get(option))
            params: list[Tensor] = []
            grads: list[Tensor] = []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(
                        f"adamlab.torch.{name} does not support sparse gradients; use torch.optim "
                        "(SparseAdam, or SGD and Adagrad, which accept them)"
                    )
                if torch.is_complex(p):
                    raise RuntimeError(
                        f"adamlab.torch.{name} does not support complex parameters; use torch.optim.{name}"
                    )
                params.append(p)
                grads.append(p.grad)
            if not params:
                continue
            states = [self._state_of(p, group) for p in params]
            if group.get("fused"):
                self._update_fused(group, params, grads, states)
            elif group["foreach"] is False:
                for p, grad, state in zip(params, grads, states, strict=True):
                    self._update_one(group, p, grad, state)
            else:
                self._update_many(group, params, grads, states)
        return loss

    @staticmethod
    def _new_step() -> Tensor:
        # torch.optim keeps a non-capturable step as a CPU float tensor (float64 if that is the default dtype)
        return torch.tensor(0.0, dtype=_get_scalar_dtype(), device="cpu")

    @staticmethod
    def _count_steps(states: list[dict[str, Any]]) -> list[float]:
        """t ← t + 1 for every tensor; returns the new t as Python floats, read from CPU tensors in one go."""
        steps = [state["step"] for state in states]
        # a tensor 1 with alpha picks the overload that does not wrap a scalar once per CPU tensor
        torch._foreach_add_(steps, torch.tensor(1.0, device="cpu"), alpha=1.0)
        return torch.stack(steps).tolist()


def _scalars_to_cpu(optimizer: Optimizer) -> None:
    """After ``load_state_dict``: keep ``step`` and ``mu_product`` on the CPU, where ``step()`` reads them.

    torch.optim moves every non-``step`` state tensor to its parameter's device and dtype (NAdam's
    ``mu_product`` too) and keeps a capturable checkpoint's ``step`` on the device; reading either there
    would make every step wait for the device. The values, and their dtype, are kept.
    """
    for state in optimizer.state.values():
        for key in ("step", "mu_product"):
            value = state.get(key)
            if isinstance(value, Tensor) and value.device.type != "cpu":
                state[key] = value.to("cpu")


def _check_betas(betas: tuple[float | Tensor, float | Tensor]) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check(**values: Any) -> None:
    """torch.optim's constructor checks, in the order given, with its messages: each value >= 0 (NaN fails),
    a tensor lr of one element, betas in [0, 1)."""
    for name, value in values.items():
        if name == "betas":
            _check_betas(value)
            continue
        if name == "lr" and isinstance(value, Tensor) and value.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= value:
            label = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
            raise ValueError(f"Invalid {label}: {value}")


class SGD(_Optimizer):
    r"""Stochastic gradient descent, with momentum (heavy ball or Nesterov), as ``torch.optim.SGD``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        b_t \leftarrow \begin{cases} g_1 & t = 1\\ \mu b_{t-1} + (1-\tau) g_t & t > 1\end{cases}, \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma \begin{cases} g_t + \mu b_t & \text{nesterov}\\
        b_t & \text{otherwise}\end{cases}

    with :math:`b_t = g_t` when :math:`\mu = 0` (``momentum``), :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay`` and :math:`g_t` negated first when ``maximize``. The lr multiplies
    the buffer (torch's convention; Sutskever et al. fold it into the velocity, which agrees while the lr
    is constant).

    References: Robbins & Monro (1951), "A stochastic approximation method"; Polyak (1964), "Some methods of
    speeding up the convergence of iteration methods"; Sutskever, Martens, Dahl & Hinton (2013), "On the
    importance of initialization and momentum in deep learning".

    State: ``momentum_buffer`` (:math:`b`), only when ``momentum != 0``; no ``step``.
    """

    _torch_call = "torch.optim.SGD({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def _state_of(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # Like torch.optim.SGD: without momentum there is no state, not even an empty entry in state_dict.
        return self.state[p] if group["momentum"] != 0 else {}

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, momentum, dampening = _hyper(group["lr"]), group["momentum"], group["dampening"]
        weight_decay = _hyper(group["weight_decay"])
        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)  # g ← g + λθ
        if momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.clone()  # b₁ ← g₁, undamped
            else:
                b.mul_(momentum).add_(g, alpha=1 - dampening)  # b ← μb + (1 − τ)g
            g = g.add(b, alpha=momentum) if group["nesterov"] else b
        p.add_(g, alpha=-lr)  # θ ← θ − γg

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, momentum, dampening = _hyper(group["lr"]), group["momentum"], group["dampening"]
        weight_decay = _hyper(group["weight_decay"])
        lists = [params, grads]
        fresh: set[int] = set()
        if momentum != 0:
            for i, (p, state) in enumerate(zip(params, states, strict=True)):
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.empty_like(p)
                    fresh.add(i)
            lists.append([state["momentum_buffer"] for state in states])
        for block, idx in _blocks(lists):
            ps, gs = block[0], block[1]
            gs, owned = _foreach_grads(ps, gs, group["maximize"], weight_decay)
            if momentum != 0:
                bs = block[2]
                if fresh:  # some tensors' first step: b₁ ← g₁, undamped
                    for b, g, i in zip(bs, gs, idx, strict=True):
                        if i in fresh:
                            b.copy_(g)
                        else:
                            b.mul_(momentum).add_(g, alpha=1 - dampening)
                else:
                    torch._foreach_mul_(bs, momentum)
                    torch._foreach_add_(bs, gs, alpha=1 - dampening)
                if group["nesterov"]:
                    if owned:
                        torch._foreach_add_(gs, bs, alpha=momentum)
                    else:
                        gs = torch._foreach_add(gs, bs, alpha=momentum)
                else:
                    gs = bs
            torch._foreach_add_(ps, gs, alpha=-lr)


class Adagrad(_Optimizer):
    r"""AdaGrad: per-coordinate steps divided by the root of the summed squared gradients.

    .. math::
        \tilde\gamma_t \leftarrow \frac{\gamma}{1 + (t-1)\eta}, \qquad
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        G_t \leftarrow G_{t-1} + g_t^2, \qquad
        \theta_t \leftarrow \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{G_t} + \epsilon}

    with :math:`G_0 = \tau` (``initial_accumulator_value``), :math:`\eta` = ``lr_decay``; ε (1e-10) is added
    outside the root.

    Reference: Duchi, Hazan & Singer (2011), "Adaptive subgradient methods for online learning and
    stochastic optimization", JMLR 12.

    State: ``step`` (:math:`t`, a CPU float tensor) and ``sum`` (:math:`G`). As in torch.optim, the state is
    created in the constructor, from the constructor's ``initial_accumulator_value`` for every group (a
    group's own value is not used).
    """

    _torch_call = "torch.optim.Adagrad({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, self.state[p])

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = self._new_step()
        state["sum"] = torch.full_like(
            p, self.defaults["initial_accumulator_value"], memory_format=torch.preserve_format
        )

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, lr_decay, eps = _hyper(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        state["step"] += 1
        t = _get_value(state["step"])
        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)  # g ← g + λθ
        lr_t = lr / (1 + (t - 1) * lr_decay)  # γ̃ = γ / (1 + (t − 1)η)
        G = state["sum"]
        G.addcmul_(g, g, value=1)  # G ← G + g²
        denom = G.sqrt().add_(eps)
        p.addcdiv_(g, denom, value=-lr_t)  # θ ← θ − γ̃ g / (√G + ε)

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, lr_decay, eps = _hyper(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        ts = self._count_steps(states)
        step_size = [-lr / (1 + (t - 1) * lr_decay) for t in ts]
        for (ps, gs, Gs), idx in _blocks([params, grads, [s["sum"] for s in states]]):
            gs, _ = _foreach_grads(ps, gs, group["maximize"], weight_decay)
            torch._foreach_addcmul_(Gs, gs, gs, value=1)
            denom = torch._foreach_sqrt(Gs)
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(ps, gs, denom, _pick(step_size, idx))


class RMSprop(_Optimizer):
    r"""RMSprop: steps divided by a running root-mean-square of the gradient (``torch.optim.RMSprop``).

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        v_t \leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        \tilde v_t \leftarrow \begin{cases} v_t - \bar g_t^2,\ \
        \bar g_t \leftarrow \alpha \bar g_{t-1} + (1-\alpha) g_t & \text{centered}\\
        v_t & \text{otherwise}\end{cases}

    .. math::
        b_t \leftarrow \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}, \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t \quad (\mu > 0); \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma \frac{g_t}{\sqrt{\tilde v_t} + \epsilon} \quad (\mu = 0)

    ε is added outside the root (TensorFlow and Keras put it inside).

    References: Hinton, Srivastava & Swersky (2012), Neural Networks for Machine Learning, lecture 6e;
    Graves (2013), "Generating sequences with recurrent neural networks" (the centered variant).

    State: ``step`` (:math:`t`, CPU float tensor, not used by the update), ``square_avg`` (:math:`v`),
    ``momentum_buffer`` (:math:`b`, when ``momentum > 0``), ``grad_avg`` (:math:`\bar g`, when ``centered``).
    """

    _torch_call = "torch.optim.RMSprop({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = self._new_step()
        state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if group["momentum"] > 0:
            state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if group["centered"]:
            state["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, alpha, eps, momentum = _hyper(group["lr"]), group["alpha"], group["eps"], group["momentum"]
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g.add(p, alpha=group["weight_decay"])  # g ← g + λθ
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v ← αv + (1 − α)g²
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg.lerp_(g, 1 - alpha)  # ḡ ← αḡ + (1 − α)g
            var = v.addcmul(g_avg, g_avg, value=-1)  # ṽ = v − ḡ², a variance estimate
        else:
            var = v
        d = var.sqrt().add_(eps)
        if momentum > 0:
            b = state["momentum_buffer"]
            b.mul_(momentum).addcdiv_(g, d)  # b ← μb + g / (√ṽ + ε)
            p.add_(b, alpha=-lr)  # θ ← θ − γb
        else:
            p.addcdiv_(g, d, value=-lr)  # θ ← θ − γ g / (√ṽ + ε)

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, alpha, eps, momentum = _hyper(group["lr"]), group["alpha"], group["eps"], group["momentum"]
        centered = group["centered"]
        self._count_steps(states)
        lists = [params, grads, [s["square_avg"] for s in states]]
        if momentum > 0:
            lists.append([s["momentum_buffer"] for s in states])
        if centered:
            lists.append([s["grad_avg"] for s in states])
        for block, _ in _blocks(lists):
            ps, gs, vs = block[:3]
            gs, _ = _foreach_grads(ps, gs, group["maximize"], group["weight_decay"])
            torch._foreach_mul_(vs, alpha)
            torch._foreach_addcmul_(vs, gs, gs, value=1 - alpha)
            if centered:
                g_avgs = block[-1]
                torch._foreach_lerp_(g_avgs, gs, 1 - alpha)
                denom = torch._foreach_addcmul(vs, g_avgs, g_avgs, value=-1)
                torch._foreach_sqrt_(denom)
            else:
                denom = torch._foreach_sqrt(vs)
            torch._foreach_add_(denom, eps)
            if momentum > 0:
                bs = block[3]
                torch._foreach_mul_(bs, momentum)
                torch._foreach_addcdiv_(bs, gs, denom)
                torch._foreach_add_(ps, bs, alpha=-lr)
            else:
                torch._foreach_addcdiv_(ps, gs, denom, value=-lr)


class Adadelta(_Optimizer):
    r"""Adadelta: RMSprop with the step's own running RMS as the numerator (``torch.optim.Adadelta``).

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        v_t \leftarrow \rho v_{t-1} + (1-\rho) g_t^2, \qquad
        \Delta\theta_t \leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t,

    .. math::
        u_t \leftarrow \rho u_{t-1} + (1-\rho) \Delta\theta_t^2, \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma \Delta\theta_t

    ε (1e-6) is added inside both roots; the lr (1.0) is the paper's absent one.

    Reference: Zeiler (2012), "ADADELTA: an adaptive learning rate method", arXiv:1212.5701.

    State: ``step`` (:math:`t`, CPU float tensor, not used by the update), ``square_avg`` (:math:`v`),
    ``acc_delta`` (:math:`u`).
    """

    _torch_call = "torch.optim.Adadelta({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check(eps=eps, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = self._new_step()
        state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["acc_delta"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, rho, eps = _hyper(group["lr"]), group["rho"], group["eps"]
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g.add(p, alpha=group["weight_decay"])  # g ← g + λθ
        v, u = state["square_avg"], state["acc_delta"]
        v.mul_(rho).addcmul_(g, g, value=1 - rho)  # v ← ρv + (1 − ρ)g²
        delta = u.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(g)  # Δθ = √(u + ε) / √(v + ε) · g
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)  # u ← ρu + (1 − ρ)Δθ²
        p.add_(delta, alpha=-lr)  # θ ← θ − γΔθ

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, rho, eps = _hyper(group["lr"]), group["rho"], group["eps"]
        self._count_steps(states)
        lists = [params, grads, [s["square_avg"] for s in states], [s["acc_delta"] for s in states]]
        for (ps, gs, vs, us), _ in _blocks(lists):
            gs, _ = _foreach_grads(ps, gs, group["maximize"], group["weight_decay"])
            torch._foreach_mul_(vs, rho)
            torch._foreach_addcmul_(vs, gs, gs, value=1 - rho)
            std = torch._foreach_add(vs, eps)
            torch._foreach_sqrt_(std)
            deltas = torch._foreach_add(us, eps)
            torch._foreach_sqrt_(deltas)
            torch._foreach_div_(deltas, std)
            torch._foreach_mul_(deltas, gs)
            torch._foreach_mul_(us, rho)
            torch._foreach_addcmul_(us, deltas, deltas, value=1 - rho)
            torch._foreach_add_(ps, deltas, alpha=-lr)


class Adam(_Optimizer):
    r"""Adam: bias-corrected running moments of the gradient and its square (``torch.optim.Adam``).

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

    .. math::
        \hat m_t \leftarrow \frac{m_t}{1-\beta_1^t}, \quad
        \hat v_t \leftarrow \frac{v_t}{1-\beta_2^t}
        \ \Big(\text{amsgrad: } v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t),\
        \hat v_t \leftarrow \frac{v^{max}_t}{1-\beta_2^t}\Big), \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    ``weight_decay`` λ is an L2 term added to the gradient (coupled); with ``decoupled_weight_decay=True``
    the gradient is left alone and :math:`\theta \leftarrow \theta(1 - \gamma\lambda)` first, which is AdamW.
    ε (1e-8) is added outside the root of the bias-corrected :math:`\hat v`. With ``amsgrad`` the maximum is
    taken of the raw second moment and then bias-corrected (torch's variant; Reddi et al.'s Algorithm 2 has
    no bias correction).

    References: Kingma & Ba (2015), "Adam: a method for stochastic optimization", ICLR; Reddi, Kale &
    Kumar (2018), "On the convergence of Adam and beyond", ICLR (amsgrad); Loshchilov & Hutter (2019),
    "Decoupled weight decay regularization", ICLR (decoupled_weight_decay).

    State: ``step`` (:math:`t`, CPU float tensor), ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`),
    ``max_exp_avg_sq`` (:math:`v^{max}`, with ``amsgrad``).
    """

    _torch_call = "torch.optim.Adam({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    _fusable = True

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        # the fused kernel reads t on the device (float32, as torch.optim's fused path keeps it)
        fused_step = torch.zeros((), dtype=torch.float32, device=p.device) if group.get("fused") else None
        state["step"] = self._new_step() if fused_step is None else fused_step
        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, eps, weight_decay = _hyper(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        state["step"] += 1
        t = _get_value(state["step"])
        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * weight_decay)  # θ ← θ(1 − γλ), AdamW
            else:
                g = g.add(p, alpha=weight_decay)  # g ← g + λθ, L2
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)  # m ← β₁m + (1 − β₁)g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v ← β₂v + (1 − β₂)g²
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            torch.maximum(v_max, v, out=v_max)  # v_max ← max(v_max, v)
        v_t = v_max if group["amsgrad"] else v
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        m_hat = m / c1
        # √v̂ = √(v_t / c2), the root taken first: v_t / c2 ≈ g² can overflow float16
        sqrt_v_hat = v_t.sqrt() / math.sqrt(c2)
        denom = sqrt_v_hat.add_(eps)
        p.addcdiv_(m_hat, denom, value=-lr)  # θ ← θ − γ m̂ / (√v̂ + ε)

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, eps, weight_decay = _hyper(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        amsgrad, decoupled = group["amsgrad"], group["decoupled_weight_decay"]
        ts = self._count_steps(states)
        # Kingma & Ba's "more efficient order" (end of their §2): with c = √(1 − β₂ᵗ),
        # γ m̂ / (√v̂ + ε) = (γ c / (1 − β₁ᵗ)) · m / (√v + εc), so no pass divides by the corrections.
        c = [math.sqrt(1 - beta2**t) for t in ts]
        step_size = [-lr * c_t / (1 - beta1**t) for t, c_t in zip(ts, c, strict=True)]
        eps_c = [eps * c_t for c_t in c]
        lists = [params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]]
        if amsgrad:
            lists.append([s["max_exp_avg_sq"] for s in states])
        for block, idx in _blocks(lists):
            ps, gs, ms, vs = block[:4]
            if weight_decay != 0 and decoupled:
                torch._foreach_mul_(ps, 1 - lr * weight_decay)
            gs, _ = _foreach_grads(ps, gs, group["maximize"], 0 if decoupled else weight_decay)
            torch._foreach_lerp_(ms, gs, 1 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, gs, gs, value=1 - beta2)
            if amsgrad:
                torch._foreach_maximum_(block[4], vs)
                vs = block[4]
            denom = torch._foreach_sqrt(vs)
            torch._foreach_add_(denom, _pick(eps_c, idx))
            torch._foreach_addcdiv_(ps, ms, denom, _pick(step_size, idx))

    def _update_fused(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        """One Triton launch per (device, dtype): each value read and written once (see adamlab.fused)."""
        from adamlab.fused import fused_adam_

        buckets: dict[tuple[torch.device, torch.dtype], list[tuple[Tensor, Tensor, dict[str, Any]]]] = {}
        for p, g, state in zip(params, grads, states, strict=True):
            # after load_state_dict, step sits on the CPU; the kernel wants it on the device, as float32
            state["step"] = state["step"].to(device=p.device, dtype=torch.float32)
            buckets.setdefault((p.device, p.dtype), []).append((p, g, state))
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        for bucket in buckets.values():
            ps, gs, ss = ([item[i] for item in bucket] for i in range(3))
            fused_adam_(
                ps,
                gs,
                [s["exp_avg"] for s in ss],
                [s["exp_avg_sq"] for s in ss],
                [s["max_exp_avg_sq"] for s in ss] if group["amsgrad"] else [],
                [s["step"] for s in ss],
                lr=_hyper(group["lr"]),
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                amsgrad=group["amsgrad"],
                decoupled=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )


class AMSGrad(Adam):
    r"""AMSGrad: Adam that never lets the second moment it divides by shrink; ``Adam(amsgrad=True)``.

    .. math::
        v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t), \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma \frac{m_t / (1-\beta_1^t)}
        {\sqrt{v^{max}_t / (1-\beta_2^t)} + \epsilon}

    with :math:`m_t, v_t` as in :class:`Adam`. As in torch.optim the maximum is of the raw :math:`v` and is
    then bias-corrected; Reddi et al.'s Algorithm 2 has no bias correction. The same class as :class:`Adam`
    with ``amsgrad=True`` as the default: its ``state_dict`` is torch.optim.Adam(amsgrad=True)'s.

    Reference: Reddi, Kale & Kumar (2018), "On the convergence of Adam and beyond", ICLR.

    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`),
    ``max_exp_avg_sq`` (:math:`v^{max}`).
    """

    _torch_call = "torch.optim.Adam(amsgrad=True, {})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = True,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (torch.optim.AdamW, = ``Adam(decoupled_weight_decay=True)``).

    .. math::
        \theta_t \leftarrow \theta_{t-1}(1 - \gamma\lambda), \qquad
        \theta_t \leftarrow \theta_t - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m_t, \hat v_t` as in :class:`Adam`, from the gradient without any λθ term. The decay is
    multiplied by the current lr γ (Loshchilov & Hutter multiply by a schedule factor instead); the default
    λ is 1e-2.

    Reference: Loshchilov & Hutter (2019), "Decoupled weight decay regularization", ICLR.

    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`), ``max_exp_avg_sq`` (``amsgrad``).
    """

    _torch_call = "torch.optim.AdamW({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # as torch.optim.AdamW: an AdamW always decays decoupled
            group["decoupled_weight_decay"] = True


class NAdam(_Optimizer):
    r"""NAdam: Adam with Nesterov momentum and Dozat's momentum schedule (``torch.optim.NAdam``).

    .. math::
        \mu_t \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \quad
        \mu_{t+1} \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{(t+1)\psi}\big), \quad
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

    .. math::
        \hat v_t \leftarrow \frac{v_t}{1-\beta_2^t}, \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma\Big(\frac{(1-\mu_t)\, g_t}{1 - \prod_{i\le t}\mu_i}
        + \frac{\mu_{t+1}\, m_t}{1 - \prod_{i\le t+1}\mu_i}\Big) \Big/ \big(\sqrt{\hat v_t} + \epsilon\big)

    with ψ = ``momentum_decay`` (0.004; Keras 3 uses ψ = 1), :math:`g_t` with the L2 term λθ unless
    ``decoupled_weight_decay`` (then :math:`\theta \leftarrow \theta(1-\gamma\lambda)` first).

    Reference: Dozat (2016), "Incorporating Nesterov momentum into Adam", ICLR workshop.

    State: ``step`` (:math:`t`), ``mu_product`` (:math:`\prod_{i\le t}\mu_i`; both CPU float tensors, the
    product multiplied in the tensor's precision as torch does), ``exp_avg`` (:math:`m`), ``exp_avg_sq``
    (:math:`v`).
    """

    _torch_call = "torch.optim.NAdam({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = self._new_step()
        state["mu_product"] = torch.tensor(1.0, dtype=_get_scalar_dtype(), device="cpu")
        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    @staticmethod
    def _mu(beta1: float, psi: float, t: float) -> float:
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))  # μ_t = β₁(1 − ½·0.96^(tψ)), Dozat's schedule

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, eps, weight_decay = _hyper(group["lr"]), group["eps"], group["weight_decay"]
        psi = group["momentum_decay"]
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = _get_value(state["step"])
        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * weight_decay)  # θ ← θ(1 − γλ)
            else:
                g = g.add(p, alpha=weight_decay)  # g ← g + λθ
        mu_t, mu_next = self._mu(beta1, psi, t), self._mu(beta1, psi, t + 1)
        state["mu_product"].mul_(mu_t)  # Π_{i≤t} μ_i, in the tensor's own precision, as torch
        mu_product = _get_value(state["mu_product"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)  # m ← β₁m + (1 − β₁)g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v ← β₂v + (1 − β₂)g²
        sqrt_v_hat = v.sqrt() / math.sqrt(1 - beta2**t)  # √v̂ = √(v / (1 − β₂ᵗ)), root first as in Adam
        denom = sqrt_v_hat.add_(eps)
        # Nesterov: the current gradient with this step's momentum, the moment with the next step's.
        c_g = (1 - mu_t) / (1 - mu_product)
        c_m = mu_next / (1 - mu_product * mu_next)
        p.addcdiv_(g, denom, value=-lr * c_g)
        p.addcdiv_(m, denom, value=-lr * c_m)  # θ ← θ − γ c_g g/(√v̂ + ε) − γ c_m m/(√v̂ + ε)

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, eps, weight_decay = _hyper(group["lr"]), group["eps"], group["weight_decay"]
        psi = group["momentum_decay"]
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        ts = self._count_steps(states)
        mus = [self._mu(beta1, psi, t) for t in ts]
        mu_nexts = [self._mu(beta1, psi, t + 1) for t in ts]
        mu_products = [s["mu_product"] for s in states]
        torch._foreach_mul_(mu_products, mus)
        prods = torch.stack(mu_products).tolist()
        # both step sizes carry c = √(1 − β₂ᵗ), so that the denominator is √v + εc (as in Adam)
        c = [math.sqrt(1 - beta2**t) for t in ts]
        size_g = [-lr * (1 - mu) / (1 - pr) * c_t for mu, pr, c_t in zip(mus, prods, c, strict=True)]
        size_m = [-lr * mn / (1 - pr * mn) * c_t for mn, pr, c_t in zip(mu_nexts, prods, c, strict=True)]
        eps_c = [eps * c_t for c_t in c]
        lists = [params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]]
        for (ps, gs, ms, vs), idx in _blocks(lists):
            if weight_decay != 0 and decoupled:
                torch._foreach_mul_(ps, 1 - lr * weight_decay)
            gs, _ = _foreach_grads(ps, gs, group["maximize"], 0 if decoupled else weight_decay)
            torch._foreach_lerp_(ms, gs, 1 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, gs, gs, value=1 - beta2)
            denom = torch._foreach_sqrt(vs)
            torch._foreach_add_(denom, _pick(eps_c, idx))
            torch._foreach_addcdiv_(ps, gs, denom, _pick(size_g, idx))
            torch._foreach_addcdiv_(ps, ms, denom, _pick(size_m, idx))


class Adamax(_Optimizer):
    r"""Adamax: Adam with the infinity norm in place of the second moment (``torch.optim.Adamax``).

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        u_t \leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
        \theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t} \frac{m_t}{u_t}

    ε sits inside the max (torch's choice; the paper has none), so :math:`u_t > 0`.

    Reference: Kingma & Ba (2015), "Adam: a method for stochastic optimization", ICLR, §7.1.

    State: ``step`` (:math:`t`, CPU float tensor), ``exp_avg`` (:math:`m`), ``exp_inf`` (:math:`u`).
    """

    _torch_call = "torch.optim.Adamax({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = self._new_step()
        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["exp_inf"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, eps = _hyper(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = _get_value(state["step"])
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g.add(p, alpha=group["weight_decay"])  # g ← g + λθ
        m, u = state["exp_avg"], state["exp_inf"]
        m.lerp_(g, 1 - beta1)  # m ← β₁m + (1 − β₁)g
        torch.maximum(u.mul_(beta2), g.abs().add_(eps), out=u)  # u ← max(β₂u, |g| + ε)
        p.addcdiv_(m, u, value=-lr / (1 - beta1**t))  # θ ← θ − γ/(1 − β₁ᵗ) · m/u

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, eps = _hyper(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        ts = self._count_steps(states)
        step_size = [-lr / (1 - beta1**t) for t in ts]
        lists = [params, grads, [s["exp_avg"] for s in states], [s["exp_inf"] for s in states]]
        for (ps, gs, ms, us), idx in _blocks(lists):
            gs, owned = _foreach_grads(ps, gs, group["maximize"], group["weight_decay"])
            torch._foreach_lerp_(ms, gs, 1 - beta1)
            torch._foreach_mul_(us, beta2)
            if owned:
                torch._foreach_abs_(gs)
            else:
                gs = torch._foreach_abs(gs)
            torch._foreach_add_(gs, eps)
            torch._foreach_maximum_(us, gs)
            torch._foreach_addcdiv_(ps, ms, us, _pick(step_size, idx))


class RAdam(_Optimizer):
    r"""RAdam: Adam with its adaptive step switched on, and scaled, by a variance rectification.

    .. math::
        m_t, v_t \text{ as in Adam}, \quad \hat m_t \leftarrow \frac{m_t}{1-\beta_1^t}, \quad
        \rho_\infty \leftarrow \frac{2}{1-\beta_2} - 1, \quad
        \rho_t \leftarrow \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t},

    .. math::
        \text{if } \rho_t > 5:\ r_t \leftarrow
        \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},\
        \theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon};
        \qquad \text{else: } \theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t

    (with the defaults the first five steps are plain momentum SGD). ε is added to :math:`\sqrt{v_t}`
    before the bias correction. ``weight_decay`` is L2, or decoupled with ``decoupled_weight_decay``.

    Reference: Liu, Jiang, He, Chen, Liu, Gao & Han (2020), "On the variance of the adaptive learning rate
    and beyond", ICLR.

    State: ``step`` (:math:`t`, CPU float tensor), ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`).
    """

    _torch_call = "torch.optim.RAdam({})"

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = self._new_step()
        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    @staticmethod
    def _rectification(beta2: float, t: float) -> float | None:
        """r_t, or None while the variance of the adaptive lr is intractable (ρ_t ≤ 5)."""
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t <= 5:
            return None
        return math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))

    def _update_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        lr, eps, weight_decay = _hyper(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = _get_value(state["step"])
        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * weight_decay)  # θ ← θ(1 − γλ)
            else:
                g = g.add(p, alpha=weight_decay)  # g ← g + λθ
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)  # m ← β₁m + (1 − β₁)g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v ← β₂v + (1 − β₂)g²
        m_hat = m / (1 - beta1**t)
        r = self._rectification(beta2, t)
        if r is None:  # ρ_t ≤ 5
            p.add_(m_hat, alpha=-lr)  # θ ← θ − γm̂, un-adapted
        else:
            l = math.sqrt(1 - beta2**t) / v.sqrt().add_(eps)  # l = √(1 − β₂ᵗ) / (√v + ε)
            p.add_(m_hat * l, alpha=-lr * r)  # θ ← θ − γ m̂ r l

    def _update_many(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        lr, eps, weight_decay = _hyper(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        ts = self._count_steps(states)
        rect = [self._rectification(beta2, t) for t in ts]
        # one scalar per tensor: −γ r √(1 − β₂ᵗ)/(1 − β₁ᵗ) for m/(√v + ε), or −γ/(1 − β₁ᵗ) for m alone
        step_size = [
            -lr / (1 - beta1**t) * (1 if r is None else r * math.sqrt(1 - beta2**t))
            for t, r in zip(ts, rect, strict=True)
        ]
        lists = [params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]]
        for (ps, gs, ms, vs), idx in _blocks(lists):
            if weight_decay != 0 and decoupled:
                torch._foreach_mul_(ps, 1 - lr * weight_decay)
            gs, _ = _foreach_grads(ps, gs, group["maximize"], 0 if decoupled else weight_decay)
            torch._foreach_lerp_(ms, gs, 1 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, gs, gs, value=1 - beta2)
            adapted = [rect[i] is not None for i in idx]
            if all(adapted):
                denom = torch._foreach_sqrt(vs)
                torch._foreach_add_(denom, eps)
                torch._foreach_addcdiv_(ps, ms, denom, _pick(step_size, idx))
            elif not any(adapted):
                torch._foreach_add_(ps, torch._foreach_mul(ms, _pick(step_size, idx)))
            else:  # tensors at different steps (some in their first few): each on its own
                for p, m, v, i in zip(ps, ms, vs, idx, strict=True):
                    if rect[i] is None:
                        p.add_(m, alpha=step_size[i])
                    else:
                        p.addcdiv_(m, v.sqrt().add_(eps), value=step_size[i])
