#pragma once
// ag::Tape: an opt-in arena for scalar graphs (Stan Math's design).
//
//   ag::Value w = 0.5;                 // made before the scope: keeps working, gets gradients
//   {
//     ag::Tape tape;                   // Values made on this thread from here on go on the tape
//     ag::Value x = 2.0;
//     ag::Value y = x * w + 1.0;
//     y.backward();                    // one reverse sweep over the tape, no graph walk
//     double dw = w.grad();            // 2
//   }                                  // every node of the scope is freed at once
//
// While a Tape lives, every Value the thread creates is bump-allocated in the thread's tape,
// in creation order. Creation order is a topological order, so backward() of a Value on the
// tape is one reverse sweep from that Value back to the last node it reaches. Values,
// gradients, errors, retain_graph, create_graph and NoGradGuard behave exactly as without a
// tape. Tensors are not put on the tape.
//
// Rules (docs/tape.md):
//  - Scopes nest (at most 32 deep): an inner scope frees only what it created; its nodes may
//    use the outer scopes' nodes and Values made before any scope (which the tape keeps alive
//    while it uses them, and which receive gradients).
//  - A Value of the tape that outlives its scope is expired: data(), grad(), grad_value() and
//    detach() still read the numbers it had; every other use (an op, backward, set_data,
//    Tensor(value)) throws ag::Error. Its memory is kept until its last handle dies (never a
//    dangling pointer), and the scope's end costs a scan of the scope's nodes: keep results as
//    doubles instead.
//  - An exception thrown inside a scope unwinds through it: the scope ends and frees its nodes.
//  - Each thread has its own tape; a Value of one thread's tape used in an op or a backward on
//    another thread throws ag::Error.
//  - Scopes end in the reverse order of their creation, on their thread (as stack objects do);
//    anything else aborts the program with a message.
#include <cstddef>

namespace ag {

class Tape {
 public:
  Tape();
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // True while a Tape lives on the calling thread.
  static bool active() noexcept;
  // Nodes recorded on this thread's tape since this scope began (inner scopes' included).
  std::size_t size() const noexcept;

 private:
  int level_;
};

}  // namespace ag
