"""Part 2: a 2-layer network for the 9-point check data, designed by hand and trained.

The exercise: the network (``MLP``, sigmoid or step units), the step
function ``heaviside``, and the hand-designed weights in ``entered_weights``
with their rescaling for sigmoid units in ``sigmoid_factor``. check_main.py
loads the data, trains the network or sets its weights, and prints and draws
what it computes, with the lab's modules in lab/check/ (the data, the
optimiser, the restarts, the read-outs and the plots).
"""
import torch
import torch.nn as nn

from lab.common.errors import UserError


def heaviside(z):
    """The step function: 1 where ``z >= 0``, else 0."""
    return (z >= 0).to(z.dtype)


def entered_weights():
    """The hand-designed network for ``--set_weights``: weights, biases and the rescaling factor.

    The factor comes from ``sigmoid_factor()``, asked for only when sigmoid units need it.
    """
    ##########################  Enter Weights Here  ##########################
    # >>> Part 2 Q2 [2 marks]: the hand design with step units
    # The target is 1 where x1+x2 is odd. Every hidden unit looks at s = x1+x2
    # and switches on past one threshold, s >= 0.5, 1.5, 2.5, 3.5; the output
    # adds them with alternating signs, H1 - H2 + H3 - H4, which is 1 for
    # s = 1 and 3 and 0 for s = 0, 2 and 4.
    in_hid_weight = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]  # hid x 2
    hid_bias = [-0.5, -1.5, -2.5, -3.5]                               # hid
    hid_out_weight = [[1.0, -1.0, 1.0, -1.0]]                         # 1 x hid
    out_bias = [-0.5]                                                 # 1
    # <<< Part 2 Q2
    ##########################################################################
    return {
        "in_hid.weight": in_hid_weight,
        "in_hid.bias": hid_bias,
        "hid_out.weight": hid_out_weight,
        "hid_out.bias": out_bias,
        "sig_factor": sigmoid_factor,
    }


def sigmoid_factor():
    """The number every hand-set weight and bias is multiplied by for sigmoid units."""
    # >>> Part 2 Q3 [1 mark]: the factor that rescales the design for sigmoid units
    sig_factor = 10.0  # with --act sig every weight and bias is multiplied by this
    # <<< Part 2 Q3
    return sig_factor


class MLP(nn.Module):
    """Two inputs, ``hid`` hidden units, one output; sigmoid (``act='sig'``) or step (``act='step'``) units.

    The forward pass keeps the hidden activations in ``self.hid``.
    """

    def __init__(self, hid=4, act="sig"):
        super().__init__()
        if act not in ("sig", "step"):
            raise UserError(f"unknown activation {act!r}; use sig or step")
        self.act = act
        self.in_hid = nn.Linear(2, hid)
        self.hid_out = nn.Linear(hid, 1)
        self.hid = None

    def forward(self, x):
        # >>> Part 2 Q1 [1 mark]: the forward pass
        squash = torch.sigmoid if self.act == "sig" else heaviside
        self.hid = squash(self.in_hid(x))
        return squash(self.hid_out(self.hid))
        # <<< Part 2 Q1

    def init_weights(self, std):
        """Draw every weight and bias from a normal distribution with mean 0 and deviation ``std``."""
        with torch.no_grad():
            for param in self.parameters():
                param.normal_(0.0, std)

    def set_weights(self, design=None):
        """Load the hand design (``entered_weights()`` unless ``design`` is given).

        Step units take the weights as designed; sigmoid units take them
        multiplied by the design's ``sig_factor``, so that they act almost
        like steps. Wrong shapes are a UserError naming the shapes expected.
        """
        design = entered_weights() if design is None else design
        factor = design.get("sig_factor", 1.0) if self.act == "sig" else 1.0
        factor = float(factor() if callable(factor) else factor)
        hid = self.in_hid.out_features
        expected = {name: tuple(param.shape) for name, param in self.named_parameters()}
        loaded = {}
        for name, shape in expected.items():
            try:
                value = torch.tensor(design[name], dtype=torch.float32)
            except KeyError:
                raise UserError(f"the entered weights have no {name}; expected shape {shape}") from None
            except (TypeError, ValueError):
                raise UserError(f"the entered {name} is not a table of numbers; expected shape {shape}") from None
            if tuple(value.shape) != shape:
                wanted = ", ".join(f"{n} {s}" for n, s in expected.items())
                raise UserError(
                    f"the entered {name} has shape {tuple(value.shape)}, but --hid {hid} needs {shape} "
                    f"(all shapes expected: {wanted}); the hand design in entered_weights() is for its own "
                    f"number of hidden units, so use that --hid or edit the 'Enter Weights Here' block")
            loaded[name] = value * factor
        with torch.no_grad():
            for name, param in self.named_parameters():
                param.copy_(loaded[name])
