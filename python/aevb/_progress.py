"""fit's progress bar: one line per epoch, redrawn in place, on stderr; off
unless stderr is a terminal (or progress=True asks for it)."""
import sys
import time


class ProgressBar:
    def __init__(self, enabled, epochs, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else bool(enabled)
        self.epochs = epochs
        self.epoch = 0
        self.started = time.monotonic()

    def begin_epoch(self, epoch):
        self.epoch = epoch
        self.started = time.monotonic()

    def batch(self, done, total, bound):
        if not self.enabled:
            return
        width = 30
        filled = width * done // max(total, 1)
        elapsed = time.monotonic() - self.started
        eta = elapsed / done * (total - done) if done else 0.0
        self.stream.write(f"\repoch {self.epoch + 1}/{self.epochs} [{'=' * filled}{' ' * (width - filled)}] "
                          f"{done}/{total} bound {bound:.2f} {elapsed:.0f}s<{eta:.0f}s ")
        self.stream.flush()

    def end_epoch(self, metrics):
        if not self.enabled:
            return
        line = f"\repoch {metrics['epoch']}/{self.epochs}: "
        if "train_bound" in metrics:
            line += f"train bound {metrics['train_bound']:.2f}"
        else:
            line += f"train log p(x, z) {metrics['train_log_joint']:.2f}"
        if "validation_bound" in metrics:
            line += f", validation {metrics['validation_bound']:.2f}"
        line += f", {metrics['samples_per_second']:.0f} samples/s"
        self.stream.write(line.ljust(100) + "\n")
        self.stream.flush()
