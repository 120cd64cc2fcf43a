"""What autograder.py checks for each code question, run inside the question's own process.

Every check takes the student's folder and the options and returns
``(awarded, why)``; a check that finds a fault raises ``Fault`` with a
sentence the student can act on. Each check imports the student's course
files itself (lab/teaching/child.py puts the student's folder first on the
path), so a broken file costs only its question. The numbers a check
compares against are ``THRESHOLDS`` (docs/teaching.md says how they were
chosen and how to change them).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Short seeded training on KMNIST: images trained on (one epoch, batch 64), learning rate, momentum, and the
# test images scored (the first of the test split). Accuracy needed after it (docs/teaching.md).
SHORT_TRAINING = {"lin": (60000, 0.01, 0.9), "full": (60000, 0.01, 0.9), "conv": (24000, 0.03, 0.9)}
TEST_IMAGES = 2000
THRESHOLDS = {"lin": 0.60, "full": 0.72, "conv": 0.85}
NETS = {"1.1": ("lin", "NetLin"), "1.2": ("full", "NetFull"), "1.3": ("conv", "NetConv")}
SEQ_RUNS = {"3.1": ("anb2n", "srn", 2), "3.4": ("anb2nc3n", "lstm", 3)}
FRESH_SEQUENCES = 100  # the networks of Part 3 are scored on this many fresh sequences, as seq_train.py's verdict
TOLERANCE = 1e-4


class Fault(Exception):
    """The student's answer is wrong; the message says what and how to see it."""


def student(name):
    """Import one of the student's course files (the student's folder is first on the path)."""
    __import__(name)
    return sys.modules[name]


# ---------------------------------------------------------------- Part 1


def _recording(model):
    """Hooks that keep every Linear's and Conv2d's input and output, in call order."""
    calls = []

    def hook(module, inputs, output):
        calls.append((module, inputs[0].detach(), output.detach()))

    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.register_forward_hook(hook)
    return calls


def _layers(model, kind):
    return [m for m in model.modules() if isinstance(m, kind)]


def _activation(before, after):
    """Name the function that maps ``before`` to ``after`` (tanh, sigmoid, relu, none) or None."""
    if before.shape != after.shape:
        return None
    for name, fn in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("relu", F.relu), ("no activation", None)):
        if torch.allclose(after, before if fn is None else fn(before), atol=1e-5):
            return name
    return None


def _relu_after(tensor, what):
    """A layer's input must come out of a ReLU: nothing negative, some exact zeros."""
    if tensor.min().item() < -1e-6:
        raise Fault(f"{what} gets negative values: the layer before it needs a ReLU")
    if not (tensor == 0).any():
        raise Fault(f"{what} gets no zeros at all: the layer before it needs a ReLU (not a sigmoid)")


def check_output(model, images):
    """The output must be (batch, 10) log-probabilities."""
    with torch.no_grad():
        out = model(images)
    if tuple(out.shape) != (len(images), 10):
        raise Fault(f"for a batch of {len(images)} images it returns shape {tuple(out.shape)}; "
                    f"it must return ({len(images)}, 10), one score per character class")
    total = out.exp().sum(1)
    if not (torch.isfinite(out).all() and torch.allclose(total, torch.ones_like(total), atol=1e-4)):
        raise Fault("its output is not log softmax: the exp of each row must sum to 1 "
                    "(end the forward pass with F.log_softmax(..., dim=1))")
    return out


