#pragma once
// Private to the dist library: MPI return codes as ag::Error, and waiting on a request with
// a deadline instead of forever.
#include <mpi.h>

#include <string_view>

#include "autograd/dtype.hpp"

namespace ag::dist::detail {

// Throws ag::Error("dist", "rank R: <call> failed: <MPI's message>") unless rc is MPI_SUCCESS.
void check(int rc, std::string_view call);
// Waits for `request`, making MPI progress; throws after timeout() seconds naming `what`.
void wait(MPI_Request& request, std::string_view what);
// Nudges outstanding requests along without blocking (OpenMPI progresses only inside calls).
void poke(MPI_Request& request);
MPI_Datatype mpi_type(Dtype dtype);

}  // namespace ag::dist::detail
