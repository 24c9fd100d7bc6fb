// MPI start-up, fault handling and the small collectives.
#include "dist/comm.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>

#include "autograd/error.hpp"
#include "mpi_calls.hpp"

namespace ag::dist {

namespace {

double timeout_seconds = 300.0;
int own_rank = -1;  // cached after MPI_Init, so that abort paths need no MPI call

void on_terminate() {
  std::string what = "terminated";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = std::string("uncaught exception: ") + ex.what();
    } catch (...) {
      what = "uncaught exception of unknown type";
    }
  }
  abort_job(what);
}

}  // namespace

namespace detail {

void check(int rc, std::string_view call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error("dist", fmt::format("rank {}: {} failed: {}", own_rank, call,
                                  std::string_view(text, static_cast<std::size_t>(length))));
}

void wait(MPI_Request& request, std::string_view what) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int done = 0;
  for (long spins = 0;; ++spins) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    if (spins < 1000) continue;  // the usual case: the peers are a few microseconds behind
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    if (waited > timeout_seconds) {
      throw Error("dist", fmt::format("rank {}: waited {:.0f} s for {}: another rank has stopped "
                                      "taking part (it crashed, hangs, or runs different code)",
                                      own_rank, waited, what));
    }
    // Yield rather than sleep while a peer may be close: an all-reduce moves in fragments,
    // each needing both sides inside MPI, so a sleeping rank would stall its peer at every
    // fragment. Only a peer that is far behind (a second) gets longer naps.
    if (waited > 1.0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else {
      std::this_thread::yield();
    }
  }
}

void poke(MPI_Request& request) {
  if (request == MPI_REQUEST_NULL) return;
  int done = 0;
  check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
}

MPI_Datatype mpi_type(Dtype dtype) { return dtype == Dtype::Float32 ? MPI_FLOAT : MPI_DOUBLE; }

}  // namespace detail

Environment::Environment(int& argc, char**& argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw Error("dist::Environment", "MPI is already initialized");
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw Error("dist::Environment", "MPI_Init_thread failed");
  // Errors come back as return codes (turned into ag::Error), not as an abort without a word.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &own_rank);
  if (const char* env = std::getenv("AG_DIST_TIMEOUT")) set_timeout(std::atof(env));
  std::set_terminate(on_terminate);
}

Environment::~Environment() {
  if (std::uncaught_exceptions() > 0) abort_job("an exception escaped ag::dist::Environment");
  MPI_Finalize();
}

int run(int argc, char** argv, const std::function<int()>& body) {
  Environment env(argc, argv);
  try {
    return body();
  } catch (const std::exception& e) {
    abort_job(e.what());
  } catch (...) {
    abort_job("an exception of unknown type");
  }
}

int rank() {
  int r = 0;
  detail::check(MPI_Comm_rank(MPI_COMM_WORLD, &r), "MPI_Comm_rank");
  return r;
}

int world_size() {
  int n = 0;
  detail::check(MPI_Comm_size(MPI_COMM_WORLD, &n), "MPI_Comm_size");
  return n;
}

double timeout() { return timeout_seconds; }
void set_timeout(double seconds) {
  if (!(seconds > 0)) throw Error("dist::set_timeout", fmt::format("{} s is not > 0", seconds));
  timeout_seconds = seconds;
}

void abort_job(std::string_view why, int exit_code) {
  std::fprintf(stderr, "rank %d: %.*s\n", own_rank, static_cast<int>(why.size()), why.data());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; this is for the compiler
}

void barrier() {
  MPI_Request request;
  detail::check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  detail::wait(request, "a barrier");
}

void broadcast(Tensor& tensor, int root) {
  if (!tensor.defined()) throw Error("dist::broadcast", "got an undefined tensor");
  void* data = tensor.dtype() == Dtype::Float32
                   ? static_cast<void*>(tensor.mutable_data_ptr<float>())
                   : static_cast<void*>(tensor.mutable_data_ptr<double>());
  MPI_Request request;
  detail::check(MPI_Ibcast(data, static_cast<int>(tensor.numel()), detail::mpi_type(tensor.dtype()),
                           root, MPI_COMM_WORLD, &request),
                "MPI_Ibcast");
  detail::wait(request,
               fmt::format("a broadcast of a tensor of shape {}", to_string(tensor.shape())));
}

void broadcast(std::string& bytes, int root) {
  std::uint64_t size = broadcast(static_cast<std::uint64_t>(bytes.size()), root);
  bytes.resize(size);
  MPI_Request request;
  detail::check(
      MPI_Ibcast(bytes.data(), static_cast<int>(size), MPI_CHAR, root, MPI_COMM_WORLD, &request),
      "MPI_Ibcast");
  detail::wait(request, "a broadcast of bytes");
}

std::uint64_t broadcast(std::uint64_t value, int root) {
  MPI_Request request;
  detail::check(MPI_Ibcast(&value, 1, MPI_UINT64_T, root, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  detail::wait(request, "a broadcast of a number");
  return value;
}

std::vector<double> all_reduce_sum(std::span<const double> values) {
  std::vector<double> out(values.begin(), values.end());
  MPI_Request request;
  detail::check(MPI_Iallreduce(MPI_IN_PLACE, out.data(), static_cast<int>(out.size()), MPI_DOUBLE,
                               MPI_SUM, MPI_COMM_WORLD, &request),
                "MPI_Iallreduce");
  detail::wait(request, "an all-reduce of numbers");
  return out;
}

double all_reduce_sum(double value) {
  return all_reduce_sum(std::span<const double>(&value, 1))[0];
}

void all_reduce_sum(Tensor& tensor) {
  if (!tensor.defined()) throw Error("dist::all_reduce_sum", "got an undefined tensor");
  void* data = tensor.dtype() == Dtype::Float32
                   ? static_cast<void*>(tensor.mutable_data_ptr<float>())
                   : static_cast<void*>(tensor.mutable_data_ptr<double>());
  MPI_Request request;
  detail::check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(tensor.numel()),
                               detail::mpi_type(tensor.dtype()), MPI_SUM, MPI_COMM_WORLD, &request),
                "MPI_Iallreduce");
  detail::wait(request,
               fmt::format("an all-reduce of a tensor of shape {}", to_string(tensor.shape())));
}

void agree_or_throw(const std::string& local_error, std::string_view component) {
  const int n = world_size();
  int failing = local_error.empty() ? n : rank();
  MPI_Request request;
  detail::check(
      MPI_Iallreduce(MPI_IN_PLACE, &failing, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &request),
      "MPI_Iallreduce");
  detail::wait(request, "ranks agreeing on an error");
  if (failing == n) return;
  std::string message = local_error;
  broadcast(message, failing);
  throw Error(component, message);
}

}  // namespace ag::dist