def structure(net, model):
    """Check the net's structure as its question states it; returns (parameters, the question's arithmetic)."""
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(16, 1, 28, 28, generator=generator)
    model.eval()
    calls = _recording(model)
    check_output(model, images)
    linears, convs = _layers(model, nn.Linear), _layers(model, nn.Conv2d)
    if net == "lin":
        if len(linears) != 1 or convs:
            raise Fault(f"NetLin has {len(linears)} linear and {len(convs)} convolutional layers; "
                        "it must be one nn.Linear(784, 10)")
        other = torch.randn(16, 1, 28, 28, generator=generator)
        with torch.no_grad():
            def scores(x):  # log softmax only shifts each row, so score differences are linear in x
                out = model(x)
                return out - out[:, :1]
            gap = scores(images + other) - scores(images) - scores(other) + scores(torch.zeros_like(images))
        if gap.abs().max().item() > 1e-3:
            raise Fault("NetLin's scores are not a linear function of the pixels: "
                        "use one linear map, with no activation before log softmax")
        arithmetic = 784 * 10 + 10
    elif net == "full":
        if len(linears) != 2 or convs:
            raise Fault(f"NetFull has {len(linears)} linear and {len(convs)} convolutional layers; it must be "
                        "two nn.Linear layers, 784 -> hidden -> 10")
        hidden = linears[0].out_features
        seen = {id(module): (before, after) for module, before, after in calls}
        if id(linears[0]) not in seen or id(linears[1]) not in seen:
            raise Fault("NetFull's forward pass does not use both of its linear layers")
        act = _activation(seen[id(linears[0])][1], seen[id(linears[1])][0])
        if act != "tanh":
            raise Fault(f"NetFull's hidden units are {act or 'not tanh'}; the question asks for tanh "
                        "(torch.tanh between the two layers)")
        arithmetic = 784 * hidden + hidden + hidden * 10 + 10
    else:
        if len(convs) != 2:
            raise Fault(f"NetConv has {len(convs)} convolutional layers; the question asks for two")
        if len(linears) != 2:
            raise Fault(f"NetConv has {len(linears)} linear layers; it needs one fully connected hidden layer "
                        "and the output layer")
        seen = {id(module): before for module, before, _ in calls}
        for layer, what in ((convs[1], "the second convolution"), (linears[0], "the fully connected layer"),
                            (linears[1], "the output layer")):
            if id(layer) not in seen:
                raise Fault(f"NetConv's forward pass does not use {what}")
            _relu_after(seen[id(layer)], what)
        c1, c2, fc = convs[0], convs[1], linears[0]
        arithmetic = (c1.in_channels * c1.kernel_size[0] * c1.kernel_size[1] * c1.out_channels + c1.out_channels
                      + c2.in_channels * c2.kernel_size[0] * c2.kernel_size[1] * c2.out_channels + c2.out_channels
                      + fc.in_features * fc.out_features + fc.out_features + fc.out_features * 10 + 10)
        if linears[1].out_features != 10:
            raise Fault(f"NetConv's output layer has {linears[1].out_features} units; it needs 10")
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if count != arithmetic:
        raise Fault(f"it has {count:,} parameters but its layers' arithmetic gives {arithmetic:,}: "
                    "a layer has no bias or the net holds parameters its structure does not have")
    return count, arithmetic


def kmnist_folder(folder):
    """The KMNIST data folder ($KMNIST_DATA, else the student's data/), or None when its files are not there."""
    from lab.characters.kmnist import EXPECTED_FILES, _find, raw_dir
    for root in (os.environ.get("KMNIST_DATA"), os.path.join(folder, "data")):
        if root and all(_find(raw_dir(root), name) for name in EXPECTED_FILES):
            return root
    return None


def short_training(net, model, root, seed=0):
    """Train ``model`` for one short seeded epoch (SHORT_TRAINING) and return its test accuracy (0..1)."""
    from lab.characters.kmnist import load_split
    images, labels = load_split(root, "train", download=False)
    test_images, test_labels = load_split(root, "test", download=False)
    count, lr, momentum = SHORT_TRAINING[net]
    torch.manual_seed(seed)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))[:count]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()
    for start in range(0, len(order), 64):
        index = order[start:start + 64]
        optimizer.zero_grad()
        loss = F.nll_loss(model(images[index]), labels[index])
        if not torch.isfinite(loss):
            raise Fault("the loss became infinite or NaN during the short training")
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = model(test_images[:TEST_IMAGES]).argmax(1)
    return (predicted == test_labels[:TEST_IMAGES]).float().mean().item()


def part1(key, folder, options):
    """Part 1 Q1-Q3: the net's structure, its parameter count, its accuracy after a short training."""
    net, name = NETS[key]
    kuzu = student("kuzu")
    torch.manual_seed(0)
    model = getattr(kuzu, name)()
    count, _ = structure(net, model)
    root = kmnist_folder(folder)
    if root is None:
        return 1.0, (f"structure right ({count:,} parameters); KMNIST not found ($KMNIST_DATA or data/KMNIST/raw), "
                     "so the accuracy was not checked")
    torch.manual_seed(0)
    accuracy = short_training(net, getattr(kuzu, name)(), root)
    need = THRESHOLDS[net]
    if accuracy < need:
        raise Fault(f"structure right, but after the short training it scores {accuracy:.1%} on "
                    f"{TEST_IMAGES} test images, below the {need:.0%} needed: check the forward pass")
    return 1.0, f"structure right ({count:,} parameters); {accuracy:.1%} after the short training (needs {need:.0%})"


