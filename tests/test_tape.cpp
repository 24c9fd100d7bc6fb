// ag::Tape (autograd/tape.hpp): the same values, gradients and errors as the dynamic graph;
// scopes that nest, unwind and end with handles outstanding; one tape per thread.

#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using ag::Tape;
using ag::Value;

namespace {

// The 10-node graph of the benchmarks: g = ((a + b) - (a*b + b^3))^2 / 2.
struct Tiny {
  double g, a_grad, b_grad, c_grad;
};
Tiny tiny(Value& a, Value& b) {
  auto c = a + b;
  auto d = a * b + pow(b, 3.0);
  auto e = c - d;
  auto f = pow(e, 2.0);
  auto g = f / 2.0;
  g.backward();
  return {g.data(), a.grad(), b.grad(), c.grad()};
}

// A random straight-line program over Values: node i is a leaf or an op of earlier nodes.
// Leaves with index < outside are made before the scope (parameters). Every op stays in its
// smooth interior (positive arguments for log/sqrt, no relu kink near 0).
struct Program {
  struct Step {
    int op;
    int a, b;
    double c;
  };
  std::vector<double> leaves;
  std::vector<Step> steps;
};

Program random_program(std::uint32_t seed, int n_leaves, int n_ops) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> value(0.3, 1.7);
  Program p;
  for (int i = 0; i < n_leaves; ++i) p.leaves.push_back(value(rng));
  for (int i = 0; i < n_ops; ++i) {
    const int n = n_leaves + i;
    std::uniform_int_distribution<int> pick(std::max(0, n - 6), n - 1);  // mostly recent
    std::uniform_int_distribution<int> any(0, n - 1);
    p.steps.push_back({static_cast<int>(rng() % 9), pick(rng), any(rng), value(rng)});
  }
  return p;
}

// Runs the program; returns the output and fills `all` with every node (leaves first).
Value run_program(const Program& p, std::vector<Value>& all) {
  for (const auto& s : p.steps) {
    const Value& a = all[s.a];
    const Value& b = all[s.b];
    Value r;
    switch (s.op) {
      case 0:
        r = a + b;
        break;
      case 1:
        r = a - b * 0.5;
        break;
      case 2:
        r = a * b;
        break;
      case 3:
        r = a / (b * b + 1.0);
        break;
      case 4:
        r = tanh(a) * s.c;
        break;
      case 5:
        r = log(a * a + 1.0);
        break;
      case 6:
        r = pow(a * a + 0.5, s.c);
        break;
      case 7:
        r = sin(a) + exp(b * 0.1);
        break;
      default:
        r = sqrt(a * a + b * b + 0.1);
        break;
    }
    // Keep magnitudes moderate so that finite differences stay accurate.
    all.push_back(r.data() > 50.0 || r.data() < -50.0 ? tanh(r) : r);
  }
  Value out = all.back();
  for (std::size_t i = p.leaves.size(); i + 1 < all.size(); ++i) out = out + all[i] * 0.01;
  return out;
}

void check_close(double got, double want, const std::string& what) {
  BOOST_TEST_CONTEXT(what) { BOOST_TEST(std::abs(got - want) <= 1e-11 * (1.0 + std::abs(want))); }
}

}  // namespace

BOOST_AUTO_TEST_CASE(tiny_graph_matches_the_dynamic_graph_and_hand_values) {
  Value a0(-41.0), b0(2.0);
  const Tiny dynamic = tiny(a0, b0);
  // By hand: c = -39, d = -74, e = 35, g = 612.5; dg/da = e (1 - b) = -35,
  // dg/db = e (1 - a - 3 b^2) = 35 * 30 = 1050, dg/dc = e = 35.
  BOOST_TEST(dynamic.g == 612.5);
  BOOST_TEST(dynamic.a_grad == -35.0);
  BOOST_TEST(dynamic.b_grad == 1050.0);
  BOOST_TEST(dynamic.c_grad == 35.0);
  for (int repeat = 0; repeat < 3; ++repeat) {
    Tape tape;
    BOOST_TEST(Tape::active());
    Value a(-41.0), b(2.0);
    const Tiny taped = tiny(a, b);
    BOOST_TEST(taped.g == dynamic.g);
    BOOST_TEST(taped.a_grad == dynamic.a_grad);
    BOOST_TEST(taped.b_grad == dynamic.b_grad);
    BOOST_TEST(taped.c_grad == dynamic.c_grad);
    BOOST_TEST(tape.size() == 2u + 7u);  // two leaves, 7 ops (a*b and b^3 included)
  }
  BOOST_TEST(!Tape::active());
}

