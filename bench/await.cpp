// A generator body awaiting an Asio operation: one asio::post(co) per item, against spawn_post.
#include "common.hpp"

#include <exception>

namespace bench {

double await_post() {
  const auto t0 = clock_type::now();
  asio::io_context io;
  auto gen = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    for (long i = 0; i < items; ++i) asio::post(co);
    ag::yield_(co, 0);
  });
  gen.anext([](std::exception_ptr, int) {});
  io.run();
  return ns_per_item(t0, clock_type::now());
}

}  // namespace bench
