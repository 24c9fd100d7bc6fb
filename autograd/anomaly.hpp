#pragma once
// Anomaly mode (off by default; per thread). While on, every op checks its result and backward
// checks every gradient it produces for NaN and Inf; the first one found throws ag::Error
// naming the op, its label and the shapes involved, e.g.
//   "ag::log: anomaly in the forward pass: output element 1 is -inf (input shapes [3])".
// It costs a scan of each result, so turn it on to find a NaN, not for training runs.
namespace ag {

bool anomaly_mode_enabled() noexcept;

class AnomalyModeGuard {
 public:
  explicit AnomalyModeGuard(bool on = true) noexcept;
  ~AnomalyModeGuard();
  AnomalyModeGuard(const AnomalyModeGuard&) = delete;
  AnomalyModeGuard& operator=(const AnomalyModeGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ag
