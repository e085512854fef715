#include <aevb/communicator.hpp>

#include <aevb/error.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace aevb {

void SingleProcess::receive_from_previous(void*, std::size_t) {
  throw std::logic_error("SingleProcess: rank 0 of 1 has no previous rank");
}

void SingleProcess::send_to_next(const void*, std::size_t) {
  throw std::logic_error("SingleProcess: rank 0 of 1 has no next rank");
}

Communicator& ranks_or_alone(Communicator* ranks) {
  static SingleProcess alone;  // stateless: one serves every caller and thread
  return ranks ? *ranks : alone;
}

std::pair<std::size_t, std::size_t> shards_of_rank(int rank, int size, std::size_t shards) {
  const auto r = static_cast<std::size_t>(rank), p = static_cast<std::size_t>(size);
  return {r * shards / p, (r + 1) * shards / p};
}

std::pair<std::size_t, std::size_t> rows_of_shard(std::size_t shard, std::size_t shards, std::size_t rows) {
  return {shard * rows / shards, (shard + 1) * rows / shards};
}

std::pair<std::size_t, std::size_t> rows_of_rank(int rank, int size, std::size_t rows, std::size_t part) {
  const auto [first, last] = shards_of_rank(rank, size, (rows + part - 1) / part);
  return {std::min(first * part, rows), std::min(last * part, rows)};
}

void ordered_sum(Communicator& c, std::span<float> values, std::span<double> extra,
                 const std::function<void()>& add_own) {
  const int last = c.size() - 1;
  if (c.rank() > 0) {
    c.receive_from_previous(values.data(), values.size_bytes());
    c.receive_from_previous(extra.data(), extra.size_bytes());
  }
  add_own();
  if (c.rank() < last) {
    c.send_to_next(values.data(), values.size_bytes());
    c.send_to_next(extra.data(), extra.size_bytes());
  }
  if (last > 0) {
    c.broadcast(values.data(), values.size_bytes(), last);
    c.broadcast(extra.data(), extra.size_bytes(), last);
  }
}

std::uint64_t checksum(const void* data, std::size_t bytes, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

void require_same_as_rank_zero(Communicator& c, std::uint64_t value, const char* what) {
  std::uint64_t zeros = value;
  c.broadcast(&zeros, sizeof zeros, 0);
  if (zeros != value)
    throw InputError(std::string(what) + " on rank " + std::to_string(c.rank()) + " differ from rank 0's: the "
                     "ranks must start from the same files, settings and aevb binary");
}

}  // namespace aevb
