// ag_op_table: prints the op registry as text (tools/op_table_text.hpp). Run it after adding an
// op, then tools/make_torch_refs.py:
//   build/tools/ag_op_table > tests/data/op_table.txt
#include <iostream>

#include "op_table_text.hpp"

int main() {
  std::cout << ag::tools::op_table_text();
  return 0;
}
