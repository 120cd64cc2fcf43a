"""Tests for report.py: one quick report built on synthetic KMNIST, checked against its run records.

The report is built once for the module (about a minute on 2 cores); the
other tests read it, or copy it and build again from it (--reuse, a missing
KMNIST, Ctrl-C). A second report, of Part 1 alone at its full 10 epochs on a
noisier synthetic KMNIST (where the first and last epochs differ), is
checked against what its command printed and against hand computations;
the quick report's Part 2 and Part 3 texts are checked against the printed
lines of their commands and its Part 2 captions against the images.
"""
import html
import html.parser
import pathlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import default_signals, interrupt, make_noisy_kmnist
from lab.report.document import to_html, to_markdown

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(out, *flags, cwd=None, timeout=600):
    """Run report.py; returns the completed process."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "report.py"), "--out", str(out), *flags],
                          cwd=cwd or os.path.dirname(str(out)), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def quick_report(quick_report_build):
    """(folder, completed process, synthetic data folder) of `report.py --quick` on synthetic KMNIST (built once for
    the test run: conftest.quick_report_build)."""
    return quick_report_build


class Page(html.parser.HTMLParser):
    """What a report page holds: section ids, image sources, tables (as lists of rows of cell texts), notes."""

    def __init__(self, text):
        super().__init__()
        self.sections, self.images, self.tables, self.notes, self.text = [], [], [], [], []
        self._cell = self._note = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self.sections.append(attrs.get("id"))
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p" and attrs.get("class") in ("note", "failed"):
            self._note = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "p" and self._note is not None:
            self.notes.append("".join(self._note))
            self._note = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._note is not None:
            self._note.append(data)


def page(folder):
    return Page((folder / "index.html").read_text(encoding="utf-8"))


def record(folder, path):
    return json.loads((folder / path).read_text(encoding="utf-8"))


def table_after(tables, first_header):
    """The first table whose header row starts with ``first_header``."""
    return next(t for t in tables if t and t[0] and t[0][0] == first_header)


def test_every_section_image_and_table_is_there(quick_report):
    folder, done, _ = quick_report
    p = page(folder)
    assert p.sections == ["part1", "part2", "part3"]
    assert len(p.images) >= 30
    for src in p.images:
        assert (folder / src).is_file(), src
        assert not os.path.isabs(src) and ".." not in src  # beside the page: the folder can be moved
    headers = [t[0][0] for t in p.tables]
    assert headers.count("true \\ chosen") == 3  # a confusion matrix per net
    assert {"step", "net", "set", "cell unit"} <= set(headers)
    assert "Quick version" in p.notes[0]
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)) == sorted(p.images)
    assert "> Quick version" in markdown and markdown.count("## Part ") == 3


def test_progress_lines_name_each_step(quick_report):
    _, done, _ = quick_report
    lines = done.stdout.splitlines()
    assert len([line for line in lines if " running: " in line]) == 17
    assert re.match(r"\[1/17 +\d+\.\d s\] running: NetLin on KMNIST: python3 kuzu_main.py --net lin --epochs 1 ",
                    lines[0])
    assert len([line for line in lines if re.search(r"\] done \(\d+\.\d s\)$", line)]) == 17
    assert lines[-1].endswith("(17 of 17 steps finished)")


def test_part1_numbers_are_the_records(quick_report):
    folder, _, _ = quick_report
    p = page(folder)
    accuracy_rows = table_after(p.tables, "net")[1:]
    for row, net in zip(accuracy_rows, ("lin", "full", "conv")):
        r = record(folder, f"part1/kuzu_{net}.json")["results"]
        assert row[1] == f"{r['accuracy']:.2f}%" and row[2] == f"{r['correct']}/{r['test_images']}"
        assert row[3] == f"{r['parameters']:,}"
    matrices = [t for t in p.tables if t[0][0] == "true \\ chosen"]
    for matrix, net in zip(matrices, ("lin", "full", "conv")):
        r = record(folder, f"part1/kuzu_{net}.json")["results"]
        assert [row[1:] for row in matrix[1:]] == [[str(v) for v in row] for row in r["confusion"]]
        assert [row[0] for row in matrix[1:]] == r["classes"] == matrix[0][1:]
    # the record itself against the run's own printout
    log = (folder / "logs" / "kuzu_lin.txt").read_text()
    r = record(folder, "part1/kuzu_lin.json")
    assert f"Test accuracy: {r['results']['accuracy']:.2f}%" in log
    assert r["command_line"] == "python3 kuzu_main.py --net lin --epochs 1 --plot-dir part1"


def test_part2_and_part3_numbers_are_the_records(quick_report):
    folder, _, _ = quick_report
    text = "".join(page(folder).text)
    step = record(folder, "part2/step_4_set/check_step_4_set.json")["results"]
    assert step["accuracy"] == 100.0 and "Hand-set weights, not trained: accuracy 100.00%" in text
    assert step["activation_table"] in text and step["dividing_lines"][0] in text
    trained = record(folder, "part2/sig_5/check_sig_5.json")["results"]
    assert f"{trained['epochs']} epochs" in text
    fsm = record(folder, "part3/plot/anb2n_srn2_fsm.json")["results"]
    validation = table_after(page(folder).tables, "set")
    assert validation[1][1] == str(fsm["validation"][0]["deterministic"])
    assert validation[1][2] == f"{fsm['validation'][0]['machine_right']:.2%}"
    assert f"Extracted machine: {len(fsm['raw_machine']['states'])} states, {fsm['merged']['states']} after" in text


def test_the_page_renders_in_chromium_with_every_image_loaded(quick_report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    folder, _, _ = quick_report
    probe = folder / "probe.html"  # the page plus a script that writes, after load, which images decoded
    probe.write_text((folder / "index.html").read_text().replace(
        "</body>", "<script>window.addEventListener('load', () => { document.body.dataset.images = "
                   "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0 ? 1 : 0).join(''); "
                   "});</script></body>"))
    try:
        done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
                               "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    found = re.search(r'data-images="([01]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    assert found.group(1) == "1" * len(page(folder).images)


def test_reuse_missing_kmnist_and_a_failed_part(quick_report, tmp_path):
    folder, _, _ = quick_report
    copy = tmp_path / "report"
    shutil.copytree(folder, copy)
    done = build(copy, "--quick", "--reuse", "--data", str(tmp_path / "nowhere"))
    assert done.returncode == 1
    assert done.stdout.count("reused: ") == 14  # Parts 2 and 3; Part 1 had other data
    assert "skipped: NetFull on KMNIST" in done.stdout and "not finished: kuzu_lin (failed)" in done.stderr
    p = page(copy)
    assert p.sections == ["part1", "part2", "part3"]
    failed = [note for note in p.notes if note.startswith("Failed: NetLin")]
    assert failed and "KMNIST not found" in failed[0] and "How to fix" in failed[0]
    assert (copy / "part2" / "sig_5" / "check_sig_5.json").read_text() == \
        (folder / "part2" / "sig_5" / "check_sig_5.json").read_text()  # reused, not run again
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".report-")]


def test_ctrl_c_leaves_the_previous_report_whole(quick_report, tmp_path):
    folder, _, data = quick_report
    copy = tmp_path / "report"
    shutil.copytree(folder, copy)
    before = (copy / "index.html").read_text()
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "report.py"), "--out", str(copy), "--parts", "2",
                             "--data", str(data)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=default_signals)
    started = time.time()
    assert " running: " in proc.stdout.readline()
    err = interrupt(proc, lambda: time.time() > started + 1.0)
    assert proc.returncode == 130 and "Traceback" not in err
    assert (copy / "index.html").read_text() == before
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".report-")]


def test_a_folder_that_is_not_a_report_is_not_replaced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    done = build(tmp_path / "mine", "--parts", "2")
    assert done.returncode == 1 and "holds something other than a report" in done.stderr
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "keep me"


def test_real_kmnist_part1(quick_report, real_kmnist_root, tmp_path):
    folder, _, _ = quick_report
    copy = tmp_path / "report"
    shutil.copytree(folder, copy)
    done = build(copy, "--quick", "--reuse", "--data", real_kmnist_root, "--nets", "lin")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("reused: ") == 14 and done.stdout.count(" running: ") == 1
    assert page(copy).tables[1][0][0] == "net" and len(table_after(page(copy).tables, "net")) == 2  # lin only
    lin = record(copy, "part1/kuzu_lin.json")["results"]
    assert lin["test_images"] == 10000 and lin["accuracy"] > 60.0
    row = table_after(page(copy).tables, "net")[1]
    assert row[1] == f"{lin['accuracy']:.2f}%"


def test_renderers_escape_and_keep_the_same_content():
    blocks = [("title", "A <b>&</b> title"), ("section", "part1", "One"), ("text", "see `x < y`"),
              ("table", ["a|b", "n"], [["1 | 2", "3.50%"]], "cap"), ("figure", "p/x.jpg", "fig `cmd`"),
              ("code", "x < 1", "")]
    page_text = to_html(blocks)
    assert "<h1>A &lt;b&gt;&amp;&lt;/b&gt; title</h1>" in page_text and "<code>x &lt; y</code>" in page_text
    assert '<td class="num">3.50%</td>' in page_text and "<td>1 | 2</td>" in page_text
    assert '<img src="p/x.jpg"' in page_text and "<pre>x &lt; 1</pre>" in page_text
    markdown = to_markdown(blocks)
    assert "| a\\|b | n |" in markdown and "| 1 \\| 2 | 3.50% |" in markdown
    assert "![fig cmd](p/x.jpg)" in markdown and "```\nx < 1\n```" in markdown


# ------------------------------------------------------------------------- the page against independent truth

CLASSES = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]  # KMNIST's published class order


@pytest.fixture(scope="module")
def part1_report(tmp_path_factory):
    """(folder, NetLin's printed output) of `report.py --parts 1 --nets lin --seed 3`: 10 epochs on noisy data."""
    base = tmp_path_factory.mktemp("report1")
    make_noisy_kmnist(str(base / "data"))
    done = build(base / "report", "--parts", "1", "--nets", "lin", "--seed", "3", "--data", str(base / "data"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return base / "report", (base / "report" / "logs" / "kuzu_lin.txt").read_text()


def printed_tests(log):
    """(right, total) of every 'Test set' line a Part 1 run printed, one per epoch."""
    return [(int(a), int(b)) for a, b in re.findall(r"^Test set: Average loss: [\d.]+, Accuracy: (\d+)/(\d+) ", log,
                                                    re.M)]


def last_printed_matrix(log):
    block = re.findall(r"^\[\[.*?\]\]$", log, re.M | re.S)[-1]
    return [[int(float(v)) for v in row.strip(" []").split()] for row in block.splitlines()]


def test_part1_heading_tables_and_text_are_the_last_epochs(part1_report):
    folder, log = part1_report
    tests = printed_tests(log)
    assert len(tests) == 10 and tests[0] != tests[-1]  # the premise: the first epoch is not the last
    right, total = tests[-1]
    accuracy = f"{100 * right / total:.2f}%"
    p = page(folder)
    text = "".join(p.text)
    assert f"NetLin: {accuracy} after 10 epoch(s)" in text
    rows = table_after(p.tables, "net")
    assert len(rows) == 2 and rows[1][:5] == ["NetLin", accuracy, f"{right}/{total}", "7,850",
                                                 "out: 784*10+10 = 7,850"]
    matrix = last_printed_matrix(log)
    table = table_after(p.tables, "true \\ chosen")
    assert table[0][1:] == CLASSES and [row[0] for row in table[1:]] == CLASSES
    assert [[int(v) for v in row[1:]] for row in table[1:]] == matrix
    assert sum(matrix[i][i] for i in range(10)) == right
    pairs = re.search(r"Most confused \(true -> chosen\): (.*?)\.", text).group(1)
    found = [(t, c, int(n)) for t, c, n in re.findall(r"(\w+) -> (\w+) \((\d+)\)", pairs)]
    off = sorted((matrix[i][j] for i in range(10) for j in range(10) if i != j), reverse=True)[:3]
    assert [n for _, _, n in found] == off  # the three largest cells off the diagonal, read row (true) -> column
    assert all(t != c and matrix[CLASSES.index(t)][CLASSES.index(c)] == n for t, c, n in found)
    assert "seed=3 " in log and "--seed 3" in table_after(p.tables, "step")[1][4]
    captions = [c for c in re.findall(r"!\[([^\]]*)\]", (folder / "report.md").read_text())]
    assert [c.split(",")[0] for c in captions] == ["Confusion heatmap", "Test examples per class: six it got right",
                                                   "Training loss and test accuracy per epoch",
                                                   "NetLin's most-confused pairs: the two characters' mean test images"
                                                   ][:len(captions)]
    assert len(captions) >= 3


def grey_area(path):
    """Pixels of the flat grey fill in a Part 2 unit plot (a JPEG: greys within a small tolerance)."""
    from PIL import Image
    import numpy as np

    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=float) / 255
    value = rgb.mean(-1)
    greyish = (np.ptp(rgb, axis=-1) < 0.05) & (value > 0.5) & (value < 0.95)
    levels, counts = np.unique(np.round(value[greyish], 2), return_counts=True)
    return int((greyish & (np.abs(value - levels[counts.argmax()]) < 0.04)).sum())


def test_part2_captions_number_the_hidden_units_as_the_plots_show_them(quick_report):
    """The hand design's unit Hk is on where x1 + x2 >= k - 0.5. Over the plotted square [-0.5, 2.5]^2 (area 9)
    that is 7.875, 5.875, 3.125 and 1.125: each caption "Hidden unit Hk" must be under the image greyed so."""
    folder, _, _ = quick_report
    shares = [7.875, 5.875, 3.125, 1.125]
    figures = re.findall(r"!\[Hidden unit H(\d+):[^\]]*\]\((part2/step_4_set/[^)]+)\)",
                         (folder / "report.md").read_text())
    assert len(figures) == 4
    areas = {int(k): grey_area(folder / path) for k, path in figures}
    for k, area in areas.items():
        ratio = area / areas[1]
        unit = min(range(4), key=lambda u: abs(shares[u] / shares[0] - ratio)) + 1
        assert unit == k and ratio == pytest.approx(shares[k - 1] / shares[0], abs=0.02), (k, ratio)


def test_part2_and_part3_texts_are_what_the_commands_printed(quick_report):
    folder, _, _ = quick_report
    text = "".join(page(folder).text)
    log = (folder / "logs" / "check_sig_5.txt").read_text()
    epochs = re.search(r"^Stopped at epoch (\d+): ", log, re.M).group(1)
    accuracy = float(re.findall(r"^Final Accuracy:\s+([\d.]+)$", log, re.M)[-1])
    assert f"Trained: accuracy {accuracy:.2f}%, {epochs} epochs" in text
    for name, candidates in (("anb2n_srn2", 8), ("anb2nc3n_lstm3", 1)):
        log = (folder / "logs" / f"train_{name}.txt").read_text()
        right, total, loss = re.search(r"deterministic symbols predicted \(p > 0\.5\) [\d.]+% \((\d+)/(\d+)\), "
                                       r"mean loss ([\d.]+)$", log, re.M).groups()
        seen = int(re.search(r"^trained on (\d+) sequences", log, re.M).group(1))
        assert (f"trained on {seen:,} sequences; on 100 fresh ones it predicts {int(right) / int(total):.1%} of the "
                f"deterministic symbols, mean loss {loss}") in text, name
        if candidates > 1:
            chosen = re.search(r"\(candidate (\d+), final choice\)", log).group(1)
            assert f"The best of {candidates} candidates (number {chosen}) was kept at 10k sequences" in text
        fsm = (folder / "logs" / f"fsm_{name}.txt").read_text()
        raw, merged = re.search(r"^number of states: (\d+) \((\d+) after merging", fsm, re.M).groups()
        assert f"Extracted machine: {raw} states, {merged} after merging" in text


CITED = re.compile(r"record <code>([^<]+)</code>")


def test_every_table_and_figure_cites_a_record_that_exists(quick_report):
    folder, _, _ = quick_report
    text = (folder / "index.html").read_text(encoding="utf-8")
    captions = re.findall(r'</table><div class="caption">(.*?)</div>', text, re.S)
    captions += re.findall(r"<figcaption>(.*?)</figcaption>", text, re.S)
    assert text.count("</table>") == len(re.findall(r'</table><div class="caption">', text))
    assert len(captions) >= 40
    for caption in captions:
        cited = CITED.findall(caption)
        assert cited, caption
        for path in cited:
            where = folder.parent / path if not os.path.isabs(path) else pathlib.Path(path)
            assert where.is_file(), path
            json.loads(where.read_text(encoding="utf-8"))


def test_the_why_sections_say_what_their_records_say(quick_report):
    folder, _, _ = quick_report
    text = (folder / "index.html").read_text(encoding="utf-8")
    for heading in ("Why these characters are confused", "How the SRN predicts a^n b^2n",
                    "How the LSTM counts a^n b^2n c^3n"):
        assert f"<h3>{heading}</h3>" in text
    items = [html.unescape(re.sub("<[^>]+>", "", i)) for i in re.findall(r"<li>(.*?)</li>", text, re.S)]
    for name in ("anb2n_srn2", "anb2nc3n_lstm3"):
        sentences = record(folder, f"part3/plot/{name}_explain.json")["results"]["sentences"]
        assert sentences and all(s in items for s in sentences)
    for net in ("lin", "full", "conv"):
        why = record(folder, f"part1/kuzu_{net}.json")["results"]["why_confused"]
        assert len(why) == 3 and all(s in items for s in why)
    assert any(i.startswith("anb2n: A1..A4 after 1..4 A's") for i in items)  # the legend of the state names
    fsm = record(folder, "part3/plot/anb2n_srn2_fsm.json")["results"]
    beyond = next(r for r in fsm["validation"] if r["set"].startswith("beyond"))
    plain = html.unescape(re.sub("<[^>]+>", "", text))
    note = re.search(r'Beyond the training range \((n 5\.\.8)\) the machine is right on ([\d.]+)% of the (\d+) '
                     r'deterministic symbols.*?"stuck" counts those positions, (\d+) here.*?The network itself gets '
                     r'([\d.]+)%', plain, re.S)
    assert note, "no sentence under the beyond-range rows"
    assert float(note.group(2)) == round(100 * beyond["machine_right"], 2)
    assert int(note.group(3)) == beyond["deterministic"] and int(note.group(4)) == beyond["stuck"]
    assert float(note.group(5)) == round(100 * beyond["network_right"], 2)
    assert text.count('<figure class="viewer3d"') == 2  # the LSTM's hidden and cell units, turnable
