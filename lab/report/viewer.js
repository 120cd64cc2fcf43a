// A 3-D scatter of a network's states that turns with the mouse (or a finger), drawn on a canvas.
// Each figure of class viewer3d holds its data as JSON: axes (3 names), points ([x, y, z] each),
// colours and names (one per point), paths (lists of point indices joined by thin lines) and legend
// ([name, colour] pairs). Pointing at a point names it. Nothing is fetched: the page works from its
// folder, offline. "Save as PNG" downloads the current view. After each drawing the figure's data-view
// says the angles and data-draws the count, which the lab's tests read.
(function () {
  "use strict";

  function unitCube(points) {
    // Scale each axis to [-1, 1] (as a 3-D plot's box does), so that the view fills the cube.
    const lo = [0, 1, 2].map(k => Math.min(...points.map(p => p[k])));
    const hi = [0, 1, 2].map(k => Math.max(...points.map(p => p[k])));
    return points.map(p => p.map((v, k) => hi[k] > lo[k] ? 2 * (v - lo[k]) / (hi[k] - lo[k]) - 1 : 0));
  }

  function rotate(p, yaw, pitch) {
    // Turn about the vertical (third) axis by yaw, then tilt towards the viewer by pitch.
    const [x, y, z] = p;
    const cx = Math.cos(yaw) * x - Math.sin(yaw) * y, cy = Math.sin(yaw) * x + Math.cos(yaw) * y;
    return [cx, Math.cos(pitch) * z - Math.sin(pitch) * cy, Math.sin(pitch) * z + Math.cos(pitch) * cy];
  }

  function setup(box) {
    const data = JSON.parse(box.querySelector("script[type='application/json']").textContent);
    const canvas = box.querySelector("canvas"), ctx = canvas.getContext("2d");
    const cube = unitCube(data.points);
    const start = {yaw: 0.7, pitch: 0.45};
    let view = {...start}, draws = 0, drag = null, hover = -1, flat = [];

    function screen(p) {
      const [x, y, depth] = rotate(p, view.yaw, view.pitch);
      const scale = Math.min(canvas.width, canvas.height) * 0.26;
      return [canvas.width / 2 + scale * x, canvas.height / 2 - scale * y, depth];
    }

    function drawAxes() {
      const corners = [-1, 1];
      ctx.strokeStyle = "#ccc";
      ctx.lineWidth = 1;
      for (const a of corners) for (const b of corners) {
        for (const [p, q] of [[[-1, a, b], [1, a, b]], [[a, -1, b], [a, 1, b]], [[a, b, -1], [a, b, 1]]]) {
          const s = screen(p), t = screen(q);
          ctx.beginPath(); ctx.moveTo(s[0], s[1]); ctx.lineTo(t[0], t[1]); ctx.stroke();
        }
      }
      ctx.strokeStyle = "#555";
      ctx.fillStyle = "#222";
      ctx.font = "13px sans-serif";
      ctx.lineWidth = 1.5;
      data.axes.forEach((name, k) => {
        const from = screen([-1, -1, -1]), end = [-1, -1, -1], tip = [-1, -1, -1];
        end[k] = 1; tip[k] = 1.18;
        const to = screen(end), label = screen(tip);
        ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(to[0], to[1]); ctx.stroke();
        ctx.textAlign = "center";
        ctx.fillText(name, label[0], label[1]);
      });
      ctx.textAlign = "start";
    }

    function draw() {
      ctx.fillStyle = "white";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      drawAxes();
      flat = cube.map(screen);
      ctx.strokeStyle = "rgba(120,120,120,0.35)";
      for (const path of data.paths) {
        ctx.beginPath();
        path.forEach((i, j) => j ? ctx.lineTo(flat[i][0], flat[i][1]) : ctx.moveTo(flat[i][0], flat[i][1]));
        ctx.stroke();
      }
      const order = flat.map((p, i) => i).sort((i, j) => flat[i][2] - flat[j][2]);
      for (const i of order) {
        ctx.beginPath();
        ctx.arc(flat[i][0], flat[i][1], 4.5, 0, 2 * Math.PI);
        ctx.fillStyle = data.colours[i];
        ctx.fill();
        ctx.strokeStyle = "rgba(0,0,0,0.5)";
        ctx.stroke();
      }
      if (hover >= 0) {
        ctx.font = "bold 13px sans-serif";
        ctx.fillStyle = "#000";
        ctx.fillText(data.names[hover], flat[hover][0] + 7, flat[hover][1] - 7);
      }
      draws += 1;
      box.dataset.draws = String(draws);
      box.dataset.view = view.yaw.toFixed(3) + "," + view.pitch.toFixed(3);
    }

    canvas.addEventListener("pointerdown", e => { drag = [e.clientX, e.clientY]; canvas.setPointerCapture?.(e.pointerId); });
    canvas.addEventListener("pointerup", () => { drag = null; });
    canvas.addEventListener("pointermove", e => {
      if (!drag) {  // name the point under the pointer
        const r = canvas.getBoundingClientRect(), sx = canvas.width / r.width, sy = canvas.height / r.height;
        const x = (e.clientX - r.left) * sx, y = (e.clientY - r.top) * sy;
        let best = -1, near = 64;
        flat.forEach((p, i) => { const d = (p[0] - x) ** 2 + (p[1] - y) ** 2; if (d < near) { near = d; best = i; } });
        if (best !== hover) { hover = best; draw(); }
        return;
      }
      view.yaw += (e.clientX - drag[0]) * 0.01;
      view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + (e.clientY - drag[1]) * 0.01));
      drag = [e.clientX, e.clientY];
      draw();
    });
    box.querySelector(".reset").addEventListener("click", () => { view = {...start}; draw(); });
    box.querySelector(".save").addEventListener("click", () => {
      const link = document.createElement("a");
      link.href = canvas.toDataURL("image/png");
      link.download = (box.dataset.name || "view") + ".png";
      box.dataset.saved = link.href.length > 100 ? "png" : "";
      link.click();
    });
    draw();
  }

  document.querySelectorAll(".viewer3d").forEach(setup);
})();
