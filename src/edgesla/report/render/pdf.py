"""Headless Chromium: the HTML report to PDF (A4, from its print CSS) or to a PNG screenshot.

Flags are the ones verified in ENVIRONMENT.md. ``--no-sandbox`` is added only when running
as root, each run gets a fresh temporary ``--user-data-dir`` (removed afterwards), and a run
that hangs is killed with its whole process group after ``timeout`` seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from edgesla._errors import PreflightError, RenderError

__all__ = ["CHROMIUM_NAMES", "chromium_argv", "find_chromium", "render_pdf", "screenshot"]

#: Looked up on PATH in this order; ``EDGESLA_CHROMIUM`` names a binary explicitly.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
DEFAULT_TIMEOUT = 90.0


def find_chromium() -> str:
    """Path of the Chromium binary, or a PreflightError saying how to install it."""
    explicit = os.environ.get("EDGESLA_CHROMIUM")
    if explicit:
        if shutil.which(explicit) is None:
            raise PreflightError(
                f"EDGESLA_CHROMIUM={explicit!r} is not an executable; unset it or point it "
                "at a Chromium binary"
            )
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PreflightError(
        "headless Chromium is needed for the PDF report but was not found on PATH "
        f"(looked for {', '.join(CHROMIUM_NAMES)}); install the Debian package: "
        "apt-get install -y --no-install-recommends chromium"
    )


def chromium_argv(binary: str, user_data_dir: Path, *extra: str) -> list[str]:
    """The full command line: verified flags, sandbox off only as root, then ``extra``."""
    argv = [binary, *_FLAGS, f"--user-data-dir={user_data_dir}"]
    if os.geteuid() == 0:
        argv.insert(2, "--no-sandbox")
    return [*argv, *extra]


def _run(extra: list[str], out: Path, what: str, timeout: float) -> Path:
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="edgesla-chromium-", ignore_cleanup_errors=True) as tmp:
        argv = chromium_argv(binary, Path(tmp), *extra)
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RenderError(
                f"Chromium did not finish the {what} within {timeout:g} s ({out}); "
                "is the machine overloaded? Retry, or raise the timeout"
            ) from exc
        finally:
            if proc.poll() is None:  # pragma: no cover - only on an unexpected exception
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RenderError(
            f"Chromium failed to write the {what} {out} (exit {proc.returncode}): "
            + (" | ".join(tail) or "no message")
        )
    return out


def render_pdf(html_path: Path, pdf_path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4 from the page's CSS, no header/footer)."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise RenderError(f"cannot print {html_path} to PDF: the file does not exist")
    pdf_path.unlink(missing_ok=True)
    extra = ["--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.as_uri()]
    _run(extra, pdf_path, "PDF", timeout)
    if not pdf_path.read_bytes()[:5] == b"%PDF-":
        raise RenderError(f"Chromium wrote {pdf_path}, but it is not a PDF")
    return pdf_path


def screenshot(
    html_path: Path,
    png_path: Path,
    *,
    width: int = 1200,
    height: int = 900,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Screenshot the top ``width`` x ``height`` pixels of ``html_path`` to ``png_path``."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    extra = [f"--screenshot={png_path}", f"--window-size={width},{height}", html_path.as_uri()]
    return _run(extra, png_path, "screenshot", timeout)
