#pragma once
// When a training run writes its files at an epoch's end. A write replaces
// three files atomically (model, metrics, checkpoint: each written, flushed
// to disk and renamed), which takes milliseconds whatever the epoch's length:
// after every epoch of Frey Face's 1,765 faces it was a third of the run's
// wall time (10 of 37 ms an epoch). Epoch ends therefore write only while
// writing keeps within a small share of the time, besides the writes the run
// cannot skip.
namespace aevb {

class EpochEndSaves {
 public:
  /// `every_seconds`: the run's checkpoint interval (0: write at every epoch
  /// end); `budget`: the largest share of wall time that writes at epoch ends
  /// may take (0.05: 5%).
  explicit EpochEndSaves(double every_seconds, double budget = 0.05);

  /// Whether to write at this epoch's end, `since_last` seconds after the last
  /// write (of any kind) ended; `must`: the run's last epoch or a stop, whose
  /// state has to be on disk. True when `must`, when the interval has passed
  /// (always, for an interval of 0), or when the last epoch-end write's cost
  /// is at most `budget` of the time since it began.
  bool due(double since_last, bool must) const;

  /// The cost in seconds of the epoch-end write just made.
  void wrote(double seconds) { last_cost_ = seconds; }

 private:
  double every_, budget_;
  double last_cost_ = 0;  // none yet: the first epoch end writes
};

}  // namespace aevb
