// The consumer of an installed async_generator (scripts/consumers.sh builds it three ways:
// pkg-config, CMake's find_package, a meson subproject). Prints "consumer: 0 1 2".
#include <async_generator.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/spawn.hpp>

#include <cstdio>
#include <string>

namespace ag = async_generator;
namespace asio = boost::asio;

// async def count(to):
//     for i in range(to):
//         yield i
const auto count = ag::make_generator_function<int>([](ag::context<int> co, int to) {
  for (int i = 0; i < to; ++i) ag::yield_(co, i);
});

int main() {
  asio::io_context io;
  std::string line = "consumer:";
  asio::spawn(io, [&](asio::yield_context yield) {
    auto gen = count(io, 3);
    for (int v : ag::aiter(gen, yield)) line += " " + std::to_string(v);  // async for v in gen:
  }, asio::detached);
  io.run();
  std::printf("%s\n", line.c_str());
  return line == "consumer: 0 1 2" ? 0 : 1;
}