# ---------------------------------------------------------------- Part 2


def _points(folder):
    from lab.check.data import load_data
    from lab.check.settings import DEFAULT_DATA
    path = os.path.join(folder, "data", "check.csv")
    return load_data(path if os.path.isfile(path) else DEFAULT_DATA)


def _by_hand(net, x, squash):
    """The network's output computed here from its weights: squash(W2 squash(W1 x + b1) + b2)."""
    with torch.no_grad():
        hidden = squash(x @ net.in_hid.weight.T + net.in_hid.bias)
        return hidden, squash(hidden @ net.hid_out.weight.T + net.hid_out.bias)


def _step(z):
    return (z >= 0).float()


def _wrong_points(out, x, y):
    wrong = [(float(a), float(b)) for (a, b), o, t in zip(x.tolist(), out[:, 0].tolist(), y[:, 0].tolist())
             if (o >= 0.5) != (t >= 0.5)]
    return wrong


def part2_forward(folder, options):
    """Part 2 Q1: the forward pass computes the 2-layer network, and training reaches 100%."""
    check = student("check")
    x, y = _points(folder)
    for act, squash in (("sig", torch.sigmoid), ("step", _step)):
        torch.manual_seed(3)
        net = check.MLP(4, act)
        net.init_weights(1.0)
        with torch.no_grad():
            out = net(x)
        hidden, expected = _by_hand(net, x, squash)
        if tuple(out.shape) != tuple(expected.shape) or not torch.allclose(out, expected, atol=TOLERANCE):
            raise Fault(f"with --act {act} the forward pass does not compute {act}(W2 {act}(W1 x + b1) + b2)")
        if net.hid is None or not torch.allclose(net.hid, hidden, atol=TOLERANCE):
            raise Fault(f"with --act {act} self.hid does not hold the hidden units' activations")
    from lab.check.settings import Settings
    from lab.check.training import train
    settings = Settings(hid=5, act="sig")
    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed)
    net = check.MLP(5, "sig")
    net.init_weights(settings.init)
    train(settings, net, x, y, log=lambda *args: None)
    _, out = _by_hand(net, x, torch.sigmoid)
    wrong = _wrong_points(out, x, y)
    if wrong:
        raise Fault(f"trained with 5 sigmoid units it still gets {len(wrong)} of 9 points wrong: {wrong}")
    return 1.0, "forward pass right; trained with 5 sigmoid units it classifies all 9 points"


def _design(check, act):
    net = check.MLP(4, act)
    net.set_weights()
    return net


def part2_step(folder, options):
    """Part 2 Q2: the hand design with 4 step units classifies all 9 points."""
    check = student("check")
    x, y = _points(folder)
    net = _design(check, "step")
    _, out = _by_hand(net, x, _step)
    wrong = _wrong_points(out, x, y)
    if wrong:
        raise Fault(f"the hand design with step units gets {len(wrong)} of 9 points wrong: {wrong}; "
                    "check its dividing lines (check_main.py --act step --hid 4 --set_weights)")
    return 1.0, "the hand design with 4 step units classifies all 9 points"


