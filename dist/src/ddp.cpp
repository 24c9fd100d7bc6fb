// DistributedDataParallel: shape check and broadcast at start, bucketed all-reduce of the
// gradients started from grad-ready hooks during backward, averaged before the step.
#include "dist/ddp.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <limits>

#include "autograd/error.hpp"
#include "dist/comm.hpp"
#include "mpi_calls.hpp"
#include "nn/optim.hpp"

namespace ag::dist {

struct DistributedDataParallel::Bucket {
  Dtype dtype = Dtype::Float32;
  std::vector<std::size_t> slots;
  std::size_t elements = 0;
  std::size_t pending = 0;      // parameters whose gradient has not arrived this step
  std::vector<double> storage;  // the flat gradients (float or double), 8-byte aligned
  MPI_Request request = MPI_REQUEST_NULL;

  std::size_t element_size() const { return dtype == Dtype::Float32 ? 4 : 8; }
  void* data() { return storage.data(); }
};

namespace {

std::string describe(const std::string& name, const Tensor& p) {
  return fmt::format("'{}' {} {}", name, to_string(p.shape()),
                     p.dtype() == Dtype::Float32 ? "float32" : "float64");
}

// What rank 0's model looks like, one parameter per line, for the others to compare with.
std::string layout(const nn::NamedTensors& params) {
  std::string out;
  for (const auto& [name, p] : params) out += describe(name, p) + "\n";
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

// Empty when this rank's parameters match rank 0's, else the first difference.
std::string compare_with_rank0(const nn::NamedTensors& params, const std::string& rank0_layout) {
  const std::vector<std::string> theirs = lines(rank0_layout);
  const int me = rank();
  for (std::size_t i = 0; i < params.size() || i < theirs.size(); ++i) {
    if (i >= theirs.size())
      return fmt::format("rank {} has parameter {} that rank 0 lacks ({} parameters there)", me,
                         describe(params[i].first, params[i].second), theirs.size());
    if (i >= params.size())
      return fmt::format("rank {} lacks parameter {} of rank 0 (it has {} parameters)", me,
                         theirs[i], params.size());
    const std::string mine = describe(params[i].first, params[i].second);
    if (mine != theirs[i])
      return fmt::format(
          "parameter {} is {} on rank {} but {} on rank 0: every rank must build "
          "the same model",
          i, mine, me, theirs[i]);
  }
  return {};
}

template <class F>
void with_data(Tensor& t, F&& f) {
  if (t.dtype() == Dtype::Float32) {
    f(t.mutable_data_ptr<float>());
  } else {
    f(t.mutable_data_ptr<double>());
  }
}

}  // namespace

DistributedDataParallel::DistributedDataParallel(nn::Module& module, DdpOptions options)
    : module_(module) {
  const nn::NamedTensors params = module.named_parameters();
  std::string rank0_layout = layout(params);
  broadcast(rank0_layout, 0);
  agree_or_throw(compare_with_rank0(params, rank0_layout), "dist::DistributedDataParallel");

  for (auto [name, p] : params) {
    broadcast(p, 0);  // replicas start equal
    slots_.push_back(Slot{name, p});
  }
  // Reverse registration order: the last layer's gradients are ready first.
  for (std::size_t k = slots_.size(); k-- > 0;) {
    Slot& s = slots_[k];
    const std::size_t bytes =
        static_cast<std::size_t>(s.param.numel()) * (s.param.dtype() == Dtype::Float32 ? 4 : 8);
    Bucket* last = buckets_.empty() ? nullptr : buckets_.back().get();
    if (!last || last->dtype != s.param.dtype() ||
        (last->elements > 0 &&
         (last->elements * last->element_size() + bytes) > options.bucket_bytes)) {
      buckets_.push_back(std::make_unique<Bucket>());
      buckets_.back()->dtype = s.param.dtype();
      last = buckets_.back().get();
    }
    s.bucket = buckets_.size() - 1;
    s.offset = last->elements;
    last->slots.push_back(k);
    last->elements += static_cast<std::size_t>(s.param.numel());
  }
  for (auto& b : buckets_) {
    if (b->elements > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw Error(
          "dist::DistributedDataParallel",
          fmt::format("a bucket of {} elements is more than MPI's int count allows", b->elements));
    b->storage.resize((b->elements * b->element_size() + 7) / 8);
    b->pending = b->slots.size();
  }
  for (std::size_t k = 0; k < slots_.size(); ++k)
    slots_[k].hook =
        slots_[k].param.add_grad_ready_hook([this, k](const Tensor&) { on_grad_ready(k); });
}

DistributedDataParallel::~DistributedDataParallel() {
  for (Slot& s : slots_) s.param.remove_grad_ready_hook(s.hook);
  // A step abandoned half-way (an exception) may leave all-reduces running; MPI would write
  // their results into the freed buckets, and collectives cannot be cancelled: finish them.
  for (auto& b : buckets_) {
    if (b->request == MPI_REQUEST_NULL) continue;
    if (std::uncaught_exceptions() > 0) {
      // Unwinding from an error (a peer may be gone, so waiting could fail too): leave the
      // buffer to MPI rather than wait; the job is on its way to an abort or an exit.
      (void)b.release();
      continue;
    }
    try {
      detail::wait(b->request, "an all-reduce left running by an abandoned step");
    } catch (const std::exception& e) {
      abort_job(e.what());
    }
  }
}

void DistributedDataParallel::on_grad_ready(std::size_t k) {
  if (!sync_) return;  // no_sync: the gradient just accumulates locally
  Slot& s = slots_[k];
  if (s.ready)
    throw Error("dist::DistributedDataParallel",
                fmt::format("parameter '{}' received a second gradient before "
                            "finish_gradient_sync(): run one backward per step, or accumulate "
                            "inside no_sync()",
                            s.name));
  const Tensor grad = s.param.grad();
  if (!grad.defined())
    throw Error("dist::DistributedDataParallel",
                fmt::format("no gradient reached parameter '{}' on rank {}", s.name, rank()));
  Bucket& b = *buckets_[s.bucket];
  const std::size_t n = static_cast<std::size_t>(grad.numel());
  char* dst = static_cast<char*>(b.data()) + s.offset * b.element_size();
  if (b.dtype == Dtype::Float32) {
    std::memcpy(dst, grad.data_ptr<float>(), n * 4);
  } else {
    std::memcpy(dst, grad.data_ptr<double>(), n * 8);
  }
  s.ready = true;
  ++ready_params_;
  --b.pending;
  start_ready_buckets();
  // MPI moves non-blocking collectives along only inside MPI calls: give them a turn.
  for (std::size_t i = 0; i < next_to_start_; ++i) detail::poke(buckets_[i]->request);
}

void DistributedDataParallel::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_]->pending == 0) {
    Bucket& b = *buckets_[next_to_start_];
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, b.data(), static_cast<int>(b.elements),
                                 detail::mpi_type(b.dtype), MPI_SUM, MPI_COMM_WORLD, &b.request),
                  "MPI_Iallreduce");
    launches_in_progress_.push_back({next_to_start_, ready_params_});
    ++next_to_start_;
  }
}

