"""Cross-architecture weight transfer: initialise a network of other sizes from a source.

The TLV idea (transfer learning across architectures): a target whose embedding width,
filter counts, hidden size or encoder differ from the source still starts from the source's
weights. Parameters are matched by structural name; for each axis a larger source is cut
(first entries) or average-pooled, and a smaller one padded (zeros, or the mean of the
existing entries plus a little noise so new units differ). Axes made of blocks are resized
block by block: the four gates of an LSTM, the two directions of a BiLSTM and the window
groups of the CNN in the output layer. A target parameter the source lacks (say an LSTM
where the source had convolutions) is drawn from N(mean, std) of the source's weights in the
same slot. :func:`transfer_across` returns a per-layer report of what happened.
"""
from __future__ import annotations

import mxnet as mx
import numpy as np

from ..model.network import TextClassifier, named_parameters
from .vocabulary import map_embeddings
from .weights import label_order


def _resize_axis(a: np.ndarray, axis: int, n: int, shrink: str, grow: str,
                 rng: np.random.RandomState) -> tuple[np.ndarray, set]:
    size = a.shape[axis]
    if size == n:
        return a, set()
    if n < size:
        if shrink == "pool":
            chunks = np.array_split(np.arange(size), n)
            return np.stack([a.take(c, axis=axis).mean(axis=axis) for c in chunks],
                            axis=axis), {"pooled"}
        return a.take(np.arange(n), axis=axis), {"cut"}
    extra_shape = list(a.shape)
    extra_shape[axis] = n - size
    if grow == "zero":
        extra = np.zeros(extra_shape, a.dtype)
    else:
        mean = a.mean(axis=axis, keepdims=True)
        noise = rng.normal(0.0, 0.1 * (a.std() or 1e-3), extra_shape)
        extra = (np.broadcast_to(mean, extra_shape) + noise).astype(a.dtype)
    return np.concatenate([a, extra], axis=axis), {"padded"}


def resize(a: np.ndarray, shape, blocks: dict | None = None, shrink: str = "cut",
           grow: str = "mean", rng: np.random.RandomState | None = None) -> tuple[np.ndarray, set]:
    """`a` resized to `shape`, axis by axis; returns the array and the actions taken.

    `blocks` maps an axis to ``(source blocks, target blocks)``: that axis is the
    concatenation of equal blocks (LSTM gates, directions, CNN windows), resized as
    (block count, block size).

    Examples
    --------
    >>> out, how = resize(np.arange(6.0).reshape(2, 3), (2, 2))
    >>> out.tolist(), sorted(how)
    ([[0.0, 1.0], [3.0, 4.0]], ['cut'])
    """
    if shrink not in ("cut", "pool") or grow not in ("mean", "zero"):
        raise ValueError(f"shrink must be cut or pool, grow mean or zero; got {shrink}, {grow}")
    rng = rng or np.random.RandomState(0)
    actions = set()
    for axis, n in enumerate(shape):
        bs, bt = (blocks or {}).get(axis, (1, 1))
        if a.shape[axis] % bs or n % bt:
            bs = bt = 1
        split = a.shape[:axis] + (bs, a.shape[axis] // bs) + a.shape[axis + 1:]
        b = a.reshape(split)
        b, how1 = _resize_axis(b, axis, bt, shrink, grow, rng)
        b, how2 = _resize_axis(b, axis + 1, n // bt, shrink, grow, rng)
        a = b.reshape(b.shape[:axis] + (n,) + b.shape[axis + 2:])
        actions |= how1 | how2
    return a, actions


def _blocks(name: str, source: dict, target: dict) -> dict:
    """Block structure of parameter `name`'s axes in the source and target configs."""
    if any(key in name for key in ("i2h_", "h2h_")):
        return {0: (4, 4)}  # LSTM gates i, f, c, o stacked on axis 0
    if name == "output.weight":
        count = {"cnn": lambda c: len(c["kernel_sizes"]), "bilstm": lambda c: 2,
                 "mean": lambda c: 1}
        return {1: (count[source["encoder"]](source), count[target["encoder"]](target))}
    return {}


def _slot_stats(params: dict, slot: str, kind: str):
    values = [p.data().asnumpy().ravel() for n, p in params.items()
              if n.split(".")[0] == slot and n.endswith(kind)]
    if not values:
        return None
    flat = np.concatenate(values)
    return float(flat.mean()), float(flat.std())


def transfer_across(source: TextClassifier, target: TextClassifier, source_vocab, target_vocab,  # noqa: PLR0913
                    source_labels, target_labels, keep_head: bool = True, shrink: str = "cut",
                    grow: str = "mean", seed: int = 0) -> dict:
    """Initialise `target` (initialised, any sizes) from `source`; returns the report.

    The report maps each target parameter to ``{"action", "from", "to"}``: ``copied``,
    ``mapped`` (embedding rows by token), ``cut``/``pooled``/``padded`` (and combinations),
    ``new: N(mean, std) of source <slot> weights``, or ``new`` (left as initialised).
    """
    rng = np.random.RandomState(seed)
    src, dst = named_parameters(source), named_parameters(target)
    order = label_order(source_labels, target_labels)
    report = {}
    for name, param in dst.items():
        shape = tuple(param.shape)
        if name.startswith("output.") and not (keep_head and order is not None):
            report[name] = {"action": "new", "from": None, "to": shape}
            continue
        if name not in src:
            stats = _slot_stats(src, name.split(".")[0], name.rsplit("_", 1)[-1].split(".")[-1])
            action = "new"
            if stats is not None:
                param.set_data(mx.nd.array(rng.normal(stats[0], stats[1] or 1e-3, shape)))
                action = f"new: N({stats[0]:.3g}, {stats[1]:.3g}) of source {name.split('.')[0]}"
            report[name] = {"action": action, "from": None, "to": shape}
            continue
        value = src[name].data().asnumpy()
        actions = set()
        if name in ("embedding.weight", "embedding.scale"):  # rows by token
            value, _ = map_embeddings(value, source_vocab, target_vocab)
            actions.add("mapped")
        elif name.startswith("output."):
            value = value[order]
        value, how = resize(value, shape, _blocks(name, source.config, target.config),
                            shrink, grow, rng)
        actions |= how
        param.set_data(mx.nd.array(value))
        report[name] = {"action": "+".join(sorted(actions)) or "copied",
                        "from": tuple(src[name].shape), "to": shape}
    return report


def format_report(report: dict) -> str:
    """The per-layer report as aligned lines: name, action, source shape -> target shape."""
    width = max(len(n) for n in report)
    fmt = lambda s: "x".join(map(str, s)) if s else "-"  # noqa: E731
    return "\n".join(f"{n.ljust(width)}  {r['action']:<12}  {fmt(r['from'])} -> {fmt(r['to'])}"
                     for n, r in report.items())


__all__ = ["format_report", "resize", "transfer_across"]
