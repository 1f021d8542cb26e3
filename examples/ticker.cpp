// PEP 525's ticker: yield numbers from 0 to `to` every `delay`.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <cstdio>

namespace ag = async_generator;

// async def ticker(delay, to):
//     for i in range(to):
//         yield i
//         await asyncio.sleep(delay)
const auto ticker = ag::make_generator_function<int>([](ag::context<int> co, std::chrono::milliseconds delay, int to) {
  asio::steady_timer timer(co.get_executor());
  for (int i = 0; i < to; ++i) {
    ag::yield_(co, i);
    timer.expires_after(delay);
    timer.async_wait(co);
  }
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto gen = ticker(io, std::chrono::milliseconds(10), 5);
    for (int value : ag::aiter(gen, yield)) std::printf("%d\n", value);  // async for value in ticker(...)
  }, asio::detached);
  io.run();
}