bool DistributedDataParallel::finish_gradient_sync() {
  if (ready_params_ == 0) return false;
  if (ready_params_ < slots_.size()) {
    std::string missing;
    for (const Slot& s : slots_)
      if (!s.ready) missing += (missing.empty() ? "'" : ", '") + s.name + "'";
    throw Error("dist::DistributedDataParallel",
                fmt::format("rank {}: backward reached {} of {} parameters; no gradient for {}. "
                            "Every parameter must take part in every step",
                            rank(), ready_params_, slots_.size(), missing));
  }
  const auto start = std::chrono::steady_clock::now();
  const double scale = 1.0 / world_size();
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    Bucket& b = *buckets_[i];
    detail::wait(b.request, fmt::format("the all-reduce of gradient bucket {} ({} bytes)", i,
                                        b.elements * b.element_size()));
    for (std::size_t k : b.slots) {
      Slot& s = slots_[k];
      Tensor grad = s.param.grad();
      with_data(grad, [&](auto* out) {
        using T = std::remove_pointer_t<decltype(out)>;
        const T* in = static_cast<const T*>(b.data()) + s.offset;
        const T factor = static_cast<T>(scale);
        for (std::int64_t j = 0, n = grad.numel(); j < n; ++j) out[j] = in[j] * factor;
      });
      s.ready = false;
    }
    b.pending = b.slots.size();
  }
  last_wait_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  launches_ = std::move(launches_in_progress_);
  launches_in_progress_.clear();
  next_to_start_ = 0;
  ready_params_ = 0;
  return true;
}

std::vector<DistributedDataParallel::BucketInfo> DistributedDataParallel::buckets() const {
  std::vector<BucketInfo> out;
  for (const auto& b : buckets_) {
    BucketInfo info;
    for (std::size_t k : b->slots) info.params.push_back(slots_[k].name);
    info.bytes = b->elements * b->element_size();
    out.push_back(std::move(info));
  }
  return out;
}

std::size_t DistributedDataParallel::gradient_bytes() const {
  std::size_t total = 0;
  for (const auto& b : buckets_) total += b->elements * b->element_size();
  return total;
}

}  // namespace ag::dist
