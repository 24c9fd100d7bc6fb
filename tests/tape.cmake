# The scalar tape (autograd/tape.hpp): scopes, reverse-sweep backward, escaping handles.
ag_add_test(test_tape test_tape.cpp)
ag_add_test(test_tape_memory test_tape_memory.cpp)
find_package(Threads REQUIRED)
target_link_libraries(test_tape PRIVATE Threads::Threads)
