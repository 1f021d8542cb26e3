// PEP 525's resilient: athrow raises an exception inside the generator, which recovers.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace ag = async_generator;

const auto resilient = ag::make_generator_function<std::string>([](ag::context<std::string> co) {
  int count = 0;
  asio::steady_timer timer(co.get_executor());
  try {
    for (;;) {
      ++count;
      timer.expires_after(std::chrono::milliseconds(10));
      timer.async_wait(co);
      ag::yield_(co, "item-" + std::to_string(count));
    }
  } catch (const std::invalid_argument&) {  // Python's ValueError
    std::printf("Caught ValueError, continuing\n");
  }
  ag::yield_(co, std::string("recovered"));  // outside the catch block: a yield switches fibers
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto gen = resilient(io);
    std::printf("%s\n", gen.anext(yield).c_str());  // item-1
    std::printf("%s\n", gen.athrow(std::make_exception_ptr(std::invalid_argument("bad")), yield).c_str());
  }, asio::detached);
  io.run();
}
