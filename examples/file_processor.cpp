// PEP 525's file_processor: iteration broken off early; closing the generator still runs its cleanup.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <exception>
#include <string>

namespace ag = async_generator;

const auto file_processor = ag::make_generator_function<int>([](ag::context<int> co) {
  std::printf("Opening file connection\n");
  const std::string file_handle = "file.txt";  // a simulated resource
  asio::steady_timer timer(co.get_executor());
  std::exception_ptr raised;
  try {
    for (int i = 0; i < 1000; ++i) {
      timer.expires_after(std::chrono::milliseconds(1));
      timer.async_wait(co);
      ag::yield_(co, i * i);
    }
  } catch (...) {
    raised = std::current_exception();  // the cleanup awaits: never inside a catch block
  }
  // finally:
  std::printf("Closing %s\n", file_handle.c_str());
  timer.expires_after(std::chrono::milliseconds(1));
  timer.async_wait(co);
  if (raised) std::rethrow_exception(raised);
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    // async with aclosing(file_processor()) as gen: the generator is closed however the block ends.
    ag::async_with(ag::aclosing(file_processor(io)), yield, [&](ag::async_generator<int>& gen) {
      for (int i : ag::aiter(gen, yield)) {
        std::printf("%d\n", i);
        if (i == 100) break;  // "Closing file.txt" still prints: aclosing closes the generator
      }
    });
  }, asio::detached);
  io.run();
}
