#pragma once
// The processes one training run is spread over (docs/distributed.md). A
// Trainer given a Communicator computes only its rank's shards of each
// minibatch and combines them with the other ranks' in shard order, so that
// every rank applies the same update and the parameters equal those of one
// process with the same shards, bit for bit. The library needs no MPI: the
// aevb CLI implements this interface on MPI, and an embedding program can
// implement it on its own transport.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>

namespace aevb {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1
  virtual int size() const = 0;
  /// Blocks until `bytes` arrive from rank() - 1.
  virtual void receive_from_previous(void* data, std::size_t bytes) = 0;
  /// Sends `bytes` to rank() + 1.
  virtual void send_to_next(const void* data, std::size_t bytes) = 0;
  /// Every rank ends with `root`'s bytes.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
};

/// One process: rank 0 of 1, nothing to exchange.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void receive_from_previous(void*, std::size_t) override;  // logic_error: there is no previous rank
  void send_to_next(const void*, std::size_t) override;     // logic_error: there is no next rank
  void broadcast(void*, std::size_t, int) override {}
};

/// `ranks`, or where it is null this process alone (a SingleProcess).
Communicator& ranks_or_alone(Communicator* ranks);

/// The shards [first, last) that rank `rank` of `size` computes: consecutive,
/// their counts differing by at most one, earlier ranks first.
std::pair<std::size_t, std::size_t> shards_of_rank(int rank, int size, std::size_t shards);

/// The rows [first, last) of shard `shard` of a minibatch of `rows` rows cut
/// into `shards` (consecutive; counts differ by at most one; empty when
/// rows < shards for the shards past the rows).
std::pair<std::size_t, std::size_t> rows_of_shard(std::size_t shard, std::size_t shards, std::size_t rows);

/// The rows [first, last) of `rows` cut into parts of `part` rows (the last
/// shorter) that rank `rank` of `size` computes: consecutive parts, earlier
/// ranks first, so that results passed on in rank order are in row order.
std::pair<std::size_t, std::size_t> rows_of_rank(int rank, int size, std::size_t rows, std::size_t part);

/// A sum in rank order that gives every rank the same bits, whatever the
/// number of ranks: the running sums `values` and `extra` (zero on entry,
/// the same length on every rank) go from rank 0 to the last, each rank
/// adding its own terms to them (`add_own`, its shards in shard order), and
/// the last broadcasts the result. The additions are those of one process
/// adding every shard in order, so the result is that process's.
void ordered_sum(Communicator& communicator, std::span<float> values, std::span<double> extra,
                 const std::function<void()>& add_own);

/// FNV-1a of `bytes` bytes at `data`, continuing from `h`: a checksum to
/// compare parameters and data across ranks.
std::uint64_t checksum(const void* data, std::size_t bytes, std::uint64_t h = 14695981039346656037ull);

/// Throws InputError naming `what` and this rank when `value` differs from
/// rank 0's (the ranks were started from different files or binaries).
void require_same_as_rank_zero(Communicator& communicator, std::uint64_t value, const char* what);

}  // namespace aevb
