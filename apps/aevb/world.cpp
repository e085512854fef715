#include "world.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

#if defined(AEVB_HAVE_MPI)
#include <mpi.h>

#include <algorithm>
#include <climits>
#endif

namespace aevb::cli {
namespace {

SingleProcess g_single;

#if defined(AEVB_HAVE_MPI)
// Point-to-point and broadcast on MPI_COMM_WORLD, in pieces of at most
// INT_MAX bytes (MPI counts are ints). MPI's default error handler aborts
// the job on a failed call, which is what a lost rank should do.
class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void receive_from_previous(void* data, std::size_t bytes) override {
    for_pieces(data, bytes, [&](char* p, int n) { MPI_Recv(p, n, MPI_BYTE, rank_ - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE); });
  }
  void send_to_next(const void* data, std::size_t bytes) override {
    for_pieces(const_cast<void*>(data), bytes, [&](char* p, int n) { MPI_Send(p, n, MPI_BYTE, rank_ + 1, 0, MPI_COMM_WORLD); });
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    for_pieces(data, bytes, [&](char* p, int n) { MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD); });
  }

 private:
  template <class F>
  static void for_pieces(void* data, std::size_t bytes, F&& f) {
    char* p = static_cast<char*>(data);
    do {
      const std::size_t n = std::min<std::size_t>(bytes, INT_MAX);
      f(p, static_cast<int>(n));
      p += n;
      bytes -= n;
    } while (bytes > 0);
  }
  int rank_ = 0, size_ = 1;
};

std::unique_ptr<MpiCommunicator> g_mpi;

// Variables a launcher sets in every process it starts: Open MPI, PMIx, MPICH's hydra.
bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}
#endif

}  // namespace

World& World::get() {
  static World world;
  if (world.communicator_ == nullptr) world.communicator_ = &g_single;
  return world;
}

void World::start([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
  World& w = get();
#if defined(AEVB_HAVE_MPI)
  if (!launched_by_mpi()) return;
  MPI_Init(&argc, &argv);
  g_mpi = std::make_unique<MpiCommunicator>();
  w.communicator_ = g_mpi.get();
  // One copy of every line: the other ranks compute the same numbers.
  if (w.rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) std::perror("aevb: /dev/null");
#else
  (void)w;
#endif
}

void World::finish() {
#if defined(AEVB_HAVE_MPI)
  if (g_mpi) {
    MPI_Finalize();
    get().communicator_ = &g_single;
    g_mpi.reset();
  }
#endif
}

void World::abort_job([[maybe_unused]] int code) {
#if defined(AEVB_HAVE_MPI)
  if (g_mpi && size() > 1) {
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#endif
}

}  // namespace aevb::cli
