// The cost of combining gradients across ranks (docs/distributed.md), on
// whatever network mpiexec gives (loopback here): for message sizes from 4 KB
// to 16 MB, the median time of the pattern aevb train uses (ordered_sum: a
// chain from rank 0 to the last, then a broadcast from the last, which keeps
// the shards' order and so the bits) beside MPI_Allreduce (what data-parallel
// frameworks use, whose sum order depends on the number of ranks).
// usage: mpiexec -n P bench/mpi_sum_bench [--repeats 50]
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One ordered sum of n floats: receive from rank - 1, add, send on, broadcast from the last.
void ordered_sum(std::vector<float>& sum, const std::vector<float>& own, int rank, int size) {
  const int n = static_cast<int>(sum.size());
  if (rank > 0) MPI_Recv(sum.data(), n, MPI_FLOAT, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  for (int i = 0; i < n; ++i) sum[std::size_t(i)] += own[std::size_t(i)];
  if (rank < size - 1) MPI_Send(sum.data(), n, MPI_FLOAT, rank + 1, 0, MPI_COMM_WORLD);
  MPI_Bcast(sum.data(), n, MPI_FLOAT, size - 1, MPI_COMM_WORLD);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int repeats = 50;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--repeats") == 0) repeats = std::max(1, std::atoi(argv[i + 1]));
  if (rank == 0) {
    std::printf("ranks %d, median of %d repeats after one warm-up\n", size, repeats);
    std::printf("%12s %18s %18s %14s\n", "bytes", "ordered sum ms", "MPI_Allreduce ms", "ordered GB/s");
  }
  for (std::size_t bytes = 4096; bytes <= (std::size_t{16} << 20); bytes *= 4) {
    const std::size_t n = bytes / sizeof(float);
    std::vector<float> own(n, 1.0f), sum(n), out(n);
    std::vector<double> ordered, allreduce;
    for (int r = -1; r < repeats; ++r) {
      std::fill(sum.begin(), sum.end(), 0.0f);
      MPI_Barrier(MPI_COMM_WORLD);
      double t = MPI_Wtime();
      ordered_sum(sum, own, rank, size);
      const double t_ordered = MPI_Wtime() - t;
      MPI_Barrier(MPI_COMM_WORLD);
      t = MPI_Wtime();
      MPI_Allreduce(own.data(), out.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      const double t_allreduce = MPI_Wtime() - t;
      if (r >= 0) {
        ordered.push_back(t_ordered);
        allreduce.push_back(t_allreduce);
      }
    }
    if (sum[0] != float(size) || out[0] != float(size)) {
      std::fprintf(stderr, "mpi_sum_bench: wrong sum on rank %d\n", rank);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
      std::printf("%12zu %18.3f %18.3f %14.2f\n", bytes, median(ordered) * 1e3, median(allreduce) * 1e3,
                  double(bytes) / median(ordered) / 1e9);
  }
  MPI_Finalize();
  return 0;
}