def part2_rescaled(folder, options):
    """Part 2 Q3: the same design, every weight and bias x10, classifies the 9 points as the step design does."""
    check = student("check")
    if hasattr(check, "sigmoid_factor"):
        check.sigmoid_factor()  # an unfinished stub stops here, naming this question
    x, y = _points(folder)
    step, sig = _design(check, "step"), _design(check, "sig")
    ratios = torch.cat([(s.detach() / p.detach()).flatten()[p.detach().flatten() != 0]
                        for s, p in zip(sig.parameters(), step.parameters())])
    zero_ok = all(torch.equal(s.detach()[p.detach() == 0], p.detach()[p.detach() == 0])
                  for s, p in zip(sig.parameters(), step.parameters()))
    if not zero_ok or not torch.allclose(ratios, torch.full_like(ratios, 10.0), rtol=1e-5):
        found = sorted({round(v, 3) for v in ratios.tolist()})
        raise Fault(f"the sigmoid network's weights are the step design times {found}, not all times 10: "
                    "rescale every weight and bias by the same factor, 10")
    _, out = _by_hand(sig, x, torch.sigmoid)
    _, steps = _by_hand(step, x, _step)
    differ = _wrong_points(out, x, steps)  # judged against the step design, so Q2 alone pays for its mistakes
    if differ:
        raise Fault(f"rescaled to sigmoid units the design classifies {len(differ)} of 9 points unlike the step "
                    f"units: {differ}; a sigmoid needs the sums well away from 0 to act like a step")
    return 1.0, "the design x10 with sigmoid units classifies the 9 points as the step units do"


# ---------------------------------------------------------------- Part 3


def _trained_checkpoint(key, folder, options):
    """The student's latest checkpoint for the question (or one trained now with --train); None if none."""
    from lab.recurrent.series import checkpoint_path, find_checkpoint
    from lab.common.errors import UserError
    lang, model, hid = SEQ_RUNS[key]
    try:
        return find_checkpoint(os.path.join(folder, "net"), lang, model, hid), "your checkpoint"
    except UserError:
        if not options.get("train"):
            return None, checkpoint_path("net", lang, model, hid, "<k>")
    scratch = options["scratch"]
    from lab.recurrent.training import TARGET_LOSS
    # trained until the course's loss target holds (seq_train.py --until), as the question asks, not for all epochs
    command = [sys.executable, os.path.join(folder, "seq_train.py"), "--lang", lang, "--model", model,
               "--hid", str(hid), "--seed", "0", "--until", str(TARGET_LOSS[lang]),
               "--out_path", scratch, "--plot_path", scratch]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Fault(f"seq_train.py --lang {lang} failed with your files: {last}")
    return find_checkpoint(scratch, lang, model, hid), "trained now with your files"


def part3(key, folder, options):
    """Part 3 Q1 and Q4: the trained network reaches the course's loss target on fresh sequences."""
    lang_name, kind, hid = SEQ_RUNS[key]
    with tempfile.TemporaryDirectory(prefix="autograder-") as scratch:
        return _score(key, folder, dict(options, scratch=scratch))


def _score(key, folder, options):
    lang_name, kind, hid = SEQ_RUNS[key]
    path, source = _trained_checkpoint(key, folder, options)
    if path is None:
        command = "python3 seq_train.py " + {"3.1": "--lang anb2n", "3.4": "--lang anb2nc3n --model lstm --hid 3"}[key]
        return 0.0, f"not done yet: no trained network {source}; run {command} (or autograder.py --train)"
    seq_models = student("seq_models")
    from lab.recurrent.languages import make_language
    from lab.recurrent.training import TARGET_LOSS, evaluate, learned
    model, ckpt = seq_models.load_checkpoint(path)
    if not isinstance(model, seq_models.MODELS[kind]) or ckpt["config"]["num_hid"] != hid:
        raise Fault(f"{os.path.basename(path)} is not a {kind.upper()} with {hid} hidden units")
    lang = make_language(lang_name)
    rng = np.random.default_rng(2024)
    result = evaluate(model, lang, [lang.get_sequence(rng) for _ in range(FRESH_SEQUENCES)])
    share = result["det_right"] / max(result["det_total"], 1)
    target = TARGET_LOSS[lang_name]
    said = (f"{source} ({os.path.basename(path)}): loss {result['loss']:.4f} on {FRESH_SEQUENCES} fresh sequences "
            f"(target < {target}), {share:.1%} of the certain symbols predicted")
    if not learned(result, target):
        raise Fault(said + ": not learned yet; train longer or with another --seed")
    return 1.0, said


CHECKS = {"1.1": lambda f, o: part1("1.1", f, o), "1.2": lambda f, o: part1("1.2", f, o),
          "1.3": lambda f, o: part1("1.3", f, o), "2.1": part2_forward, "2.2": part2_step,
          "2.3": part2_rescaled, "3.1": lambda f, o: part3("3.1", f, o), "3.4": lambda f, o: part3("3.4", f, o)}
