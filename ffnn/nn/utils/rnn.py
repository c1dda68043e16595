"""``torch.nn.utils.rnn``'s padding helpers, as ``collate_fn``s use them for batches of
sequences of different lengths (ffnn has no recurrent layers, so no packed sequences):

* ``pad_sequence(seqs, batch_first=False, padding_value=0.0, padding_side='right')``: the
  sequences [Lᵢ, *] stacked into [L_max, B, *] (``batch_first``: [B, L_max, *]), each
  padded with ``padding_value`` after (``'left'``: before) its values; differentiable in them;
* ``unpad_sequence(padded, lengths, batch_first=False)``: the list of sequences back.
"""

from __future__ import annotations

from ffnn import creation
from ffnn.tensor import Tensor


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """[L_max, B, *] (or [B, L_max, *]): each sequence padded to the longest (see the
    module)."""
    sequences = [sequences] if isinstance(sequences, Tensor) else list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    trailing = tuple(sequences[0].shape[1:])
    for i, seq in enumerate(sequences):
        if tuple(seq.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing shape "
                               f"{trailing} of the first. Received: sequence {i} of shape "
                               f"{tuple(seq.shape)}")
    longest = max(seq.shape[0] for seq in sequences)
    padded = []
    for seq in sequences:
        pad = creation.full((longest - seq.shape[0], *trailing), padding_value,
                            dtype=seq.dtype)
        padded.append(creation.cat([seq, pad] if padding_side == "right" else [pad, seq], 0))
    return creation.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The sequences of a right-padded batch, each cut to its length."""
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [batch[i, :int(length)] for i, length in enumerate(lengths)]


__all__ = ["pad_sequence", "unpad_sequence"]
