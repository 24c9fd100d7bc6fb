// The main of every suite (ag_test_main: ag_add_test's and test_dist, tests/CMakeLists.txt). The
// suites' own files define no BOOST_TEST_MODULE: they share this one main, and with it the
// precompiled headers (tests/precompiled.hpp), which a module name defined before them would
// change. Each run is named after its executable ("test_value"), as the module name named it
// before.
#include <boost/test/unit_test.hpp>
#include <filesystem>

namespace {

bool name_after_executable() {
  auto& master = boost::unit_test::framework::master_test_suite();
  if (master.argc > 0) master.p_name.value = std::filesystem::path(master.argv[0]).filename();
  return true;
}

}  // namespace

int main(int argc, char* argv[]) {
  return boost::unit_test::unit_test_main(&name_after_executable, argc, argv);
}
