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

struct EpochResult {
  Bound train;                // average of the minibatch bounds, per datapoint
  std::uint64_t samples = 0;  // datapoints processed
  double seconds = 0;         // wall time of this epoch's steps
};

class EpochRunner {
 public:
  /// Called after each minibatch: batches done, batches in the epoch, running bound.
  using Progress = std::function<void(std::size_t, std::size_t, const Bound&)>;

  /// `train`'s rows must outlive the runner.
  EpochRunner(Trainer& trainer, const DataRows& train, Binarize binarize, std::uint64_t seed);
  std::size_t batches_per_epoch() const { return (data_.count + batch_size_ - 1) / batch_size_; }
  /// Runs epoch `epoch` (0-based), or only its first `max_batches`
  /// minibatches. Throws NumericError (from Trainer::step) on divergence.
  EpochResult run(std::uint64_t epoch, const Progress& progress = {}, std::size_t max_batches = SIZE_MAX);

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
