#pragma once
// The processes `mpirun -np P aevb train ...` started (docs/distributed.md).
// MPI is initialized only when a launcher started this process (Open MPI's,
// MPICH's or PMIx's variables are in the environment), so a plain `aevb`
// never touches it; a build without MPI is always one process. Rank 0 alone
// prints and writes files (the others' stdout goes to /dev/null); an error on
// any rank ends the whole job with that rank's one line (MPI_Abort).
#include <aevb/communicator.hpp>

namespace aevb::cli {

class World {
 public:
  /// Joins the job this process was launched into, if any. Once, from main().
  static void start(int& argc, char**& argv);
  /// Leaves it (MPI_Finalize); main() calls it on a normal exit.
  static void finish();
  static World& get();

  int rank() const { return communicator_->rank(); }
  int size() const { return communicator_->size(); }
  /// Whether this process writes the run's files and prints: rank 0.
  bool writes() const { return rank() == 0; }
  Communicator& communicator() { return *communicator_; }
  /// Ends every rank of the job with exit code `code` (MPI_Abort); returns
  /// only in a single process, where the caller exits itself.
  void abort_job(int code);

 private:
  World() = default;
  Communicator* communicator_ = nullptr;
};

}  // namespace aevb::cli
