// PEP 525's echo: asend pushes values into a generator.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <string>

namespace ag = async_generator;

// async def echo():
//     while True:
//         value = yield
//         print(f"Received: {value}")
const auto echo = ag::make_generator_function<int, std::string>([](ag::context<int, std::string> co) {
  for (;;) {
    auto value = ag::yield_(co);
    std::printf("Received: %s\n", value ? value->c_str() : "None");
  }
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto gen = echo(io);
    gen.anext(yield);            // prime the generator (asend(None))
    gen.asend("hello", yield);   // Received: hello
    gen.asend("world", yield);   // Received: world
    gen.aclose(yield);
  }, asio::detached);
  io.run();
}
