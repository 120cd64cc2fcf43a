"""The report's 3-D view that turns in the browser, rendered in headless Chromium (skipped where it is absent).

The page is built from the analysis of a small seeded LSTM. A probe script
added to the page reads the canvas, drags across it with pointer events,
reads it again, presses "Save as PNG" (catching the download link), and
lists every resource the page loaded; the test checks that the view drew,
that the drag changed it, that the PNG is a real PNG of the canvas's size,
that nothing outside the page's folder was requested and that the console
shows no error.
"""
import base64
import json
import re
import shutil
import struct
import subprocess

import pytest
import torch

from lab.explain.analysis import explain
from lab.recurrent.languages import make_language
from lab.report.document import to_html
from lab.report.viewer import views
from seq_models import LSTM_model

PROBE = """<script>
window.addEventListener('load', () => {
  const fig = document.querySelector('.viewer3d'), canvas = fig.querySelector('canvas');
  const before = canvas.toDataURL();
  const r = canvas.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
  const ev = (type, dx) => canvas.dispatchEvent(new PointerEvent(type, {clientX: x + dx, clientY: y + dx / 3,
                                                                        bubbles: true, pointerId: 1}));
  ev('pointerdown', 0); ev('pointermove', 40); ev('pointermove', 90); ev('pointerup', 90);
  const after = canvas.toDataURL();
  let saved = '';
  HTMLAnchorElement.prototype.click = function () { saved = this.href; };
  fig.querySelector('.save').click();
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({drew: before.length > 1000, changed: before !== after, saved: saved,
    width: canvas.width, height: canvas.height, view: fig.dataset.view, draws: fig.dataset.draws,
    resources: performance.getEntriesByType('resource').map(e => e.name)});
  document.body.appendChild(out);
});
</script></body>"""


def test_the_3d_view_turns_and_saves_a_png(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    torch.manual_seed(0)
    analysis = json.loads(json.dumps(explain(LSTM_model(3, 3, 3).eval(), make_language("anb2nc3n"))))
    view = views(analysis)[0]
    page = to_html([("title", "viewer"), ("viewer", "lstm_hidden", view, "caption")])
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to fetch from elsewhere
    (tmp_path / "index.html").write_text(page.replace("</body>", PROBE), encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=10000", "--dump-dom", (tmp_path / "index.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["drew"] and probe["changed"] and int(probe["draws"]) >= 3
    assert probe["view"] != "0.700,0.450"  # the starting angles
    assert all(url.startswith(tmp_path.as_uri()) for url in probe["resources"])
    assert "Uncaught" not in done.stderr and ":CONSOLE" not in done.stderr.replace("INFO:CONSOLE", "")
    png = base64.b64decode(probe["saved"].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (probe["width"], probe["height"])


def test_view_points_names_and_colours_follow_the_trajectories():
    torch.manual_seed(1)
    analysis = json.loads(json.dumps(explain(LSTM_model(3, 3, 3).eval(), make_language("anb2nc3n"))))
    hidden, cells = views(analysis)
    kept = [t for t in analysis["trajectories"] if t["n"] <= analysis["length"]]
    states = [s for t in kept for s in t["states"]]
    assert hidden["points"] == [s[:3] for s in states] and cells["points"] == [s[3:6] for s in states]
    assert hidden["names"][:3] == ["A1", "b1c3", "b0c3"]  # the string n = 1: A, B, B, then C's
    assert hidden["names"][3:6] == ["c2", "c1", "c0"]
    colours = dict(zip(hidden["names"], hidden["colours"]))
    assert dict(hidden["legend"]) == colours
    red, green = colours["A1"], colours["b1c3"]
    assert int(red[1:3], 16) > int(red[3:5], 16) and int(green[3:5], 16) > int(green[1:3], 16)
