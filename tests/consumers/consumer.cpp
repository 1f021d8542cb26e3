// The consumer of an installed async_generator (scripts/consumers.sh builds it three ways:
// pkg-config, CMake's find_package, a meson subproject). Prints "consumer: 0 1 2".
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <string>

namespace ag = async_generator;

// async def count(to):
//     for i in range(to):
//         yield i
const auto count = ag::make_generator_function<int>([](ag::context<int> co, int to) {
  for (int i = 0; i < to; ++i) ag::yield_(co, i);
});

int main() {
  asio::io_context io;
  std::string line = "consumer:";
  auto gen = count(io, 3);
  // async for v in gen: (callback code, which every supported Asio has)
  ag::async_for_each(gen, [&](int v) { line += " " + std::to_string(v); }, [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  std::printf("%s\n", line.c_str());
  return line == "consumer: 0 1 2" ? 0 : 1;
}
