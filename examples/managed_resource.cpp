// PEP 525's managed_resource: aclose runs the cleanup, which itself awaits.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <exception>

namespace ag = async_generator;

void sleep_for(ag::context<int> co, int ms) {
  asio::steady_timer timer(co.get_executor(), std::chrono::milliseconds(ms));
  timer.async_wait(co);
}

const auto managed_resource = ag::make_generator_function<int>([](ag::context<int> co) {
  std::printf("Opening resource\n");
  sleep_for(co, 10);
  std::exception_ptr raised;
  try {
    for (int i = 0; i < 10; ++i) {
      ag::yield_(co, i);
      sleep_for(co, 10);
    }
  } catch (...) {
    raised = std::current_exception();  // the cleanup awaits: never inside a catch block
  }
  // finally:
  std::printf("Closing resource\n");
  sleep_for(co, 10);
  if (raised) std::rethrow_exception(raised);
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto gen = managed_resource(io);
    std::printf("%d\n", gen.anext(yield));  // Opening resource / 0
    std::printf("%d\n", gen.anext(yield));  // 1
    gen.aclose(yield);                      // Closing resource
  }, asio::detached);
  io.run();
}
