// User-defined ops (autograd/function.hpp): gradients against finite differences, the node
// they make, saved-tensor version checks, and the errors for a malformed backward.
#include <autograd/autograd.hpp>
#include <autograd/function.hpp>
#include <boost/test/unit_test.hpp>

using ag::Tensor;

namespace {

// x * y with hand-written gradients, saving both inputs.
struct Product : ag::Function<Product> {
  static constexpr const char* name = "product";
  static Tensor forward(ag::FunctionContext& ctx, const Tensor& x, const Tensor& y) {
    ctx.save_for_backward({x, y});
    return x * y;
  }
  static std::vector<Tensor> backward(ag::FunctionContext& ctx, const Tensor& g) {
    const auto saved = ctx.saved_tensors();
    return {g * saved[1], g * saved[0]};
  }
};

// exp(x) saving its output (as PyTorch's docs do).
struct Exp : ag::Function<Exp> {
  static constexpr const char* name = "my_exp";
  static Tensor forward(ag::FunctionContext& ctx, const Tensor& x) {
    Tensor y = ag::exp(x);
    ctx.save_for_backward({y});
    return y;
  }
  static std::vector<Tensor> backward(ag::FunctionContext& ctx, const Tensor& g) {
    return {g * ctx.saved_tensors()[0]};
  }
};

struct TooFew : ag::Function<TooFew> {
  static constexpr const char* name = "too_few";
  static Tensor forward(ag::FunctionContext&, const Tensor& x, const Tensor& y) { return x + y; }
  static std::vector<Tensor> backward(ag::FunctionContext&, const Tensor& g) { return {g}; }
};

struct WrongShape : ag::Function<WrongShape> {
  static constexpr const char* name = "wrong_shape";
  static Tensor forward(ag::FunctionContext&, const Tensor& x) { return x.sum(); }
  static std::vector<Tensor> backward(ag::FunctionContext&, const Tensor& g) { return {g}; }
};

struct Identity : ag::Function<Identity> {
  static constexpr const char* name = "identity";
  static Tensor forward(ag::FunctionContext&, const Tensor& x) { return x; }
  static std::vector<Tensor> backward(ag::FunctionContext&, const Tensor& g) { return {g}; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  ag::Generator gen(3);
  const std::vector<Tensor> xy = {ag::randn({2, 3}, gen, ag::float64),
                                  ag::randn({2, 3}, gen, ag::float64)};
  auto r =
      ag::gradcheck([](const std::vector<Tensor>& in) { return Product::apply(in[0], in[1]); }, xy);
  BOOST_TEST(r.ok, r.summary());
  r = ag::gradcheck([](const std::vector<Tensor>& in) { return Exp::apply(in[0]) * in[0]; },
                    {xy[0]});
  BOOST_TEST(r.ok, r.summary());
}

BOOST_AUTO_TEST_CASE(one_node_named_after_the_op) {
  Tensor x = ag::ones({2}, ag::float64).requires_grad_();
  Tensor y = Product::apply(x, x);
  const auto graph = ag::collect_graph({y});
  BOOST_TEST(graph.back().op == "product");
  y.sum().backward();
  BOOST_TEST(x.grad().to_vector() == (std::vector<double>{2.0, 2.0}));
  // Returning an input from forward still makes a fresh node (the input stays a leaf).
  Tensor z = Identity::apply(x);
  BOOST_TEST(x.is_leaf());
  BOOST_TEST(!z.is_leaf());
}

BOOST_AUTO_TEST_CASE(backward_refuses_a_saved_tensor_modified_in_place) {
  Tensor w = ag::tensor({1.0, 2.0}, ag::float64).requires_grad_();
  Tensor y = Product::apply(w, w).sum();
  w.mutable_data_ptr<double>()[0] = 3.0;  // after it was saved
  // The engine's own check (every recorded op's inputs) refuses first, naming the op.
  BOOST_CHECK_EXCEPTION(y.backward(), ag::Error, [](const ag::Error& e) {
    const std::string what = e.what();
    return what.find("'product'") != std::string::npos &&
           what.find("modified by an inplace operation") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(malformed_backward_is_an_error_naming_the_op) {
  Tensor x = ag::ones({2}, ag::float64).requires_grad_();
  BOOST_CHECK_EXCEPTION(TooFew::apply(x, x).sum().backward(), ag::Error,
                        [](const ag::Error& e) { return e.op() == "too_few"; });
  BOOST_CHECK_EXCEPTION(WrongShape::apply(x).backward(), ag::Error,
                        [](const ag::Error& e) { return e.op() == "wrong_shape"; });
  BOOST_CHECK_EXCEPTION(Product::apply(Tensor(), x), ag::Error,
                        [](const ag::Error& e) { return e.op() == "product"; });
}
