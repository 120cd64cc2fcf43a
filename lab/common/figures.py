"""matplotlib without a display, and figures saved atomically.
"""
import os
import sys

from lab.common.files import atomic_write


def pyplot(show=False):
    """Return matplotlib.pyplot, on the file-only Agg backend unless ``show`` and a display exist."""
    import matplotlib

    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32")
    if not (show and has_display):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt



def save_figure(fig, path, **savefig_kwargs):
    """Save a matplotlib figure atomically (format from the file's extension) and close it."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    fmt = "jpeg" if fmt == "jpg" else fmt
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, **savefig_kwargs))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path
