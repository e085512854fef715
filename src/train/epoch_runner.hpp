#pragma once
// One pass over the training set: shuffle (seeded by epoch), gather each
// minibatch (uint8 -> float, binarized per epoch), take an AEVB step. Buffers
// are allocated once, in the constructor.
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace aevb {

/// Where an epoch stands after some of its minibatches: what a checkpoint
/// taken inside the epoch stores so that a resumed run continues it exactly
/// (the order, binarization and noise are functions of the seed, the epoch
/// and the step, so these sums are all that is left).
struct EpochPosition {
  std::size_t batches = 0;    // minibatches done
  std::uint64_t samples = 0;  // their rows
  Bound sums;                 // sums over those rows of their minibatch's bound (the last batch may be smaller)
  double seconds = 0;         // wall time of their steps
  /// The running bound per datapoint, sums / samples.
  Bound mean() const;
};

struct EpochResult {
  Bound train;             // average of the minibatch bounds, per datapoint, over position.samples
  EpochPosition position;  // where the epoch ended: all of it, unless stopped
  bool stopped = false;    // the callback stopped it before its end; `position` continues it
};

class EpochRunner {
 public:
  /// Called after each minibatch with the epoch's position and its number of
  /// minibatches; returning false stops the epoch there.
  using AfterBatch = std::function<bool(const EpochPosition&, std::size_t)>;

  /// `train`'s rows must outlive the runner.
  EpochRunner(Trainer& trainer, const DataRows& train, Binarize binarize, std::uint64_t seed);
  std::size_t batches_per_epoch() const { return (data_.count + batch_size_ - 1) / batch_size_; }
  /// InputError unless `at` is the start of an epoch or a point inside one
  /// (whole minibatches done, not all of them).
  void check_position(const EpochPosition& at) const;
  /// Runs epoch `epoch` (0-based) from `from` (the start, or the position a
  /// stopped run of this epoch reached) to its end, or until `after_batch`
  /// returns false, or to its first `max_batches` minibatches. Throws
  /// NumericError (from Trainer::step) on divergence, InputError when `from`
  /// is not a position inside an epoch (check_position).
  EpochResult run(std::uint64_t epoch, const AfterBatch& after_batch = {}, std::size_t max_batches = SIZE_MAX,
                  const EpochPosition& from = {});

 private:
  Trainer& trainer_;
  DataRows data_;
  Binarize binarize_;
  std::uint64_t seed_;
  std::size_t batch_size_;
  std::vector<std::uint32_t> order_;
  std::vector<float> batch_;
};

/// Every row of `data` as floats, binarized as `binarize` says at `epoch`
/// (evaluation sets: fixed or dynamic at a fixed epoch, so that numbers from
/// different epochs are comparable).
std::vector<float> gather_all(const DataRows& data, Binarize binarize, std::uint64_t seed, std::uint64_t epoch);

/// An evaluation set as floats, binarized as training binarizes it except
/// that a dynamic binarization becomes its fixed sample: the same binary set
/// every time, so that bounds from different epochs and runs compare.
std::vector<float> evaluation_rows(const DataRows& data, Binarize binarize, std::uint64_t seed);

}  // namespace aevb
