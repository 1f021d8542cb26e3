// PEP 525's file_processor: iteration broken off early; closing the generator still runs its cleanup.
#include <async_generator.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <string>

namespace ag = async_generator;
namespace asio = boost::asio;

const auto file_processor = ag::make_generator_function<int>([](ag::context<int> co) {
  std::printf("Opening file connection\n");
  const std::string file_handle = "file.txt";  // a simulated resource
  asio::steady_timer timer(co.get_executor());
  try {
    for (int i = 0; i < 1000; ++i) {
      timer.expires_after(std::chrono::milliseconds(1));
      timer.async_wait(co);
      ag::yield_(co, i * i);
    }
  } catch (...) {  // finally:
    std::printf("Closing %s\n", file_handle.c_str());
    timer.expires_after(std::chrono::milliseconds(1));
    timer.async_wait(co);
    throw;
  }
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto gen = file_processor(io);
    for (int i : ag::aiter(gen, yield)) {
      std::printf("%d\n", i);
      if (i == 100) break;  // "Closing file.txt" still prints: the generator is closed below
    }
    gen.aclose(yield);  // explicit close, as Python's guidance asks (aclosing comes with its own issue)
  }, asio::detached);
  io.run();
}
