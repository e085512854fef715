#include "train/epoch_runner.hpp"

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
      batch_(trainer.config().batch * train.dim) {
  if (train.count == 0) throw InputError("training data is empty");
}

EpochResult EpochRunner::run(std::uint64_t epoch, const Progress& progress, std::size_t max_batches) {
  const auto start = std::chrono::steady_clock::now();
  shuffle_indices(order_, seed_, epoch);
  const std::size_t batches = std::min(batches_per_epoch(), max_batches);
  EpochResult result;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t first = b * batch_size_, rows = std::min(batch_size_, data_.count - first);
    const std::span<const std::uint32_t> indices = std::span(order_).subspan(first, rows);
    gather_batch(data_, indices, binarize_, seed_, epoch, batch_.data());
    const Bound bound = trainer_.step({batch_.data(), rows, data_.dim}, indices);
    // Weighted by rows: the last minibatch may be smaller.
    result.train.bound += bound.bound * double(rows);
    result.train.reconstruction += bound.reconstruction * double(rows);
    result.train.kl += bound.kl * double(rows);
    result.samples += rows;
    if (progress) {
      const double n = double(result.samples);
      progress(b + 1, batches, {result.train.bound / n, result.train.reconstruction / n, result.train.kl / n});
    }
  }
  const double n = double(result.samples);
  result.train = {result.train.bound / n, result.train.reconstruction / n, result.train.kl / n};
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<float> gather_all(const DataRows& data, Binarize binarize, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::uint32_t> rows(data.count);
  std::iota(rows.begin(), rows.end(), 0u);
  std::vector<float> out(data.count * data.dim);
  gather_batch(data, rows, binarize, seed, epoch, out.data());
  return out;
}

std::vector<float> evaluation_rows(const DataRows& data, Binarize binarize, std::uint64_t seed) {
  return gather_all(data, binarize == Binarize::dynamic ? Binarize::fixed : binarize, seed, 0);
}

}  // namespace aevb
