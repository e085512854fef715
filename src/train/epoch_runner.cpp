#include "train/epoch_runner.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <chrono>
#include <numeric>

namespace aevb {

EpochRunner::EpochRunner(Trainer& trainer, const DataRows& train, Binarize binarize, std::uint64_t seed)
    : trainer_(trainer),
      data_(train),
      binarize_(binarize),
      seed_(seed),
      batch_size_(trainer.config().batch),
      order_(train.count),
      batch_(trainer.config().batch * train.row_width()) {
  if (train.count == 0) throw InputError("training data is empty");
}

Bound EpochPosition::mean() const {
  const double n = double(samples);
  return {sums.bound / n, sums.reconstruction / n, sums.kl / n};
}

void EpochRunner::check_position(const EpochPosition& at) const {
  if (at.batches == 0 && at.samples == 0) return;
  if (at.batches >= batches_per_epoch() || at.samples != at.batches * batch_size_)
    throw InputError("epoch position: " + std::to_string(at.batches) + " minibatches and " +
                     std::to_string(at.samples) + " datapoints done is not a point inside an epoch of " +
                     std::to_string(batches_per_epoch()) + " minibatches of " + std::to_string(batch_size_) +
                     " (" + std::to_string(data_.count) + " datapoints)");
}

EpochResult EpochRunner::run(std::uint64_t epoch, const AfterBatch& after_batch, std::size_t max_batches,
                             const EpochPosition& from) {
  check_position(from);
  const std::size_t batches = std::min(batches_per_epoch(), max_batches);
  const auto start = std::chrono::steady_clock::now();
  shuffle_indices(order_, seed_, epoch);
  EpochResult result;
  EpochPosition& at = result.position;
  at = from;
  while (at.batches < batches) {
    const std::size_t first = at.batches * batch_size_, rows = std::min(batch_size_, data_.count - first);
    const std::span<const std::uint32_t> indices = std::span(order_).subspan(first, rows);
    gather_batch(data_, indices, binarize_, seed_, epoch, batch_.data());
    const Bound bound = trainer_.step({batch_.data(), rows, data_.row_width()}, indices);
    // Weighted by rows: the last minibatch may be smaller.
    at.sums.bound += bound.bound * double(rows);
    at.sums.reconstruction += bound.reconstruction * double(rows);
    at.sums.kl += bound.kl * double(rows);
    at.samples += rows;
    ++at.batches;
    at.seconds = from.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (after_batch && !after_batch(at, batches) && at.batches < batches) {
      result.stopped = true;
      break;
    }
  }
  result.train = at.mean();
  return result;
}

std::vector<float> gather_all(const DataRows& data, Binarize binarize, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::uint32_t> rows(data.count);
  std::iota(rows.begin(), rows.end(), 0u);
  std::vector<float> out(data.count * data.row_width());
  gather_batch(data, rows, binarize, seed, epoch, out.data());
  return out;
}

std::vector<float> evaluation_rows(const DataRows& data, Binarize binarize, std::uint64_t seed) {
  return gather_all(data, binarize == Binarize::dynamic ? Binarize::fixed : binarize, seed, 0);
}

}  // namespace aevb
