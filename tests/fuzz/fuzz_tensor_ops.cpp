// libFuzzer target: byte strings drive the public tensor API. Each input is a program for a
// small machine holding up to 8 tensors: it makes tensors (shapes with size-0 dims, both
// dtypes, with or without requires_grad, and shapes too large to exist), applies ops with
// dims and constants taken from the bytes, and runs backward. Properties: the only exception
// that ever escapes an op is ag::Error; results have the shapes the op defines; gradients
// have their leaf's shape; nothing crashes, leaks or reads out of bounds (ASan + UBSan).
// Also built into a corpus-replay program for CTest.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "autograd/autograd.hpp"

namespace {

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  std::int64_t small(int n) { return next() % n; }  // [0, n)
  std::int64_t dim_index(std::int64_t rank) {
    return small(static_cast<int>(2 * rank + 3)) - rank - 1;
  }
  double value() { return (static_cast<double>(next()) - 128.0) / 16.0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

void require(bool ok) {
  if (!ok) __builtin_trap();
}

ag::Shape make_shape(Bytes& in) {
  if (in.small(16) == 0) {  // occasionally a shape whose element count overflows
    return {std::int64_t{1} << 31, std::int64_t{1} << 31, in.small(2) + 1};
  }
  ag::Shape shape(static_cast<std::size_t>(in.small(4)));
  for (auto& d : shape) d = in.small(4);  // 0 .. 3: size-0 dims are common
  return shape;
}

ag::Tensor make_tensor(Bytes& in) {
  const ag::Shape shape = make_shape(in);
  const ag::Dtype dtype = in.small(4) == 0 ? ag::float32 : ag::float64;
  ag::Tensor t = ag::zeros(shape, dtype);  // throws for the overflowing shapes
  std::vector<double> values(static_cast<std::size_t>(t.numel()));
  for (double& v : values) v = in.value();
  t = ag::tensor(values, shape, dtype);
  if (in.small(3) != 0) t.requires_grad_();
  return t;
}

ag::Tensor unary(Bytes& in, const ag::Tensor& x) {
  switch (in.small(12)) {
    case 0:
      return x.exp();
    case 1:
      return x.log();
    case 2:
      return x.sqrt();
    case 3:
      return x.tanh();
    case 4:
      return x.sigmoid();
    case 5:
      return x.relu();
    case 6:
      return x.abs();
    case 7:
      return -x;
    case 8:
      return x.pow(static_cast<double>(in.small(7)) - 3.0);
    case 9:
      return ag::clamp(x, in.value(), in.value());
    case 10:
      return x * in.value();
    default:
      return x.clone();
  }
}

ag::Tensor binary(Bytes& in, const ag::Tensor& a, const ag::Tensor& b) {
  switch (in.small(5)) {
    case 0:
      return a + b;
    case 1:
      return a - b;
    case 2:
      return a * b;
    case 3:
      return a / b;
    default:
      return ag::pow(a, b);
  }
}

ag::Tensor reduce(Bytes& in, const ag::Tensor& x) {
  const bool keepdim = in.small(2) == 1;
  const std::int64_t dim = in.dim_index(x.dim());
  switch (in.small(6)) {
    case 0: {
      ag::Tensor s = x.sum();
      require(s.dim() == 0);
      if (x.numel() == 0) require(s.item() == 0.0);
      return s;
    }
    case 1:
      return x.mean();
    case 2:
      return x.max();
    case 3: {
      ag::Tensor s = x.sum(dim, keepdim);
      require(s.dim() == (keepdim ? x.dim() : x.dim() - 1));
      return s;
    }
    case 4:
      return x.mean(dim, keepdim);
    default:
      return x.max(dim, keepdim);
  }
}

ag::Tensor shape_op(Bytes& in, const ag::Tensor& x, const ag::Tensor& y) {
  switch (in.small(5)) {
    case 0: {
      ag::Shape shape(static_cast<std::size_t>(in.small(4)));
      for (auto& d : shape) d = in.small(5) - 1;  // -1 .. 3
      ag::Tensor r = x.reshape(shape);
      require(r.numel() == x.numel());
      return r;
    }
    case 1: {
      ag::Tensor r = x.transpose(in.dim_index(x.dim()), in.dim_index(x.dim()));
      require(r.numel() == x.numel());
      return r;
    }
    case 2: {
      ag::Tensor r = ag::cat({x, y}, in.dim_index(x.dim()));
      require(r.numel() == x.numel() + y.numel());
      return r;
    }
    case 3:
      return ag::matmul(x, y);
    default:
      return ag::linear(
          x, y, in.small(2) ? ag::Tensor() : ag::ones({y.dim() == 2 ? y.size(1) : 1}, y.dtype()));
  }
}

ag::Tensor class_op(Bytes& in, const ag::Tensor& x) {
  const std::int64_t rows = x.dim() == 2 ? x.size(0) : 0;
  std::vector<std::int64_t> labels(static_cast<std::size_t>(rows));
  for (auto& l : labels) l = in.small(4);
  switch (in.small(5)) {
    case 0:
      return x.softmax(in.dim_index(x.dim()));
    case 1:
      return x.log_softmax(in.dim_index(x.dim()));
    case 2:
      return ag::pick(x, labels);
    case 3:
      return ag::cross_entropy(x, labels);
    default: {
      const std::int64_t dim = in.dim_index(x.dim());
      const auto index = ag::argmax(x, dim);
      const std::int64_t n = x.size(dim);  // argmax refuses an empty extent
      require(n > 0 && static_cast<std::int64_t>(index.size()) * n == x.numel());
      for (const auto i : index) require(i >= 0 && i < n);
      return x;
    }
  }
}

void backward(Bytes& in, const ag::Tensor& y, const std::vector<ag::Tensor>& pool) {
  if (!y.requires_grad()) return;
  if (y.numel() == 1 && y.dim() == 0) {
    y.backward(ag::Tensor(), in.small(2) == 1);
  } else {
    y.backward(ag::ones_like(y), in.small(2) == 1);
  }
  for (const ag::Tensor& t : pool) {
    if (t.defined() && t.is_leaf() && t.grad().defined()) require(t.grad().shape() == t.shape());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  std::vector<ag::Tensor> pool(8);
  auto pick_slot = [&] { return static_cast<std::size_t>(in.small(8)); };
  auto operand = [&]() -> const ag::Tensor& { return pool[pick_slot()]; };
  for (int steps = 0; !in.done() && steps < 64; ++steps) {
    const std::size_t out = pick_slot();
    try {
      switch (in.small(9)) {
        case 0:
          pool[out] = make_tensor(in);
          break;
        case 1:
          pool[out] = unary(in, operand());
          break;
        case 2:
          pool[out] = binary(in, operand(), operand());
          break;
        case 3:
          pool[out] = reduce(in, operand());
          break;
        case 4:
          pool[out] = shape_op(in, operand(), operand());
          break;
        case 5:
          pool[out] = class_op(in, operand());
          break;
        case 6:
          backward(in, operand(), pool);
          break;
        case 7: {
          const ag::Tensor& x = operand();
          pool[out] = in.small(2) ? x.detach() : x.to(in.small(2) ? ag::float32 : ag::float64);
          (void)ag::to_string(pool[out]);
          break;
        }
        default: {
          const ag::Tensor& x = operand();
          if (x.defined() && x.numel() == 1) (void)x.item();
          if (x.defined()) require(static_cast<std::int64_t>(x.to_vector().size()) == x.numel());
          if (x.defined() && x.dim() > 0) (void)x.size(in.dim_index(x.dim()));
          break;
        }
      }
    } catch (const ag::Error&) {
      // Refused: the only acceptable failure. Anything else escapes and crashes the run.
    }
  }
  return 0;
}
