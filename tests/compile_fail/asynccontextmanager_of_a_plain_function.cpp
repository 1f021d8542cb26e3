// Python's test_asynccontextmanager_requires_asyncgenfunction: decorating something that is
// not an async generator function is refused when decorating; here, when compiling.
#include <async_generator.hpp>

namespace ag = async_generator;

void body(ag::context<int> co) { ag::yield_(co, 1); }

#ifdef COMPILE_FAIL_CONTROL
const auto manager = ag::asynccontextmanager(ag::make_generator_function<int>(body));
#else
const auto manager = ag::asynccontextmanager(body);
#endif

int main() {}