BOOST_AUTO_TEST_CASE(random_programs_match_the_dynamic_graph_and_finite_differences) {
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    const Program p = random_program(seed, 4, 25);
    const std::size_t outside = 2;  // leaves 0 and 1 are parameters made before the scope
    std::vector<Value> dyn;
    for (double v : p.leaves) dyn.emplace_back(v);
    Value out = run_program(p, dyn);
    out.backward();
    std::vector<Value> params = {Value(p.leaves[0]), Value(p.leaves[1])};
    std::vector<double> taped_grads, taped_intermediates;
    double taped_out = 0.0;
    {
      Tape tape;
      std::vector<Value> all = params;
      for (std::size_t i = outside; i < p.leaves.size(); ++i) all.emplace_back(p.leaves[i]);
      Value t_out = run_program(p, all);
      t_out.backward();
      taped_out = t_out.data();
      for (std::size_t i = 0; i < p.leaves.size(); ++i) taped_grads.push_back(all[i].grad());
      for (std::size_t i = p.leaves.size(); i < all.size(); ++i) {
        taped_intermediates.push_back(all[i].grad());
      }
    }
    const std::string ctx = "seed " + std::to_string(seed);
    BOOST_TEST_CONTEXT(ctx) { BOOST_TEST(taped_out == out.data()); }
    for (std::size_t i = 0; i < p.leaves.size(); ++i) {
      check_close(taped_grads[i], dyn[i].grad(), ctx + " leaf " + std::to_string(i));
    }
    for (std::size_t i = 0; i < taped_intermediates.size(); ++i) {
      check_close(taped_intermediates[i], dyn[p.leaves.size() + i].grad(),
                  ctx + " node " + std::to_string(i));
    }
    // Parameters kept their gradients after the scope.
    check_close(params[0].grad(), dyn[0].grad(), ctx + " parameter 0 after the scope");
    // Central differences on every leaf (the program is smooth where it is evaluated).
    if (seed % 6 == 0) {
      for (std::size_t i = 0; i < p.leaves.size(); ++i) {
        auto f = [&](double delta) {
          Tape tape;
          std::vector<Value> all;
          for (std::size_t j = 0; j < p.leaves.size(); ++j) {
            all.emplace_back(p.leaves[j] + (j == i ? delta : 0.0));
          }
          return run_program(p, all).data();
        };
        const double h = 1e-6, fd = (f(h) - f(-h)) / (2 * h);
        BOOST_TEST_CONTEXT(ctx << " leaf " << i) {
          BOOST_TEST(std::abs(fd - dyn[i].grad()) <= 1e-5 * (1.0 + std::abs(fd)));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(backward_twice_and_a_second_output) {
  Value x = 3.0;
  Tape tape;
  Value h = x * x;  // dh/dx = 6
  Value y = h * 2;  // dy/dh = 2
  y.backward();
  BOOST_TEST(x.grad() == 12.0);
  BOOST_TEST(h.grad() == 2.0);
  y.backward();  // scalar graphs keep what backward needs: a second pass accumulates leaves
  BOOST_TEST(x.grad() == 24.0);
  BOOST_TEST(h.grad() == 2.0);  // intermediates are reset, never stale
  y.backward(/*retain_graph=*/true);
  BOOST_TEST(x.grad() == 36.0);
  Value z = h + 1.0;  // another output sharing h: h's gradient is z's now
  z.backward();
  BOOST_TEST(h.grad() == 1.0);
  BOOST_TEST(x.grad() == 42.0);
  BOOST_TEST(y.grad() == 1.0);  // not reached by z's pass: untouched, as without a tape
  x.zero_grad();
  x.backward();  // a leaf output accumulates 1
  BOOST_TEST(x.grad() == 1.0);
}

BOOST_AUTO_TEST_CASE(no_grad_and_errors_are_the_dynamic_graphs) {
  Tape tape;
  Value x = 2.0;
  Value y;
  {
    ag::NoGradGuard no_grad;
    y = x * 3;
  }
  BOOST_TEST(y.data() == 6.0);
  BOOST_TEST(y.is_leaf());
  std::string dynamic_message, taped_message;
  try {
    y.backward();
  } catch (const ag::Error& e) {
    taped_message = e.what();
  }
  BOOST_TEST(taped_message.find("does not require grad") != std::string::npos);
  BOOST_CHECK_THROW(log(Value(-1.0)), ag::Error);
  // set_data after recording: refused before any rule runs, leaf gradient untouched.
  Value w = 1.5;
  Value z = w * x;
  w.set_data(2.0);
  BOOST_CHECK_THROW(z.backward(), ag::Error);
  BOOST_TEST(w.grad() == 0.0);
  BOOST_TEST(x.grad() == 0.0);
}

BOOST_AUTO_TEST_CASE(create_graph_on_a_tape_matches_the_dynamic_graph) {
  auto second_derivative = [](bool taped) {
    std::optional<Tape> tape;
    if (taped) tape.emplace();
    Value x = 0.7;
    Value y = pow(x, 3.0) * sin(x);
    auto g = ag::grad(y, {x}, /*retain_graph=*/false, /*create_graph=*/true);
    auto h = ag::grad(g[0], {x});
    return std::pair{g[0].data(), h[0].data()};
  };
  const auto [g_dyn, h_dyn] = second_derivative(false);
  const auto [g_tape, h_tape] = second_derivative(true);
  const double x = 0.7;
  BOOST_TEST(std::abs(g_dyn - (3 * x * x * std::sin(x) + x * x * x * std::cos(x))) < 1e-12);
  BOOST_TEST(g_tape == g_dyn);
  BOOST_TEST(h_tape == h_dyn);
}

BOOST_AUTO_TEST_CASE(nested_scopes_free_their_own_nodes) {
  Value w = 2.0;  // a parameter
  Tape outer;
  Value x = 3.0;
  Value h = x * w;  // outer node
  {
    Tape inner;
    Value y = h * h + w;  // inner nodes use the outer scope's and the parameter
    BOOST_TEST(inner.size() == 2u);
    BOOST_TEST(outer.size() == 4u);
    y.backward();
    // y = (x w)^2 + w: dy/dx = 2 x w^2 = 24, dy/dw = 2 x^2 w + 1 = 37
    BOOST_TEST(x.grad() == 24.0);
    BOOST_TEST(w.grad() == 37.0);
  }
  BOOST_TEST(outer.size() == 2u);  // the inner scope's nodes are gone
  BOOST_TEST(Tape::active());
  Value z = h * 10.0;  // the outer scope goes on, reusing the inner scope's memory
  z.backward();
  BOOST_TEST(x.grad() == 24.0 + 20.0);
  BOOST_TEST(w.grad() == 37.0 + 30.0);
}

BOOST_AUTO_TEST_CASE(an_exception_inside_a_scope_ends_it) {
  Value w = 2.0;
  try {
    Tape tape;
    Value x = w * 3.0;
    Value bad = log(x - 10.0);  // throws: outside log's domain
    BOOST_FAIL("log of a negative number did not throw");
  } catch (const ag::Error& e) {
    BOOST_TEST(std::string(e.what()).find("log") != std::string::npos);
  }
  BOOST_TEST(!Tape::active());
  Value y = w * w;  // the dynamic graph works as before, and so does a new scope
  y.backward();
  BOOST_TEST(w.grad() == 4.0);
  Tape tape;
  (w * 5.0).backward();
  BOOST_TEST(w.grad() == 9.0);
}

BOOST_AUTO_TEST_CASE(handles_that_outlive_their_scope_are_errors) {
  Value w = 2.0;
  std::optional<Value> escaped, leaf;
  {
    Tape tape;
    Value x = 1.5;
    Value y = x * w + 1.0;
    y.backward();
    escaped = y;
    leaf = x;
    Value temp = y * y;  // dies with the scope, with the rest
  }
  BOOST_TEST(escaped->data() == 4.0);  // the numbers stay readable
  BOOST_TEST(escaped->grad() == 1.0);
  BOOST_TEST(leaf->grad() == 2.0);
  BOOST_TEST(w.grad() == 1.5);
  auto throws_tape_error = [](const std::function<void()>& use) {
    try {
      use();
    } catch (const ag::Error& e) {
      return std::string(e.what()).find("scope has ended") != std::string::npos;
    }
    return false;
  };
  BOOST_TEST(throws_tape_error([&] { (void)(*escaped + 1.0); }));
  BOOST_TEST(throws_tape_error([&] { (void)(w * *escaped); }));
  BOOST_TEST(throws_tape_error([&] { escaped->backward(); }));
  BOOST_TEST(throws_tape_error([&] { leaf->set_data(3.0); }));
  BOOST_TEST(throws_tape_error([&] { (void)ag::Tensor(*leaf); }));
  {
    Tape another;  // also inside a later scope
    BOOST_TEST(throws_tape_error([&] { (void)exp(*escaped); }));
  }
  Value copy = *escaped;  // copies are handles too; the memory lives until the last dies
  escaped.reset();
  BOOST_TEST(copy.data() == 4.0);
  BOOST_TEST(copy.detach().data() == 4.0);
  leaf.reset();
  // An escaping inner-scope handle inside an outer scope: same rules, the outer goes on.
  Tape outer;
  Value a = 1.0;
  std::optional<Value> inner_escape;
  {
    Tape inner;
    inner_escape = a * 2.0;
  }
  BOOST_TEST(throws_tape_error([&] { (void)(*inner_escape * a); }));
  Value b = a * 4.0;
  b.backward();
  BOOST_TEST(a.grad() == 4.0);
}

BOOST_AUTO_TEST_CASE(labels_and_pictures_of_tape_nodes) {
  Tape tape;
  Value x(2.0, "x");
  Value y = (x * x).set_label("y");
  BOOST_TEST(y.label() == "y");
  const std::vector<ag::GraphRoot> roots{y};
  const std::string dot = ag::to_dot(roots);
  BOOST_TEST(dot.find("\"x") != std::string::npos);
  BOOST_TEST(ag::graph_size(roots) == 2u);
  BOOST_TEST(ag::collect_graph(roots).size() == 2u);  // handles to every node, dropped here
}

BOOST_AUTO_TEST_CASE(each_thread_has_its_own_tape) {
  std::vector<double> grads(2, 0.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([t, &grads] {
      Value w = 1.0 + t;
      for (int step = 0; step < 200; ++step) {
        Tape tape;
        Value x = 3.0;
        Value y = x * w * w;
        y.backward();  // dy/dw = 2 x w
      }
      grads[t] = w.grad();
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(grads[0] == 200 * 6.0);
  BOOST_TEST(grads[1] == 200 * 12.0);

  // A Value of this thread's open tape used on another thread: an error there.
  Tape tape;
  Value mine = Value(2.0) * 3.0;
  std::string message;
  std::thread other([&] {
    try {
      (void)(mine + 1.0);
    } catch (const ag::Error& e) {
      message = e.what();
    }
  });
  other.join();
  BOOST_TEST(message.find("another thread") != std::string::npos);
  BOOST_TEST(mine.data() == 6.0);
}

BOOST_AUTO_TEST_CASE(escapes_across_chunks_and_nested_scopes) {
  // Inner scopes that span several 2 MiB chunks and leave handles behind in the first chunk
  // (shared with the outer scope) and in later ones; the outer scope keeps working over them.
  Value w = 1.0;
  std::vector<Value> escaped;
  Tape outer;
  Value x = 0.5;
  Value h = x * w;
  for (int round = 0; round < 3; ++round) {
    x.zero_grad();
    {
      Tape inner;
      Value y = h * 2.0;
      escaped.push_back(y);  // in the chunk the outer scope shares
      for (int i = 0; i < 120'000; ++i) y = y * 1.0 + 0.0;
      escaped.push_back(y);  // in a later chunk
      y.backward();
      BOOST_TEST(x.grad() == 2.0);  // dy/dx = 2 w
    }
    if (round == 0) BOOST_TEST(outer.size() == 3u);  // x, h and the expired y kept in place
    for (int i = 0; i < 150'000; ++i) h = h + 0.0;   // the outer scope grows over the space
    h.backward();
    BOOST_TEST(x.grad() == 3.0);
    BOOST_TEST(w.grad() == 3.0 * 0.5 * (round + 1));
  }
  for (const Value& e : escaped) BOOST_CHECK_THROW((void)(e * 2.0), ag::Error);
  BOOST_TEST(escaped[1].data() == 1.0);  // y = 2 x w
  escaped.clear();                       // the kept chunks go back here
}
