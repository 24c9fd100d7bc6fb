#pragma once
// Processes that train together: MPI start-up, rank and world size, collectives on tensors
// and numbers, and fault handling. Every process runs the same program (mpirun -np N prog).
//
//   int main(int argc, char** argv) {
//     return ag::dist::run(argc, argv, [&] {
//       std::printf("rank %d of %d\n", ag::dist::rank(), ag::dist::world_size());
//       return 0;
//     });
//   }
//
// Faults never hang the job: an MPI error becomes an ag::Error; an exception escaping run()'s
// body, or std::terminate, prints "rank R: ..." and ends every rank (MPI_Abort); a collective
// that waits longer than timeout() throws, naming what it waited for. A rank killed outright
// is reported by mpirun ("process rank R ... exited on signal"), which then stops the others.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag::dist {

// Starts MPI (MPI_Init_thread, funneled: only the thread that started it calls MPI) and stops
// it at scope exit. If an exception is unwinding through it, it aborts every rank instead:
// the other ranks would otherwise wait for this one forever.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

// Starts an Environment and runs body(); an exception escaping body is printed as
// "rank R: <message>" on stderr and aborts the whole job with exit code 1.
int run(int argc, char** argv, const std::function<int()>& body);

int rank();        // this process, 0 .. world_size() - 1
int world_size();  // processes in the job

// Seconds a collective may wait for the other ranks before it throws (default 300, or the
// AG_DIST_TIMEOUT environment variable).
double timeout();
void set_timeout(double seconds);

// Prints "rank R: <why>" on stderr and ends every process of the job (MPI_Abort).
[[noreturn]] void abort_job(std::string_view why, int exit_code = 1);

// ---- Collectives: every rank must call the same ones in the same order ----
void barrier();
// Root's tensor values into every rank's tensor (same shape and dtype), in place.
void broadcast(Tensor& tensor, int root = 0);
void broadcast(std::string& bytes, int root = 0);
std::uint64_t broadcast(std::uint64_t value, int root = 0);
// Element-wise sums over ranks: every rank gets the totals (metrics: loss sums, counts).
std::vector<double> all_reduce_sum(std::span<const double> values);
double all_reduce_sum(double value);
// Sums a tensor over ranks in place.
void all_reduce_sum(Tensor& tensor);

// A failure seen by one rank, made everyone's: every rank passes its own error message
// (empty = fine); if any is non-empty, every rank throws ag::Error(component, the lowest
// failing rank's message). Keeps ranks in step where one of them may fail alone.
void agree_or_throw(const std::string& local_error, std::string_view component);

}  // namespace ag::dist
